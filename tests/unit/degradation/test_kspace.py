"""KSpace and zero_fill against NumPy computations written here: the centred block of the HR's DFT,
the window as a function of frequency, and the trigonometric polynomial evaluated directly at the
declared LR sample centres."""

import math

import numpy as np
import pytest
import torch
from scipy.signal import windows

from srmri.degradation import KSpace, build_degradation
from srmri.degradation.kspace import zero_fill


def hr_image(h: int, w: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(2, 1, h, w, generator=generator, dtype=torch.float64)


def centred_window(m: int, window: str, alpha: float = 0.5) -> np.ndarray:
    """Weights of the m central frequencies, DC at index m // 2 (fftshift order)."""
    if window == "none":
        return np.ones(m)
    if m % 2 == 0:
        # SciPy's periodic (DFT-even) windows peak at index m / 2: DC in fftshift order.
        if window == "hamming":
            return windows.hamming(m, sym=False)
        return windows.tukey(m, alpha, sym=False)
    k = np.arange(m) - m // 2
    if window == "hamming":
        return 0.54 + 0.46 * np.cos(2 * np.pi * k / m)
    edge = (1 - alpha) * m / 2
    r = np.clip((np.abs(k) - edge) / (alpha * m / 2), 0, 1)
    return 0.5 * (1 + np.cos(np.pi * r))


def reference_lr(image: np.ndarray, scale: int, window: str, alpha: float = 0.5) -> np.ndarray:
    """|sum over the central frequencies of X[k, q] w_k w_q exp(2 pi i (k y / H + q x / W))| at the
    block centres y = (j + 0.5) s - 0.5, x likewise; X = DFT / (H W)."""
    height, width = image.shape
    h, w = height // scale, width // scale
    shifted = np.fft.fftshift(np.fft.fft2(image)) / (height * width)
    rows = slice(height // 2 - h // 2, height // 2 - h // 2 + h)
    cols = slice(width // 2 - w // 2, width // 2 - w // 2 + w)
    block = shifted[rows, cols] * np.outer(
        centred_window(h, window, alpha), centred_window(w, window, alpha)
    )
    k = np.arange(h) - h // 2
    q = np.arange(w) - w // 2
    y = (np.arange(h) + 0.5) * scale - 0.5
    x = (np.arange(w) + 0.5) * scale - 0.5
    along_y = np.exp(2j * np.pi * np.outer(y, k) / height)
    along_x = np.exp(2j * np.pi * np.outer(q, x) / width)
    return np.abs(along_y @ block @ along_x)


@pytest.mark.parametrize("window", ["none", "hamming", "tukey"])
@pytest.mark.parametrize(
    ("height", "width", "scale"), [(24, 30, 2), (27, 21, 3), (32, 20, 4), (14, 10, 2)]
)
def test_lr_is_the_central_kspace_block_at_the_block_centres(height, width, scale, window):
    hr = hr_image(height, width)
    lr = KSpace(scale, window=window)(hr)
    assert lr.shape == (2, 1, height // scale, width // scale)
    for b in range(2):
        expected = reference_lr(hr[b, 0].numpy(), scale, window)
        np.testing.assert_allclose(lr[b, 0].numpy(), expected, atol=1e-9)


def test_tukey_alpha_is_used():
    hr = hr_image(24, 24)
    lr = KSpace(2, window="tukey", tukey_alpha=0.9)(hr)
    np.testing.assert_allclose(
        lr[0, 0].numpy(), reference_lr(hr[0, 0].numpy(), 2, "tukey", 0.9), atol=1e-9
    )


def band_limited(height: int, width: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    """A positive image whose frequencies lie strictly inside the LR band, |k| < h/2, |q| < w/2."""
    rng = np.random.default_rng(seed)
    y, x = np.arange(height)[:, None], np.arange(width)[None, :]
    image = np.full((height, width), 0.5)
    for _ in range(30):
        k = rng.integers(-((h - 1) // 2), (h - 1) // 2 + 1)
        q = rng.integers(-((w - 1) // 2), (w - 1) // 2 + 1)
        phase = rng.uniform(0, 2 * np.pi)
        image += 0.01 * rng.normal() * np.cos(2 * np.pi * (k * y / height + q * x / width) + phase)
    return image


@pytest.mark.parametrize(
    ("height", "width", "scale"), [(24, 30, 2), (27, 21, 3), (32, 20, 4), (9, 12, 1)]
)
def test_band_limited_image_survives_lr_then_zero_fill_exactly(height, width, scale):
    image = band_limited(height, width, height // scale, width // scale)
    hr = torch.from_numpy(image)[None, None]
    lr = KSpace(scale)(hr)
    np.testing.assert_allclose(zero_fill(lr, scale)[0, 0].numpy(), image, atol=1e-12)
    # The LR samples are the image itself at the block centres (a trigonometric polynomial).
    y = (np.arange(height // scale) + 0.5) * scale - 0.5
    x = (np.arange(width // scale) + 0.5) * scale - 0.5
    np.testing.assert_allclose(lr[0, 0].numpy(), trig_interpolate(image, y, x), atol=1e-12)


def trig_interpolate(image: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The DFT interpolant of a band-limited (no Nyquist content) image at real coordinates."""
    height, width = image.shape
    spectrum = np.fft.fft2(image) / image.size
    k, q = np.fft.fftfreq(height) * height, np.fft.fftfreq(width) * width
    return np.real(
        np.exp(2j * np.pi * np.outer(y, k) / height)
        @ spectrum
        @ np.exp(2j * np.pi * np.outer(q, x) / width)
    )


@pytest.mark.parametrize(("h", "w", "scale"), [(12, 15, 2), (9, 7, 3), (8, 5, 4)])
def test_zero_fill_is_periodic_sinc_interpolation_with_split_nyquist(h, w, scale):
    lr = hr_image(h, w)
    up = zero_fill(lr, scale)
    assert up.shape == (2, 1, h * scale, w * scale)
    assert up.dtype == torch.float64
    # NumPy: the LR's spectrum in the centre of a zero spectrum, an even size's Nyquist bin halved
    # on both sides, samples moved to the block centres.
    for b in range(2):
        image = lr[b, 0].numpy()
        spectrum = np.fft.fft2(image) / image.size
        hr_y = (np.arange(h * scale) + 0.5) / scale - 0.5  # LR coordinates of the HR pixels
        hr_x = (np.arange(w * scale) + 0.5) / scale - 0.5
        along_y = interpolant_rows(h, hr_y)
        along_x = interpolant_rows(w, hr_x)
        expected = np.real(along_y @ spectrum @ along_x.T)
        np.testing.assert_allclose(up[b, 0].numpy(), expected, atol=1e-12)
        # It interpolates: back at the LR sample centres it returns the LR.
        centres = np.arange(h) * scale + (scale - 1) // 2
        if scale % 2 == 1:
            np.testing.assert_allclose(
                up[b, 0].numpy()[centres][:, np.arange(w) * scale + (scale - 1) // 2],
                image,
                atol=1e-12,
            )


def interpolant_rows(m: int, u: np.ndarray) -> np.ndarray:
    """(len(u), m): exp(2 pi i k u / m) per FFT bin k, the Nyquist bin as cos(pi u) (halves at +-m/2)."""
    k = np.fft.fftfreq(m) * m
    rows = np.exp(2j * np.pi * np.outer(u, k) / m)
    if m % 2 == 0:
        rows[:, m // 2] = np.cos(np.pi * u)
    return rows


def test_uniform_image_keeps_its_value_and_mean_is_preserved():
    hr = torch.full((1, 1, 16, 12), 0.37, dtype=torch.float64)
    for window in ("none", "hamming", "tukey"):
        np.testing.assert_allclose(KSpace(2, window=window)(hr).numpy(), 0.37, atol=1e-12)


def test_declared_grid_and_config():
    degradation = KSpace(scale=3, window="hamming")
    assert degradation.factors == (3.0, 3.0)
    assert degradation.scale == 3
    assert degradation.lr_shape((27, 21)) == (9, 7)
    np.testing.assert_allclose(degradation.lr_positions(27).numpy(), np.arange(9) * 3 + 1.0)
    config = degradation.config()
    assert config["_target_"] == "srmri.degradation.KSpace"
    assert build_degradation(config) == degradation


def test_float32_and_deterministic_noise():
    hr = hr_image(16, 16).float()
    noisy = KSpace(2, noise_std=0.05)
    a, b = noisy(hr, torch.Generator().manual_seed(4)), noisy(hr, torch.Generator().manual_seed(4))
    assert a.dtype == torch.float32 and torch.equal(a, b)
    assert not torch.allclose(a, KSpace(2)(hr), atol=1e-3)
    np.testing.assert_allclose(KSpace(2)(hr).numpy(), KSpace(2)(hr.double()).numpy(), atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": 0}, "scale"),
        ({"scale": 2.5}, "scale"),
        ({"window": "hann"}, "window"),
        ({"tukey_alpha": 0}, "tukey_alpha"),
        ({"noise_std": -1}, "noise_std"),
    ],
)
def test_bad_settings_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        KSpace(**kwargs)


def test_size_not_a_multiple_of_the_scale_is_refused():
    with pytest.raises(ValueError, match="crop_to_scale"):
        KSpace(2)(hr_image(15, 16))


def test_window_lowers_the_noise_by_its_rms():
    # Flat image, window=hamming: the real channel's noise std falls to noise_std * rms(window^2 product).
    hr = torch.full((64, 1, 32, 32), 0.5, dtype=torch.float64)
    sigma = 0.01
    lr = KSpace(2, window="hamming", noise_std=sigma)(hr, torch.Generator().manual_seed(0))
    hamming = centred_window(16, "hamming")
    rms = math.sqrt(np.mean(np.outer(hamming, hamming) ** 2))
    # A = 0.5 >> sigma: the magnitude's std is the real channel's.
    assert float(lr.std()) == pytest.approx(sigma * rms, rel=0.03)
