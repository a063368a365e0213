import math

import numpy as np
import pytest
import torch

from srmri.degradation import Degradation
from srmri.evaluation.methods import baseline
from srmri.evaluation.reach import reach
from srmri.evaluation.rotation import frame_shape, margin, scored_region, turn
from srmri.models import WDSRA


def smooth(shape, seed):
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 1, shape[0] // 4, shape[1] // 4, generator=generator)
    return torch.nn.functional.interpolate(coarse, size=shape, mode="bilinear").clamp(0, 1)


def test_angle_zero_places_the_slice_unchanged_in_the_middle_of_the_frame():
    image = smooth((20, 28), 0)
    frame = frame_shape((20, 28), [0, 45], scale=2)
    placed = turn(image, [0.0], frame)
    top, left = (frame[0] - 20) // 2, (frame[1] - 28) // 2
    assert torch.equal(placed[..., top : top + 20, left : left + 28], image)
    assert placed.sum() == pytest.approx(image.sum().item(), rel=1e-6)


def test_quarter_turn_is_counter_clockwise_as_displayed():
    image = smooth((24, 24), 1)
    turned = turn(image, [90.0], (24, 24))
    # Displayed with row 0 on top, a counter-clockwise quarter turn is numpy's rot90.
    expected = np.rot90(image[0, 0].numpy())
    assert np.allclose(turned[0, 0].numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("angle", [18, 45, 90, 126, 333])
def test_frame_holds_the_whole_turned_slice(angle):
    shape = (32, 44)  # slices are cropped to multiples of the scale
    frame = frame_shape(shape, [0, angle], scale=4)
    # Larger by whole LR pixels on each side: at angle 0 the LR grid is the slice's own.
    assert (frame[0] - shape[0]) % 8 == 0 and (frame[1] - shape[1]) % 8 == 0
    # Every slice pixel centre, turned, falls inside the frame.
    theta = math.radians(angle)
    rows, cols = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    y, x = rows - (shape[0] - 1) / 2, cols - (shape[1] - 1) / 2
    turned_x = math.cos(theta) * x + math.sin(theta) * y
    turned_y = -math.sin(theta) * x + math.cos(theta) * y
    assert np.abs(turned_y).max() <= (frame[0] - 1) / 2 + 1e-9
    assert np.abs(turned_x).max() <= (frame[1] - 1) / 2 + 1e-9


def test_scored_region_is_the_same_anatomy_at_every_angle():
    shape, pad = (120, 168), 6.5
    frame = frame_shape(shape, [0, 30, 90], scale=2)
    counts = [int(scored_region(frame, shape, a, pad).sum()) for a in (0, 30, 90)]
    # A rectangle of (H - 2 * pad) x (W - 2 * pad) slice pixels, up to rasterisation.
    expected = (shape[0] - 2 * pad) * (shape[1] - 2 * pad)
    for count in counts:
        assert abs(count - expected) / expected < 0.02


@pytest.mark.parametrize("method_name", ["bicubic", "lanczos", "network"])
def test_the_fill_cannot_move_a_scored_pixel(method_name):
    """Whatever fills the frame around the turned slice, scored pixels change by <= tolerance."""
    scale, tolerance, shape = 2, 1e-3, (128, 144)
    degradation = Degradation(scale=scale)
    if method_name == "network":
        torch.manual_seed(0)
        network = WDSRA(scale, 1, n_blocks=2, n_feats=8, expansion=2).eval()
        upscale = network
    else:
        upscale = baseline(method_name, scale).upscale
    radius = reach(lambda hr: upscale(degradation(hr)), scale, tolerance, largest=256)
    pad = margin(radius)
    angles = [0.0, 18.0, 45.0, 117.0]
    frame = frame_shape(shape, angles, scale)
    hr = smooth(shape, 2).expand(len(angles), -1, -1, -1)
    with torch.no_grad():
        outputs = [
            upscale(degradation(turn(hr, angles, frame, fill=fill).clamp(0, 1)))
            for fill in (0.0, 1.0)
        ]
    for i, angle in enumerate(angles):
        region = scored_region(frame, shape, angle, pad)
        change = (outputs[0][i, 0] - outputs[1][i, 0]).abs()
        assert region.sum() > 0.2 * shape[0] * shape[1]
        assert float(change[region].max()) <= tolerance
        # The fill does reach the frame's unscored pixels: the region is not trivially safe.
        if angle:
            assert float(change.max()) > 0.05
