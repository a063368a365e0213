import math

import numpy as np
import pytest
import torch

from srmri.models.interpolation import lanczos_kernel, lanczos_upsample


def reference_lanczos(lr: np.ndarray, scale: int, a: int = 3) -> np.ndarray:
    """Textbook separable Lanczos-a upsampling, pixel centres, edge taps repeated, weights normalised."""

    def kernel(x: float) -> float:
        if x == 0:
            return 1.0
        if abs(x) >= a:
            return 0.0
        return a * math.sin(math.pi * x) * math.sin(math.pi * x / a) / (math.pi**2 * x**2)

    def matrix(n: int) -> np.ndarray:
        out = np.zeros((n * scale, n))
        for j in range(n * scale):
            u = (j + 0.5) / scale - 0.5
            taps = range(math.floor(u) - a + 1, math.floor(u) + a + 1)
            weights = np.array([kernel(u - t) for t in taps])
            for t, w in zip(taps, weights / weights.sum(), strict=True):
                out[j, min(max(t, 0), n - 1)] += w
        return out

    return matrix(lr.shape[0]) @ lr @ matrix(lr.shape[1]).T


def test_kernel_is_one_at_zero_and_zero_at_other_integers():
    x = torch.arange(-4.0, 5.0, dtype=torch.float64)
    expected = (x == 0).double()
    assert torch.allclose(lanczos_kernel(x), expected, atol=1e-12)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_upsampling_matches_a_textbook_implementation(scale):
    lr = np.random.default_rng(scale).random((7, 9))
    got = lanczos_upsample(torch.from_numpy(lr)[None, None], scale)[0, 0].numpy()
    assert np.allclose(got, reference_lanczos(lr, scale), atol=1e-10)


def test_constant_image_stays_constant_and_impulse_stays_centred():
    scale = 2
    assert torch.allclose(
        lanczos_upsample(torch.full((1, 1, 6, 6), 0.3, dtype=torch.float64), scale),
        torch.full((1, 1, 12, 12), 0.3, dtype=torch.float64),
    )
    # An impulse at LR pixel (5, 5) lands centred on HR coordinate (5 + 0.5) * 2 - 0.5 = 10.5.
    lr = torch.zeros(1, 1, 11, 11, dtype=torch.float64)
    lr[..., 5, 5] = 1.0
    sr = lanczos_upsample(lr, scale)[0, 0]
    rows = torch.arange(22, dtype=torch.float64)
    profile = sr.sum(1)
    assert float((profile * rows).sum() / profile.sum()) == pytest.approx(10.5, abs=1e-9)
