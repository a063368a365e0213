import numpy as np
import pytest
import torch

from srmri.degradation import Degradation, crop_to_scale, degrade
from tests import reference

SCALES = (2, 3, 4)


def hr_image(h: int = 48, w: int = 36, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(1, 1, h, w, generator=generator, dtype=torch.float64)


@pytest.mark.parametrize("scale", SCALES)
def test_seed_preset_is_antialiased_bicubic_then_gaussian(scale):
    hr = hr_image()
    lr = degrade(hr, Degradation(scale=scale, preset="seed"))[0, 0].numpy()
    # torch's antialiased bicubic follows PIL: a = -0.5 with the kernel stretched by the scale.
    down = reference.resize(hr[0, 0].numpy(), (48 // scale, 36 // scale), a=-0.5, antialias=True)
    expected = np.clip(reference.gaussian_blur(down, 3, 1.0), 0, 1)
    np.testing.assert_allclose(lr, expected, atol=1e-6)


@pytest.mark.parametrize("scale", SCALES)
def test_thesis_opencv_preset_blurs_then_downscales_without_antialias(scale):
    hr = hr_image()
    lr = degrade(hr, Degradation(scale=scale, preset="thesis_opencv"))[0, 0].numpy()
    blurred = reference.gaussian_blur(hr[0, 0].numpy(), 3, 1.0)
    expected = np.clip(reference.resize(blurred, (48 // scale, 36 // scale), -0.75, False), 0, 1)
    np.testing.assert_allclose(lr, expected, atol=1e-6)


def test_bicubic_preset_is_the_downscale_alone():
    hr = hr_image()
    lr = degrade(hr, Degradation(scale=2, preset="bicubic"))[0, 0].numpy()
    expected = np.clip(reference.resize(hr[0, 0].numpy(), (24, 18), -0.5, True), 0, 1)
    np.testing.assert_allclose(lr, expected, atol=1e-6)


def test_float32_batch_matches_float64_reference_and_keeps_channels():
    hr = torch.rand(3, 2, 40, 32)
    lr = degrade(hr, Degradation(scale=4))
    assert lr.shape == (3, 2, 10, 8)
    assert lr.dtype == torch.float32
    for b in range(3):
        for c in range(2):
            down = reference.resize(hr[b, c].double().numpy(), (10, 8), -0.5, True)
            expected = np.clip(reference.gaussian_blur(down, 3, 1.0), 0, 1)
            np.testing.assert_allclose(lr[b, c].numpy(), expected, atol=1e-6)


def test_noise_changes_lr_reproducibly_and_stays_in_range():
    hr = torch.rand(2, 1, 32, 32)
    noisy = Degradation(scale=2, noise="rician", noise_std=0.05)
    a = noisy(hr, torch.Generator().manual_seed(1))
    b = noisy(hr, torch.Generator().manual_seed(1))
    clean = Degradation(scale=2)(hr)
    assert torch.equal(a, b)
    assert (a - clean).abs().mean() > 0.01
    assert a.min() >= 0 and a.max() <= 1


def test_crop_to_scale_drops_trailing_rows_and_columns():
    hr = torch.arange(7 * 10, dtype=torch.float32).reshape(1, 1, 7, 10)
    cropped = crop_to_scale(hr, 3)
    assert cropped.shape == (1, 1, 6, 9)
    assert torch.equal(cropped, hr[..., :6, :9])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": 5}, "scale"),
        ({"preset": "opencv"}, "preset"),
        ({"blur_kernel": 4}, "blur_kernel"),
        ({"noise": "poisson"}, "noise"),
    ],
)
def test_bad_settings_name_the_setting(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Degradation(**kwargs)


def test_hr_not_multiple_of_scale_is_refused_with_its_size():
    with pytest.raises(ValueError, match="33x32 is not a multiple of scale 2"):
        degrade(torch.rand(1, 1, 33, 32), Degradation(scale=2))
