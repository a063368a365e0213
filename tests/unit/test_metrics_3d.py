"""3-D PSNR and SSIM (per volume) against NumPy and scikit-image's 3-D ``structural_similarity``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage
from skimage.metrics import structural_similarity

from srmri.metrics import psnr, ssim

# The bound; float64 throughout, so the agreement is in fact far closer.
TOLERANCE = 1e-4
PAD = 5  # (11 - 1) / 2: the frame scikit-image leaves out of its mean


def volume_pair(shape=(2, 1, 18, 16, 20), seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    hr = ndimage.uniform_filter(rng.random(shape), size=(1, 1, 3, 3, 3))
    sr = hr + 0.05 * rng.standard_normal(shape)
    return torch.from_numpy(sr), torch.from_numpy(hr)


def skimage_ssim_map(sr: np.ndarray, hr: np.ndarray) -> np.ndarray:
    _, full = structural_similarity(
        hr,
        np.clip(sr, 0, 1),
        data_range=1.0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        full=True,
    )
    return full


def test_3d_psnr_is_the_volume_mse():
    sr, hr = volume_pair()
    got = psnr(sr, hr)
    for i in range(2):
        mse = np.mean((np.clip(sr[i].numpy(), 0, 1) - hr[i].numpy()) ** 2)
        assert got[i].item() == pytest.approx(10 * np.log10(1 / mse), abs=1e-9)


def test_3d_ssim_matches_scikit_image_on_the_whole_volume():
    sr, hr = volume_pair()
    got = ssim(sr, hr)
    for i in range(2):
        expected = structural_similarity(
            hr[i, 0].numpy(),
            np.clip(sr[i, 0].numpy(), 0, 1),
            data_range=1.0,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        assert got[i].item() == pytest.approx(expected, abs=TOLERANCE)


def test_3d_scores_inside_a_mask_and_a_border():
    sr, hr = volume_pair(seed=3)
    mask = torch.zeros(hr.shape, dtype=torch.bool)
    mask[..., 3:14, 4:12, 2:17] = True
    border = 1
    got_psnr = psnr(sr, hr, mask=mask, border=border)
    got_ssim = ssim(sr, hr, mask=mask, border=border)
    inside = (slice(border, -border),) * 3
    for i in range(2):
        s, h, m = sr[i, 0].numpy()[inside], hr[i, 0].numpy()[inside], mask[i, 0].numpy()[inside]
        mse = np.mean(((np.clip(s, 0, 1) - h) ** 2)[m])
        assert got_psnr[i].item() == pytest.approx(10 * np.log10(1 / mse), abs=1e-9)
        full = skimage_ssim_map(s, h)
        valid = np.zeros(full.shape, dtype=bool)
        valid[PAD:-PAD, PAD:-PAD, PAD:-PAD] = True
        assert got_ssim[i].item() == pytest.approx(full[valid & m].mean(), abs=TOLERANCE)


def test_3d_ssim_map_is_torchmetrics_3d_ssim_inside_the_frame():
    from torchmetrics.functional.image import structural_similarity_index_measure

    from srmri.metrics import ssim_map

    sr, hr = volume_pair(shape=(1, 1, 14, 15, 13))
    sr = sr.clamp(0, 1)
    _, expected = structural_similarity_index_measure(
        sr,
        hr,
        gaussian_kernel=True,
        sigma=1.5,
        kernel_size=11,
        data_range=1.0,
        return_full_image=True,
    )
    inside = (..., *(slice(PAD, -PAD),) * 3)
    got = ssim_map(sr, hr)
    torch.testing.assert_close(got[inside], expected[inside], atol=1e-12, rtol=0)
    assert torch.isnan(got[..., :PAD, :, :]).all()
