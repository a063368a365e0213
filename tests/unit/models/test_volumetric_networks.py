"""3-D networks (``spatial_dims=3``): shapes for every scale, the 3-D pixel shuffle's layout, and the
tricubic (cubic B-spline) baseline against SciPy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from srmri.models import EDSR, MDCSRN, WDSRA, WDSRB, Interpolation, upsample
from srmri.models.blocks import PixelShuffle3d

TINY = {
    "edsr": lambda s: EDSR(s, n_blocks=1, n_feats=4, spatial_dims=3),
    "wdsr_a": lambda s: WDSRA(s, n_blocks=1, n_feats=4, expansion=2, spatial_dims=3),
    "wdsr_b": lambda s: WDSRB(s, n_blocks=1, n_feats=5, expansion=2, spatial_dims=3),
    "mdcsrn": lambda s: MDCSRN(s, n_blocks=2, n_units=2, growth=4, n_feats=4),
}


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("name", sorted(TINY))
def test_3d_network_shapes(name, scale):
    torch.manual_seed(0)
    network = TINY[name](scale)
    lr = torch.rand(2, 1, 3, 4, 5)
    with torch.no_grad():
        sr = network(lr)
    assert sr.shape == (2, 1, 3 * scale, 4 * scale, 5 * scale)
    assert any(isinstance(m, torch.nn.Conv3d) for m in network.modules())
    assert not any(isinstance(m, torch.nn.Conv2d) for m in network.modules())


def test_default_2d_networks_are_unchanged_in_kind():
    network = WDSRA(2, n_blocks=1, n_feats=4)
    assert network(torch.rand(1, 1, 6, 5)).shape == (1, 1, 12, 10)
    assert not any(isinstance(m, torch.nn.Conv3d) for m in network.modules())


def test_pixel_shuffle_3d_layout():
    r, c = 2, 3
    x = torch.arange(1 * c * r**3 * 2 * 3 * 4, dtype=torch.float64).view(1, c * r**3, 2, 3, 4)
    # Channel c * r^3 + i * r^2 + j * r + k lands at (d r + i, h r + j, w r + k) of channel c.
    expected = x.numpy().reshape(1, c, r, r, r, 2, 3, 4).transpose(0, 1, 5, 2, 6, 3, 7, 4)
    expected = expected.reshape(1, c, 2 * r, 3 * r, 4 * r)
    np.testing.assert_array_equal(PixelShuffle3d(r)(x).numpy(), expected)


@pytest.mark.parametrize("scale", [2, 3])
def test_tricubic_baseline_is_scipy_cubic_spline(scale):
    rng = np.random.default_rng(0)
    lr = rng.random((5, 6, 7))
    coordinates = np.meshgrid(
        *[(np.arange(n * scale) + 0.5) / scale - 0.5 for n in lr.shape], indexing="ij"
    )
    expected = ndimage.map_coordinates(lr, coordinates, order=3, mode="mirror")
    got = upsample(torch.from_numpy(lr)[None, None], scale, "bspline")[0, 0]
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-10)
    baseline = Interpolation(scale, mode="bspline", spatial_dims=3)
    np.testing.assert_allclose(
        baseline(torch.from_numpy(lr)[None, None])[0, 0].numpy(), expected, atol=1e-10
    )


def test_volume_interpolation_refuses_slice_only_modes():
    with pytest.raises(ValueError, match="volumes are interpolated by one of"):
        Interpolation(2, mode="bicubic", spatial_dims=3)
    with pytest.raises(ValueError, match="spatial_dims must be 2 or 3"):
        EDSR(2, spatial_dims=1)
