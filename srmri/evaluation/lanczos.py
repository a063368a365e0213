"""Lanczos upsampling by an integer scale, written out with its kernel.

The kernel is ``L(x) = sinc(x) sinc(x / a)`` for ``|x| < a`` (``a = 3`` lobes), zero beyond. The
pixel-centre convention is the one of :mod:`srmri.degradation` and :func:`srmri.models.upsample`:
HR pixel ``j`` sits at LR coordinate ``(j + 0.5) / scale - 0.5``, so a Lanczos output aligns with
bicubic and HR pixel for pixel. Taps beyond the border repeat the edge pixel (as torch's bicubic
does), and each output's weights are renormalised to sum to one, so a constant image stays constant.
"""

from __future__ import annotations

import torch
from torch import Tensor

LOBES = 3


def lanczos_kernel(x: Tensor, lobes: int = LOBES) -> Tensor:
    """``sinc(x) sinc(x / lobes)`` inside ``|x| < lobes``, 0 outside (``torch.sinc`` is sin(pi x)/(pi x))."""
    inside = x.abs() < lobes
    return torch.where(inside, torch.sinc(x) * torch.sinc(x / lobes), torch.zeros_like(x))


def lanczos_matrix(n_in: int, scale: int, lobes: int = LOBES) -> Tensor:
    """``(n_in * scale, n_in)`` float64 matrix of 1-D Lanczos upsampling by ``scale``."""
    position = (torch.arange(n_in * scale, dtype=torch.float64) + 0.5) / scale - 0.5
    taps = torch.floor(position)[:, None] + torch.arange(1 - lobes, lobes + 1, dtype=torch.float64)
    weights = lanczos_kernel(position[:, None] - taps, lobes)
    weights = weights / weights.sum(dim=1, keepdim=True)
    index = taps.clamp(0, n_in - 1).long()
    matrix = torch.zeros(n_in * scale, n_in, dtype=torch.float64)
    return matrix.scatter_add_(1, index, weights)


def lanczos_upsample(lr: Tensor, scale: int, lobes: int = LOBES) -> Tensor:
    """Upsample ``lr`` ``(B, C, h, w)`` to ``(B, C, h * scale, w * scale)``, separably."""
    if lr.ndim != 4:
        raise ValueError(f"lanczos_upsample expects (B, C, h, w), got shape {tuple(lr.shape)}")
    h, w = lr.shape[-2:]
    rows = lanczos_matrix(h, scale, lobes).to(lr.device, lr.dtype)
    cols = lanczos_matrix(w, scale, lobes).to(lr.device, lr.dtype)
    return rows @ lr @ cols.T
