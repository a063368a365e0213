"""Training pairs of the isotropic task against an independent computation.

The HR patches must be crops of the scan's own in-plane slices (both orientations), centred on
structure, and their LR the slice profile integrated over each HR pixel and sampled at slab
centres ``(j + 0.5) k - 0.5``, computed here with SciPy's normal CDF and a box overlap.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import ndtr

from srmri.isotropic.data import InPlanePatches, patch_rows
from srmri.isotropic.grid import Acquisition
from srmri.isotropic.options import IsotropicOptions
from srmri.isotropic.training import build_module


def _profile_matrix(rows: int, spacing: float, thickness: float, profile: str) -> np.ndarray:
    n = int(np.floor(rows / spacing + 1e-9))
    centres = (np.arange(n) + 0.5) * spacing - 0.5
    lower = np.arange(rows)[None, :] - 0.5 - centres[:, None]
    upper = lower + 1.0
    if profile == "gaussian":
        sigma = thickness / (2 * np.sqrt(2 * np.log(2)))
        weights = ndtr(upper / sigma) - ndtr(lower / sigma)
    else:
        half = thickness / 2
        weights = np.clip(upper, -half, half) - np.clip(lower, -half, half)
    return weights / weights.sum(axis=1, keepdims=True)


def _slices(seed: int = 0) -> np.ndarray:
    """(4, 48, 44) slices: a bright disc with texture on a dark background."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:48, :44]
    disc = ((yy - 24) ** 2 + (xx - 22) ** 2 < 17**2).astype(np.float32)
    return np.stack([disc * (0.5 + 0.4 * rng.random((48, 44))) for _ in range(4)]).astype(
        np.float32
    )


def _find(patch: np.ndarray, slices: np.ndarray) -> tuple[bool, bool]:
    """Whether ``patch`` is a crop of some slice as is / transposed (with any flips)."""
    rows, cols = patch.shape
    found = {False: False, True: False}
    for transpose in (False, True):
        for image in slices:
            image = image.T if transpose else image
            windows = np.lib.stride_tricks.sliding_window_view(image, (rows, cols))
            for candidate in (patch, patch[::-1], patch[:, ::-1], patch[::-1, ::-1]):
                if (windows == candidate).all(axis=(-2, -1)).any():
                    found[transpose] = True
    return found[False], found[True]


@pytest.mark.parametrize(
    ("spacing", "thickness", "profile"),
    [(4.0, 4.0, "gaussian"), (4.44, 4.44, "gaussian"), (4.5, 3.0, "gaussian"), (3.0, 3.0, "rect")],
)
def test_pairs_match_independent_profile(spacing, thickness, profile):
    slices = _slices()
    acquisition = Acquisition(
        axis=2, spacing=spacing, in_plane=1.0, thickness=thickness, slices=len(slices)
    )
    lr_rows, hr_rows = patch_rows(acquisition.factor, 24)
    dataset = InPlanePatches(slices, hr_rows, 12, seed=3, samples_per_epoch=64)
    hr = dataset.__getitems__(list(range(64)))["hr"]
    assert hr.shape == (64, 1, hr_rows, 12)
    orientations = [_find(patch[0].numpy(), slices) for patch in hr]
    assert all(as_is or transposed for as_is, transposed in orientations)
    # Both in-plane axes are degraded: some patches only fit transposed, some only as they are.
    assert any(t and not a for a, t in orientations) and any(a and not t for a, t in orientations)
    # Patches are drawn where there is structure: none is background only.
    assert (hr.flatten(1) > 0.05).any(dim=1).all()

    options = IsotropicOptions(profile=profile, n_blocks=1, n_feats=4)
    module = build_module(acquisition, options)
    lr = module.degrade(hr.double()).numpy()
    expected = np.einsum(
        "jh,bchw->bcjw", _profile_matrix(hr_rows, spacing, thickness, profile), hr.double().numpy()
    )
    assert lr.shape == (64, 1, lr_rows, 12)
    np.testing.assert_allclose(lr, expected, atol=1e-10)
    # The network maps the LR back onto exactly the HR patch's rows.
    with torch.no_grad():
        assert module(torch.from_numpy(lr).float()).shape == hr.shape


def test_patch_rows_line_up():
    for factor in (2.0, 3.0, 4.0, 4.44, 4.5, 6.0, 3.3):
        lr_rows, hr_rows = patch_rows(factor, 64)
        assert hr_rows == round(lr_rows * factor)
        assert int(np.floor(hr_rows / factor + 1e-9)) == lr_rows
        assert abs(hr_rows - lr_rows * factor) < 0.1
