"""SliceProfile against NumPy/SciPy computations written here: the profile integrated over every HR
pixel (by quadrature for the Gaussian, by interval overlap for the rect), renormalised inside the
field of view, at sample centres placed by hand."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate, ndimage

from srmri.degradation import SliceProfile, build_degradation
from srmri.models.bspline import bspline_to_hr


def hr_image(h: int = 40, w: int = 6, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(2, 1, h, w, generator=generator, dtype=torch.float64)


def reference_weights(n_hr: int, thickness: float, spacing: float, profile: str) -> np.ndarray:
    """Row j: the profile centred on slab j's centre, integrated over each HR pixel."""
    n_lr = int(np.floor(n_hr / spacing + 1e-9))
    weights = np.zeros((n_lr, n_hr))
    for j in range(n_lr):
        # Slab j spans [j*spacing, (j+1)*spacing) from the edge; pixel i spans [i, i+1) there.
        centre = (j + 0.5) * spacing
        for i in range(n_hr):
            if profile == "rect":
                low, high = max(i, centre - thickness / 2), min(i + 1, centre + thickness / 2)
                weights[j, i] = max(high - low, 0.0)
            else:
                sigma = thickness / (2 * math.sqrt(2 * math.log(2)))
                weights[j, i] = integrate.quad(
                    lambda x, c=centre, s=sigma: math.exp(-((x - c) ** 2) / (2 * s**2)),
                    i,
                    i + 1,
                    epsabs=1e-13,
                )[0]
        weights[j] /= weights[j].sum()
    return weights


CASES = [
    # (thickness, spacing, profile): integer, non-integer, gap (spacing > thickness), overlap.
    (2.0, 2.0, "rect"),
    (3.0, 3.0, "gaussian"),
    (2.5, 4.44, "rect"),
    (2.5, 4.44, "gaussian"),
    (1.5, 3.0, "rect"),
    (1.0, 3.7, "gaussian"),
    (5.0, 2.0, "gaussian"),
]


@pytest.mark.parametrize(("thickness", "spacing", "profile"), CASES)
def test_lr_is_the_profile_integrated_and_sampled_along_h(thickness, spacing, profile):
    hr = hr_image()
    lr = SliceProfile(thickness, spacing, profile)(hr)
    matrix = reference_weights(40, thickness, spacing, profile)
    expected = np.einsum("ji,bciw->bcjw", matrix, hr.numpy())
    assert lr.shape == (2, 1, math.floor(40 / spacing), 6)
    np.testing.assert_allclose(lr.numpy(), expected, atol=1e-9)


@pytest.mark.parametrize(("thickness", "spacing", "profile"), CASES[2:4])
def test_axis_w_degrades_the_columns_and_leaves_the_rows(thickness, spacing, profile):
    hr = hr_image(h=5, w=40)
    lr = SliceProfile(thickness, spacing, profile, axis=-1)(hr)
    matrix = reference_weights(40, thickness, spacing, profile)
    np.testing.assert_allclose(lr.numpy(), hr.numpy() @ matrix.T, atol=1e-9)


def test_hand_computed_cases():
    hr = hr_image(h=12, w=1)
    line = hr[0, 0, :, 0].numpy()
    # thickness = spacing = 2: each LR sample is the mean of its two HR pixels.
    lr = SliceProfile(2, 2, "rect")(hr)[0, 0, :, 0].numpy()
    np.testing.assert_allclose(lr, line.reshape(6, 2).mean(axis=1), atol=1e-12)
    # Gap: slabs of 4 pixels, slices 2 thick at their centres: pixels 4j+1 and 4j+2 only.
    lr = SliceProfile(2, 4, "rect")(hr)[0, 0, :, 0].numpy()
    np.testing.assert_allclose(lr, (line[1::4] + line[2::4]) / 2, atol=1e-12)
    # Non-integer: slab 0 is [0, 2.5), centre 1.25 from the edge; a 1-pixel slice covers
    # [0.75, 1.75): a quarter of pixel 0 and three quarters of pixel 1.
    lr = SliceProfile(1, 2.5, "rect")(hr)[0, 0, :, 0].numpy()
    assert lr.shape == (4,)
    np.testing.assert_allclose(lr[0], 0.25 * line[0] + 0.75 * line[1], atol=1e-12)


