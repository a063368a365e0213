"""The bspline and zero_fill modes of upsample (the slice_profile and kspace baselines) against
SciPy / NumPy, and as parameter-free networks."""

import numpy as np
import pytest
import torch
from scipy import ndimage

from srmri.degradation import KSpace
from srmri.models import upsample
from srmri.models.interpolation import Interpolation


def lr_batch(h: int = 7, w: int = 9) -> torch.Tensor:
    return torch.rand(2, 1, h, w, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bspline_mode_is_scipys_cubic_spline_on_the_pixel_centre_grid(scale):
    lr = lr_batch()
    up = upsample(lr, scale, "bspline")
    assert up.shape == (2, 1, 7 * scale, 9 * scale)
    y = (np.arange(7 * scale) + 0.5) / scale - 0.5
    x = (np.arange(9 * scale) + 0.5) / scale - 0.5
    grid = np.meshgrid(y, x, indexing="ij")
    for b in range(2):
        expected = ndimage.map_coordinates(lr[b, 0].numpy(), grid, order=3, mode="mirror")
        np.testing.assert_allclose(up[b, 0].numpy(), expected, atol=1e-10)


def test_zero_fill_mode_inverts_kspace_on_a_band_limited_image():
    y, x = np.meshgrid(np.arange(24), np.arange(20), indexing="ij")
    image = 0.5 + 0.1 * np.cos(2 * np.pi * (3 * y / 24 + 2 * x / 20) + 0.3)
    hr = torch.from_numpy(image)[None, None]
    np.testing.assert_allclose(
        upsample(KSpace(2)(hr), 2, "zero_fill")[0, 0].numpy(), image, atol=1e-12
    )


@pytest.mark.parametrize("mode", ["bspline", "zero_fill"])
def test_modes_run_as_networks_and_keep_a_constant(mode):
    network = Interpolation(scale=2, mode=mode)
    out = network(torch.full((1, 1, 6, 5), 0.3))
    assert out.shape == (1, 1, 12, 10)
    np.testing.assert_allclose(out.numpy(), 0.3, atol=1e-6)
