"""Independent reference computations the tests compare srmri against (NumPy/SciPy, float64).

Nothing here imports srmri: these are the textbook formulas, written out separately so that a
test of srmri's code can fail.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def cubic(x: np.ndarray, a: float) -> np.ndarray:
    """Keys' cubic convolution kernel with parameter ``a``."""
    x = np.abs(x)
    near = (a + 2) * x**3 - (a + 3) * x**2 + 1
    far = a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


def resample_matrix(n_in: int, n_out: int, a: float, antialias: bool) -> np.ndarray:
    """``(n_out, n_in)`` matrix of 1-D cubic resampling, pixel-centre convention.

    Downscaling with ``antialias`` stretches the kernel by the scale and renormalises the weights
    inside the image (PIL's convention); otherwise the 4-tap kernel with clamped borders is used.
    """
    step = n_in / n_out
    matrix = np.zeros((n_out, n_in))
    for out in range(n_out):
        centre = (out + 0.5) * step
        if antialias and step > 1:
            taps = np.arange(int(np.floor(centre - 2 * step)), int(np.ceil(centre + 2 * step)) + 1)
            weights = cubic((taps + 0.5 - centre) / step, a)
            inside = (taps >= 0) & (taps < n_in)
            matrix[out, taps[inside]] += weights[inside] / weights[inside].sum()
        else:
            x = centre - 0.5
            for k in range(-1, 3):
                tap = int(np.floor(x)) + k
                matrix[out, min(max(tap, 0), n_in - 1)] += cubic(x - tap, a)
    return matrix


def resize(image: np.ndarray, shape: tuple[int, int], a: float, antialias: bool) -> np.ndarray:
    rows = resample_matrix(image.shape[0], shape[0], a, antialias)
    cols = resample_matrix(image.shape[1], shape[1], a, antialias)
    return rows @ image @ cols.T


def gaussian_blur(image: np.ndarray, size: int, sigma: float) -> np.ndarray:
    """Normalised ``size x size`` Gaussian, mirrored borders (d c b | a b c d | c b a)."""
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    kernel = np.outer(g, g) / np.outer(g, g).sum()
    return ndimage.correlate(image, kernel, mode="mirror")


def psnr(sr: np.ndarray, hr: np.ndarray, mask: np.ndarray | None = None) -> float:
    """PSNR in dB for data range 1 over all pixels, or over ``mask`` only."""
    error = (np.clip(sr, 0, 1) - hr) ** 2
    mse = error[mask].mean() if mask is not None else error.mean()
    return float(10 * np.log10(1.0 / mse))