@pytest.mark.parametrize(("spacing", "n_hr", "expected"), [(2, 10, 5), (3, 10, 3), (4.44, 40, 9)])
def test_declared_grid(spacing, n_hr, expected):
    degradation = SliceProfile(thickness=2.0, spacing=spacing)
    assert degradation.lr_size(n_hr) == expected
    assert degradation.lr_shape((n_hr, 7)) == (expected, 7)
    assert degradation.factors == (float(spacing), 1.0)
    assert SliceProfile(2.0, spacing, axis=-1).lr_shape((7, n_hr)) == (7, expected)
    along_w = SliceProfile(2.0, spacing, axis=-1)
    assert along_w.lr_size(n_hr) == expected and along_w.lr_size(n_hr, axis=-2) == n_hr
    np.testing.assert_allclose(along_w.lr_positions(n_hr).numpy(), degradation.lr_positions(n_hr))
    # Pixel-centre convention: HR pixel i at i; slab j's centre (j + 0.5) * spacing from the edge.
    centres = [(j + 0.5) * spacing - 0.5 for j in range(expected)]
    np.testing.assert_allclose(degradation.lr_positions(n_hr).numpy(), centres, atol=1e-12)
    lr = degradation(hr_image(h=n_hr))
    assert lr.shape[-2:] == (expected, 6)


def test_uniform_image_stays_uniform_up_to_the_edges():
    hr = torch.full((1, 1, 23, 4), 0.7, dtype=torch.float64)
    lr = SliceProfile(6.0, 4.6, "gaussian")(hr)
    np.testing.assert_allclose(lr.numpy(), 0.7, atol=1e-12)


def test_float32_batch_on_the_device_and_deterministic_noise():
    hr = hr_image().float()
    degradation = SliceProfile(2.5, 4.44, "gaussian", noise="gaussian", noise_std=0.1)
    a = degradation(hr, torch.Generator().manual_seed(3))
    b = degradation(hr, torch.Generator().manual_seed(3))
    assert a.dtype == torch.float32 and torch.equal(a, b)
    clean = SliceProfile(2.5, 4.44, "gaussian")(hr.double())
    assert not torch.allclose(a.double(), clean, atol=1e-3)
    np.testing.assert_allclose(
        SliceProfile(2.5, 4.44)(hr).numpy(), SliceProfile(2.5, 4.44)(hr.double()).numpy(), atol=1e-6
    )


def test_built_from_its_config_by_target():
    degradation = SliceProfile(2.5, 4.44, "rect", axis=-1)
    config = degradation.config()
    assert config["_target_"] == "srmri.degradation.SliceProfile"
    assert build_degradation(config) == degradation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"thickness": 0, "spacing": 2}, "thickness"),
        ({"thickness": 2, "spacing": 0.5}, "spacing"),
        ({"thickness": 2, "spacing": 2, "profile": "box"}, "profile"),
        ({"thickness": 2, "spacing": 2, "axis": 1}, "axis"),
    ],
)
def test_bad_settings_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SliceProfile(**kwargs)


@pytest.mark.parametrize("spacing", [2, 4.44])
def test_bspline_baseline_maps_the_lr_back_to_the_hr_grid(spacing):
    degradation = SliceProfile(2.0, spacing)
    hr = hr_image()
    lr = degradation(hr)
    positions = degradation.lr_positions(40)
    up = bspline_to_hr(lr, positions, torch.arange(40, dtype=torch.float64))
    assert up.shape == hr.shape
    # SciPy: LR index u of HR pixel x solves x = (u + 0.5) * spacing - 0.5.
    u = (np.arange(40) + 0.5) / spacing - 0.5
    for b in range(2):
        for col in range(6):
            expected = ndimage.map_coordinates(
                lr[b, 0, :, col].numpy(), u[None], order=3, mode="mirror"
            )
            np.testing.assert_allclose(up[b, 0, :, col].numpy(), expected, atol=1e-10)
