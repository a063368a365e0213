"""Noise statistics against theory: Gaussian std, and the Rician mean and std of a known signal.

For a signal ``A`` and noise ``sigma`` in both channels of a complex value, the magnitude is Rician
with mean ``sigma sqrt(pi/2) L_1/2(-A^2 / (2 sigma^2))`` and second moment ``A^2 + 2 sigma^2``,
where ``L_1/2(x) = exp(x/2) [(1 - x) I0(-x/2) - x I1(-x/2)]``. A flat image makes every LR pixel an
independent draw (the presets and ``kspace`` map a uniform image to itself), so the sample moments
of ~16k pixels pin the law: tripling the std or replacing Rician by Gaussian noise moves them by
tens of standard errors.
"""

import math

import numpy as np
import pytest
import torch
from scipy.special import i0e, i1e

from srmri.degradation import Degradation, KSpace


def rician_moments(signal: float, sigma: float) -> tuple[float, float]:
    """(mean, std) of |A + sigma (n1 + i n2)| for standard normal n1, n2."""
    x = -(signal**2) / (2 * sigma**2)
    # exp(x/2) I0(-x/2) = i0e(-x/2) since -x/2 >= 0 (scaled Bessel functions keep it finite).
    laguerre = (1 - x) * i0e(-x / 2) - x * i1e(-x / 2)
    mean = sigma * math.sqrt(math.pi / 2) * laguerre
    return mean, math.sqrt(signal**2 + 2 * sigma**2 - mean**2)


def flat(value: float, size: int = 64, batch: int = 16) -> torch.Tensor:
    return torch.full((batch, 1, size, size), value, dtype=torch.float64)


def check_moments(lr: torch.Tensor, mean: float, std: float) -> None:
    samples = lr.flatten().numpy()
    n = samples.size
    # Four standard errors of the sample mean and of the sample std (normal approximation).
    assert abs(samples.mean() - mean) < 4 * std / math.sqrt(n), (samples.mean(), mean)
    assert abs(samples.std() - std) < 4 * std / math.sqrt(2 * n) * 1.5, (samples.std(), std)


def test_rician_theory_matches_the_known_limits():
    # Rayleigh for A = 0; mean -> A and std -> sigma for A >> sigma.
    assert rician_moments(0.0, 1.0)[0] == pytest.approx(math.sqrt(math.pi / 2))
    mean, std = rician_moments(50.0, 1.0)
    assert mean == pytest.approx(50.0 + 1 / 100, rel=1e-6)
    assert std == pytest.approx(1.0, rel=1e-3)


@pytest.mark.parametrize("preset", ["seed", "bicubic", "thesis_opencv"])
def test_preset_gaussian_noise_has_the_configured_std(preset):
    sigma = 0.02
    degradation = Degradation(2, preset=preset, noise="gaussian", noise_std=sigma)
    lr = degradation(flat(0.5), torch.Generator().manual_seed(0))
    check_moments(lr, 0.5, sigma)


@pytest.mark.parametrize(("signal", "sigma"), [(0.1, 0.05), (0.05, 0.05), (0.0, 0.03)])
def test_preset_rician_noise_has_the_rician_mean_and_std(signal, sigma):
    degradation = Degradation(2, preset="seed", noise="rician", noise_std=sigma)
    lr = degradation(flat(signal), torch.Generator().manual_seed(1))
    check_moments(lr, *rician_moments(signal, sigma))


@pytest.mark.parametrize(("signal", "sigma"), [(0.1, 0.05), (0.04, 0.05), (0.0, 0.03)])
def test_kspace_noise_is_rician_with_the_configured_sigma(signal, sigma):
    lr = KSpace(2, noise_std=sigma)(flat(signal, size=64), torch.Generator().manual_seed(2))
    check_moments(lr, *rician_moments(signal, sigma))


def test_kspace_noise_is_white_without_a_window():
    # Independent pixels: the lag-1 correlation of the real-channel noise is ~0 (A >> sigma).
    lr = KSpace(2, noise_std=0.01)(flat(0.5), torch.Generator().manual_seed(3)).numpy() - 0.5
    lag1 = np.mean(lr[..., 1:] * lr[..., :-1]) / np.mean(lr**2)
    assert abs(lag1) < 0.03
