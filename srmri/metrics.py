"""PSNR and SSIM, the only definitions srmri scores with.

Every score is computed per image in float64 on the normalised range with a FIXED ``data_range``
(default 1.0), never a range inferred from the batch. Predictions are clamped to
``[0, data_range]`` first, as a stored image would be. An optional ``border`` crop and an optional
boolean ``mask`` (brain region) apply identically to every method, so a model and bicubic are always
scored on the same pixels.

SSIM uses the standard Gaussian window (11 x 11, sigma 1.5, K1=0.01, K2=0.03) through torchmetrics;
its local statistics need a full window, so SSIM is averaged over the pixels whose window lies
inside the image (a ``(window - 1) / 2`` frame is excluded, as in scikit-image), intersected with the
mask when one is given.

Volumes ``(B, C, D, H, W)`` are scored the same way, per volume: PSNR over all voxels, SSIM with the
``11 x 11 x 11`` Gaussian window averaged over the voxels whose window lies inside the volume, the
border crop and the mask applied along all three axes. The 3-D local statistics are computed with
the separable Gaussian (three 1-D passes of 11 taps, the same numbers as torchmetrics' 3-D SSIM
up to rounding): torchmetrics convolves with the full ``11^3`` kernel, which in float64 on a CPU
took seconds per block.

Both images are converted to float64 before anything else (float64 input is never rounded to
float32 on the way, and lower-precision input is widened exactly), and the Gaussian window is built
in float64: in float32 the SSIM of smooth images drifts 1e-5 above scikit-image's. float64 tensors
are also outside autocast, so mixed-precision validation scores at full precision.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics.functional.image import structural_similarity_index_measure

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5


def _prepare(
    sr: Tensor, hr: Tensor, mask: Tensor | None, border: int, data_range: float
) -> tuple[Tensor, Tensor, Tensor | None]:
    if sr.shape != hr.shape or sr.ndim not in (4, 5):
        raise ValueError(
            "metrics expect matching (B, C, H, W) or (B, C, D, H, W) tensors, got "
            f"{tuple(sr.shape)} and {tuple(hr.shape)}"
        )
    spatial = sr.ndim - 2
    if mask is not None and mask.shape[-spatial:] != hr.shape[-spatial:]:
        raise ValueError(f"mask shape {tuple(mask.shape)} does not match image {tuple(hr.shape)}")
    # torchmetrics builds its window in the input's dtype: float64 in, float64 window.
    sr = sr.to(torch.float64).clamp(0.0, data_range)
    hr = hr.to(torch.float64)
    if border:
        inside = (..., *(slice(border, -border),) * spatial)
        sr, hr = sr[inside], hr[inside]
        if mask is not None:
            mask = mask[inside]
    if mask is not None:
        mask = mask.bool().expand_as(hr)
    return sr, hr, mask


def _masked_mean(values: Tensor, mask: Tensor | None) -> Tensor:
    """Mean over (C, *spatial) per image; inside ``mask`` only when given (NaN for an empty mask)."""
    if mask is None:
        return values.flatten(1).mean(1)
    weights = mask.flatten(1).to(values.dtype)
    return (values.flatten(1) * weights).sum(1) / weights.sum(1)


def psnr(
    sr: Tensor,
    hr: Tensor,
    mask: Tensor | None = None,
    border: int = 0,
    data_range: float = 1.0,
) -> Tensor:
    """Peak signal-to-noise ratio in dB per image, float64 ``(B,)``.

    Args:
        sr: prediction ``(B, C, H, W)``, or a volume ``(B, C, D, H, W)``.
        hr: reference of the same shape, in ``[0, data_range]``.
        mask: optional ``(B, 1 or C, *spatial)`` boolean region; only its voxels enter the MSE.
        border: pixels cropped from every side before scoring.
        data_range: the fixed peak value of the normalised images.
    """
    sr, hr, mask = _prepare(sr, hr, mask, border, data_range)
    mse = _masked_mean((sr - hr) ** 2, mask)
    return 10.0 * torch.log10(data_range**2 / mse)


SSIM_K1, SSIM_K2 = 0.01, 0.03


def _local_means(images: Tensor, kernel: Tensor) -> Tensor:
    """Gaussian-weighted means of ``(N, *spatial)`` over full windows: every spatial axis shrinks
    by ``len(kernel) - 1``."""
    taps = kernel.numel()
    for dim in range(1, images.ndim):
        size = images.shape[dim] - taps + 1
        # A weighted sum of shifted views: memory-bound adds, several times faster than a
        # matmul over unfolded (copied) windows on a CPU.
        filtered = images.narrow(dim, 0, size) * kernel[0]
        for tap in range(1, taps):
            filtered.add_(images.narrow(dim, tap, size), alpha=float(kernel[tap]))
        images = filtered
    return images


def _ssim_map_separable(sr: Tensor, hr: Tensor, data_range: float) -> Tensor:
    """Per-voxel SSIM of ``(B, C, *spatial)`` with the separable Gaussian window, NaN frame."""
    offsets = torch.arange(SSIM_WINDOW, dtype=sr.dtype, device=sr.device) - (SSIM_WINDOW - 1) / 2
    kernel = torch.exp(-(offsets**2) / (2 * SSIM_SIGMA**2))
    kernel = kernel / kernel.sum()
    x, y = sr.flatten(0, 1), hr.flatten(0, 1)
    mu_x, mu_y, xx, yy, xy = _local_means(
        torch.stack([x, y, x * x, y * y, x * y]).flatten(0, 1), kernel
    ).unflatten(0, (5, -1))
    var_x, var_y, cov = xx - mu_x**2, yy - mu_y**2, xy - mu_x * mu_y
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    inner = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    )
    pad = (SSIM_WINDOW - 1) // 2
    full = torch.full_like(x, float("nan"))
    full[(slice(None), *(slice(pad, -pad),) * (x.ndim - 1))] = inner
    return full.view_as(sr)


def ssim_map(sr: Tensor, hr: Tensor, data_range: float = 1.0) -> Tensor:
    """Per-pixel SSIM ``(B, C, H, W)`` (per voxel of ``(B, C, D, H, W)``); a frame of
    ``(window - 1) / 2`` pixels on every side of every spatial axis is NaN."""
    if sr.ndim == 5:
        return _ssim_map_separable(sr, hr, data_range)
    _, full = structural_similarity_index_measure(
        sr,
        hr,
        gaussian_kernel=True,
        sigma=SSIM_SIGMA,
        kernel_size=SSIM_WINDOW,
        data_range=data_range,
        return_full_image=True,
    )
    pad = (SSIM_WINDOW - 1) // 2
    valid = torch.zeros_like(full, dtype=torch.bool)
    valid[(..., *(slice(pad, -pad),) * (full.ndim - 2))] = True
    return full.masked_fill(~valid, float("nan"))


def ssim(
    sr: Tensor,
    hr: Tensor,
    mask: Tensor | None = None,
    border: int = 0,
    data_range: float = 1.0,
) -> Tensor:
    """Structural similarity per image, float64 ``(B,)``, with the same arguments as :func:`psnr`."""
    sr, hr, mask = _prepare(sr, hr, mask, border, data_range)
    full = ssim_map(sr, hr, data_range)
    valid = ~torch.isnan(full)
    region = valid if mask is None else valid & mask
    return _masked_mean(torch.nan_to_num(full), region)
