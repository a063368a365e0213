"""3-D degradations (``spatial_dims=3``) against NumPy/SciPy computations written out here."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from srmri.degradation import Degradation, KSpace, build_degradation, zero_fill
from tests.reference import resample_matrix


def smooth_volume(shape: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    """A smooth random volume in (0.1, 0.9), float64."""
    rng = np.random.default_rng(seed)
    noise = ndimage.gaussian_filter(rng.random(shape), 1.5, mode="wrap")
    noise = (noise - noise.min()) / (noise.max() - noise.min())
    return 0.1 + 0.8 * noise


def along_axes(volume: np.ndarray, matrices: list[np.ndarray]) -> np.ndarray:
    """Apply one 1-D matrix along each of the three axes of ``volume``."""
    d, h, w = matrices
    return np.einsum("ad,bh,cw,dhw->abc", d, h, w, volume)


def gaussian_3d(volume: np.ndarray, size: int, sigma: float) -> np.ndarray:
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    kernel = g[:, None, None] * g[None, :, None] * g[None, None, :]
    return ndimage.correlate(volume, kernel, mode="mirror")


@pytest.mark.parametrize("preset", ["seed", "thesis_opencv", "bicubic"])
@pytest.mark.parametrize("scale", [2, 3])
def test_presets_in_3d_are_the_separable_kernels(preset, scale):
    shape = (6 * scale, 5 * scale, 4 * scale)
    hr = smooth_volume(shape)
    lr_shape = tuple(n // scale for n in shape)
    if preset == "thesis_opencv":
        blurred = gaussian_3d(hr, 3, 1.0)
        expected = along_axes(
            blurred,
            [resample_matrix(n, m, -0.75, False) for n, m in zip(shape, lr_shape, strict=True)],
        )
    else:
        expected = along_axes(
            hr, [resample_matrix(n, m, -0.5, True) for n, m in zip(shape, lr_shape, strict=True)]
        )
        if preset == "seed":
            expected = gaussian_3d(expected, 3, 1.0)
    degradation = Degradation(scale=scale, preset=preset, spatial_dims=3)
    lr = degradation(torch.from_numpy(hr)[None, None])
    assert lr.shape == (1, 1, *lr_shape)
    np.testing.assert_allclose(lr[0, 0].numpy(), np.clip(expected, 0, 1), atol=1e-6)


def test_3d_preset_of_a_volume_constant_in_depth_is_the_2d_preset():
    plane = smooth_volume((1, 12, 16))[0]
    volume = np.repeat(plane[None], 8, axis=0)
    lr_3d = Degradation(2, spatial_dims=3)(torch.from_numpy(volume)[None, None])[0, 0]
    lr_2d = Degradation(2)(torch.from_numpy(plane)[None, None])[0, 0]
    for depth in range(4):
        np.testing.assert_allclose(lr_3d[depth].numpy(), lr_2d.numpy(), atol=1e-6)


def kspace_reference(hr: np.ndarray, scale: int, window: str) -> np.ndarray:
    """Central block of the 3-D spectrum, windowed, moved onto the block centres, magnitude."""
    spectrum = np.fft.fftshift(np.fft.fftn(hr) / hr.size)
    slices, filters = [], []
    for n in hr.shape:
        m = n // scale
        slices.append(slice(n // 2 - m // 2, n // 2 - m // 2 + m))
        k = np.arange(m) - m // 2  # centred order: index m//2 is DC
        weight = 0.54 + 0.46 * np.cos(2 * np.pi * k / m) if window == "hamming" else np.ones(m)
        filters.append(weight * np.exp(2j * np.pi * k * (scale - 1) / (2 * n)))
    block = spectrum[tuple(slices)]
    block = block * filters[0][:, None, None] * filters[1][None, :, None] * filters[2]
    return np.abs(np.fft.ifftn(np.fft.ifftshift(block)) * block.size)


@pytest.mark.parametrize("window", ["none", "hamming"])
@pytest.mark.parametrize(("shape", "scale"), [((16, 12, 10), 2), ((12, 9, 15), 3)])
def test_kspace_3d_truncates_the_3d_spectrum(window, shape, scale):
    hr = smooth_volume(shape, seed=1)
    lr = KSpace(scale, window=window, spatial_dims=3)(torch.from_numpy(hr)[None, None])
    np.testing.assert_allclose(lr[0, 0].numpy(), kspace_reference(hr, scale, window), atol=1e-12)


def test_zero_fill_3d_restores_a_band_limited_volume():
    n, scale = 12, 2
    x = np.arange(n)
    wave = [1 + 0.2 * np.cos(2 * np.pi * f * x / n + p) for f, p in ((1, 0.3), (2, 1.0), (1, -0.7))]
    hr = wave[0][:, None, None] * wave[1][None, :, None] * wave[2][None, None, :] / 2
    lr = KSpace(scale, spatial_dims=3)(torch.from_numpy(hr)[None, None])
    np.testing.assert_allclose(zero_fill(lr, scale)[0, 0].numpy(), hr, atol=1e-12)


def test_3d_grid_and_config():
    degradation = Degradation(scale=2, spatial_dims=3)
    assert degradation.factors == (2.0, 2.0, 2.0) and degradation.spatial_dims == 3
    assert degradation.lr_shape((20, 16, 14, 12)) == (8, 7, 6)
    np.testing.assert_allclose(
        degradation.lr_positions(14, axis=-3).numpy(), np.arange(7) * 2 + 0.5
    )
    assert build_degradation(degradation.config()) == degradation
    kspace = KSpace(3, spatial_dims=3)
    assert build_degradation(kspace.config()) == kspace


def test_3d_rejects_slices_and_bad_dims():
    with pytest.raises(ValueError, match=r"\(B, C, D, H, W\)"):
        Degradation(2, spatial_dims=3)(torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match="spatial_dims must be 2 or 3"):
        KSpace(2, spatial_dims=4)
    with pytest.raises(ValueError, match="8x8x7 is not a multiple of scale 2"):
        KSpace(2, spatial_dims=3)(torch.rand(1, 1, 8, 8, 7))
    assert not math.isnan(float(Degradation(2, spatial_dims=3)(torch.rand(1, 1, 4, 4, 4)).sum()))
