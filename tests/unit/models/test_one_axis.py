"""OneAxisSR: one axis upsampled by a possibly non-integer factor, a residual over the cubic
B-spline (checked against SciPy's spline on the same output grid)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from srmri.isotropic.apply import interpolate, super_resolve
from srmri.lightning.module import SRModule
from srmri.models.one_axis import OneAxisSR


def _scipy_rows(lr: np.ndarray, size: int) -> np.ndarray:
    """SciPy's cubic B-spline of (h, W) rows at the centres of ``size`` rows tiling the same field."""
    h, w = lr.shape
    rows = (np.arange(size) + 0.5) * h / size - 0.5
    grid = np.meshgrid(rows, np.arange(w), indexing="ij")
    return ndimage.map_coordinates(lr.astype(np.float64), grid, order=3, mode="mirror")


@pytest.mark.parametrize(
    ("factor", "rows", "expected"), [(4.0, 6, 24), (4.44, 9, 40), (2.5, 7, 18)]
)
def test_untrained_network_is_the_cubic_bspline(factor, rows, expected):
    torch.manual_seed(0)
    network = OneAxisSR(factor, n_blocks=1, n_feats=4)
    lr = torch.rand(2, 1, rows, 5)
    with torch.no_grad():
        sr = network(lr)
    assert sr.shape == (2, 1, expected, 5)
    for b in range(2):
        np.testing.assert_allclose(
            sr[b, 0].numpy(), _scipy_rows(lr[b, 0].numpy(), expected), atol=1e-5
        )


def test_bfloat16_autocast_keeps_the_bspline_baseline_in_float32():
    # Under autocast only the learned detail may be approximate: an untrained network (zero
    # detail) must still give SciPy's B-spline to float32 rounding, and the planes applied to a
    # volume under autocast come back float32.
    torch.manual_seed(0)
    network = OneAxisSR(4.0, n_blocks=1, n_feats=4)
    lr = torch.rand(2, 1, 6, 5) * 1000.0
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        sr = network(lr)
    assert sr.dtype == torch.float32
    for b in range(2):
        expected = _scipy_rows(lr[b, 0].numpy(), 24)
        np.testing.assert_allclose(sr[b, 0].numpy(), expected, rtol=1e-6, atol=1e-3)
    volume = torch.rand(6, 5, 4)
    both = super_resolve(volume, axis=1, network=network, amp_dtype=torch.bfloat16)
    assert both.dtype == torch.float32
    np.testing.assert_allclose(both.numpy(), interpolate(volume, 1, 20).numpy(), atol=1e-6)


def test_learned_detail_has_the_output_grid_and_columns_stay_independent():
    torch.manual_seed(0)
    network = OneAxisSR(4.44, n_blocks=1, n_feats=4)
    torch.nn.init.normal_(network.conv_last.weight)
    lr = torch.rand(1, 1, 9, 20)
    with torch.no_grad():
        sr = network(lr)
        assert sr.shape == (1, 1, 40, 20)
        # A change in column 0 reaches only columns within the receptive field, never beyond.
        moved = lr.clone()
        moved[..., 0] += 1.0
        changed = (network(moved) - sr).abs().amax(dim=(0, 1, 2)) > 0
    assert changed[0] and not changed[-1]


def test_rejects_factors_and_shapes_it_cannot_use():
    with pytest.raises(ValueError, match="factor must be > 1"):
        OneAxisSR(1.0)
    with pytest.raises(ValueError, match=r"expects \(B, 1, h, W\)"):
        OneAxisSR(2.0)(torch.zeros(1, 2, 4, 4))


def test_volume_interpolation_and_both_plane_families_average():
    volume = torch.rand(6, 5, 4)
    # Slice axis 1: the cubic B-spline along it, voxel by voxel as SciPy computes it.
    cubic = interpolate(volume, axis=1, rows=15).numpy()
    for x in range(6):
        np.testing.assert_allclose(cubic[x], _scipy_rows(volume[x].numpy(), 15), atol=1e-5)
    network = OneAxisSR(3.0, n_blocks=1, n_feats=4)
    both = super_resolve(volume, axis=1, network=network, batch_size=2)
    # Untrained: each family is the B-spline, so their average is too.
    np.testing.assert_allclose(both.numpy(), cubic, atol=1e-5)


def test_module_checks_per_axis_factors_and_scores_against_the_bspline():
    network = {
        "_target_": "srmri.models.one_axis.OneAxisSR",
        "factor": 4.0,
        "n_blocks": 1,
        "n_feats": 4,
    }
    profile = {"_target_": "srmri.degradation.SliceProfile", "thickness": 4.0, "spacing": 4.0}
    module = SRModule(network=network, degradation=profile, normalisation={})
    assert module.factors == (4.0, 1.0)
    with pytest.raises(ValueError, match="no single integer scale"):
        _ = module.scale
    hr = torch.rand(2, 1, 32, 6)
    lr = module.degrade(hr)
    assert lr.shape == (2, 1, 8, 6)
    baseline = module.baseline(lr, (32, 6))
    np.testing.assert_allclose(baseline[0, 0].numpy(), _scipy_rows(lr[0, 0].numpy(), 32), atol=1e-5)
    with pytest.raises(
        ValueError, match=r"network scale x4 \(H\) x1 \(W\) differs from degradation scale x3 \(H\)"
    ):
        SRModule(network=network, degradation={**profile, "spacing": 3.0}, normalisation={})
