import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from srmri.metrics import psnr, ssim
from tests import reference


def pair(seed: int = 0, shape=(2, 1, 64, 72), noise: float = 0.05):
    generator = torch.Generator().manual_seed(seed)
    hr = torch.rand(shape, generator=generator)
    hr = torch.nn.functional.avg_pool2d(hr, 5, 1, 2)  # some structure for SSIM
    sr = hr + noise * torch.randn(shape, generator=generator)
    return sr, hr


# Scores are computed in float64: they must agree with the float64 references to rounding.
TOLERANCE = 1e-7


def skimage_ssim(sr: np.ndarray, hr: np.ndarray) -> tuple[float, np.ndarray]:
    return structural_similarity(
        hr.astype(np.float64),
        np.clip(sr, 0, 1).astype(np.float64),
        data_range=1.0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        full=True,
    )


def test_psnr_matches_the_formula_per_image():
    sr, hr = pair()
    got = psnr(sr, hr)
    for i in range(2):
        assert got[i].item() == pytest.approx(
            reference.psnr(sr[i, 0].double().numpy(), hr[i, 0].double().numpy()), abs=TOLERANCE
        )


def test_ssim_matches_scikit_image_per_image():
    sr, hr = pair(seed=1)
    got = ssim(sr, hr)
    for i in range(2):
        expected, _ = skimage_ssim(sr[i, 0].numpy(), hr[i, 0].numpy())
        assert got[i].item() == pytest.approx(expected, abs=TOLERANCE)


def test_float64_input_is_scored_without_rounding_to_float32():
    # Differences of 1e-9 vanish when both images are rounded to float32 (PSNR +inf) and are
    # distorted by float32 arithmetic in SSIM; in float64 they are scored as they are.
    generator = torch.Generator().manual_seed(5)
    hr = 0.25 + 0.5 * torch.rand(1, 1, 48, 48, generator=generator, dtype=torch.float64)
    hr = torch.nn.functional.avg_pool2d(hr, 5, 1, 2)
    sr = hr + 1e-9 * torch.randn(1, 1, 48, 48, generator=generator, dtype=torch.float64)
    got = psnr(sr, hr)
    assert got.dtype == torch.float64
    assert got.item() == pytest.approx(reference.psnr(sr[0, 0].numpy(), hr[0, 0].numpy()), abs=1e-6)
    expected, _ = skimage_ssim(sr[0, 0].numpy(), hr[0, 0].numpy())
    assert ssim(sr, hr).item() == pytest.approx(expected, abs=1e-12)
    assert ssim(sr, hr).item() < 1.0


def test_masked_scores_use_only_mask_pixels():
    sr, hr = pair(seed=2, shape=(1, 1, 64, 64))
    mask = torch.zeros(1, 1, 64, 64, dtype=torch.bool)
    mask[..., 16:48, 20:50] = True
    got_psnr = psnr(sr, hr, mask=mask).item()
    expected = reference.psnr(
        sr[0, 0].double().numpy(), hr[0, 0].double().numpy(), mask[0, 0].numpy()
    )
    assert got_psnr == pytest.approx(expected, abs=TOLERANCE)
    # Changing pixels outside the mask does not change the masked score.
    sr_outside = sr.clone()
    sr_outside[~mask] = 0.0
    assert psnr(sr_outside, hr, mask=mask).item() == pytest.approx(got_psnr, abs=1e-12)
    _, full = skimage_ssim(sr[0, 0].numpy(), hr[0, 0].numpy())
    assert ssim(sr, hr, mask=mask).item() == pytest.approx(
        full[mask[0, 0].numpy()].mean(), abs=TOLERANCE
    )


def test_fixed_data_range_does_not_follow_the_batch():
    sr, hr = pair(seed=3)
    # A dark copy of the same error: with the fixed range 1.0 the MSE falls 16-fold (+12.04 dB);
    # a range inferred from the images would report the same PSNR for both.
    gain = psnr(sr.clamp(0, 1) * 0.25, hr * 0.25) - psnr(sr, hr)
    np.testing.assert_allclose(gain.numpy(), 20 * np.log10(4), atol=TOLERANCE)


def test_border_crop_applies_to_both_images():
    sr, hr = pair(seed=4, shape=(1, 1, 40, 40))
    sr[..., :3, :] = 1.0 - hr[..., :3, :]  # ruin the border rows
    inner = reference.psnr(
        sr[0, 0, 3:-3, 3:-3].double().numpy(), hr[0, 0, 3:-3, 3:-3].double().numpy()
    )
    assert psnr(sr, hr, border=3).item() == pytest.approx(inner, abs=TOLERANCE)
    assert psnr(sr, hr).item() < inner


def test_predictions_are_clamped_to_the_data_range():
    hr = torch.full((1, 1, 16, 16), 1.0)
    overshoot = torch.full((1, 1, 16, 16), 1.3)
    assert torch.isinf(psnr(overshoot, hr)).all()


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="matching"):
        psnr(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 9))
