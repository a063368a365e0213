"""Tiled inference: cores partition the slice, tiles stay small, and the result equals an untiled
run when the overlap covers the receptive field (no seam)."""

import itertools

import numpy as np
import pytest
import torch
from torch.nn.utils import parametrize

from srmri.inference.tiling import predict_tiled, tile_bounds
from tests.helpers import SCALE, TINY_WDSR_RADIUS
from tests.unit.inference.conftest import default_network
from tests.volumes import smooth_volume


def smooth_slices(batch: int, height: int, width: int, seed: int) -> torch.Tensor:
    volume = smooth_volume((height, width, batch), seed) / 1000.0
    return torch.from_numpy(np.moveaxis(volume, 2, 0).copy())[:, None]


@pytest.mark.parametrize(("size", "tile"), [(1, 4), (7, 7), (8, 3), (37, 8), (100, 33)])
def test_tile_bounds_partition_the_axis_into_near_equal_cores(size, tile):
    bounds = tile_bounds(size, tile)
    assert bounds[0][0] == 0 and bounds[-1][1] == size
    assert all(stop == start for (_, stop), (start, _) in itertools.pairwise(bounds))
    lengths = [stop - start for start, stop in bounds]
    assert max(lengths) <= tile and max(lengths) - min(lengths) <= 1
    assert len(bounds) == -(-size // tile)


def test_tiled_equals_untiled_when_the_overlap_covers_the_receptive_field(tiny_module):
    network = tiny_module.network
    lr = smooth_slices(2, 37, 29, seed=0)
    with torch.inference_mode(), parametrize.cached():
        whole = network(lr)
        tiled = predict_tiled(network, lr, SCALE, tile=8, overlap=TINY_WDSR_RADIUS)
        without_context = predict_tiled(network, lr, SCALE, tile=8, overlap=0)
    assert tiled.shape == whole.shape == (2, 1, 74, 58)
    assert (tiled - whole).abs().max() < 1e-5
    # The control: tiles without context differ from the whole slice at the tile borders.
    assert (without_context - whole).abs().max() > 1e-3


def test_default_model_with_the_default_overlap_shows_no_seam():
    network = default_network()
    lr = smooth_slices(1, 96, 80, seed=1)
    with torch.inference_mode(), parametrize.cached():
        whole = network(lr)
        tiled = predict_tiled(network, lr, SCALE, tile=32, overlap=16)
    assert (tiled - whole).abs().max() < 1e-4


def test_each_tile_is_a_core_plus_its_overlap_at_most():
    sizes = []

    def spy(lr: torch.Tensor) -> torch.Tensor:
        sizes.append(tuple(lr.shape[-2:]))
        return lr.repeat_interleave(SCALE, -2).repeat_interleave(SCALE, -1)

    lr = torch.rand(3, 1, 50, 21)
    sr = predict_tiled(spy, lr, SCALE, tile=16, overlap=4)
    assert len(sizes) == 4 * 2
    assert all(h <= 16 + 2 * 4 and w <= 16 + 2 * 4 for h, w in sizes)
    # Every output pixel comes from the tile that owns it: nearest upsampling survives intact.
    assert torch.equal(sr, lr.repeat_interleave(SCALE, -2).repeat_interleave(SCALE, -1))


def test_no_tile_runs_the_whole_slice_once():
    calls = []
    lr = torch.rand(1, 1, 40, 40)
    predict_tiled(lambda x: calls.append(x.shape) or x, lr, 1, tile=None, overlap=4)
    assert calls == [lr.shape]


def test_bad_tiling_values_are_refused():
    with pytest.raises(ValueError, match="tile >= 1"):
        predict_tiled(lambda x: x, torch.rand(1, 1, 4, 4), 1, tile=0, overlap=1)
