"""Interpolation baselines (bicubic, linear, nearest, lanczos, bspline, zero_fill) as parameter-free
networks.

:func:`upsample` is the one definition of the bicubic baseline: the LightningModule, evaluation
and every report upsample the LR image through it. It uses the pixel-centre convention of
:mod:`srmri.degradation` (``align_corners=False``): LR pixel ``i`` sits at HR coordinate
``(i + 0.5) * scale - 0.5``, so an SR image and its HR reference align pixel for pixel.
Bicubic uses ``a = -0.75`` (PyTorch, OpenCV) and can overshoot [0, 1]; the metrics clamp.

Lanczos is written out with its kernel ``L(x) = sinc(x) sinc(x / a)`` for ``|x| < a`` (``a = 3``
lobes), zero beyond, on the same pixel-centre convention. Its taps beyond the border repeat the
edge pixel (as torch's bicubic does) and each output's weights are renormalised to sum to one, so a
constant image stays constant.

``bspline`` is the interpolating cubic B-spline (mirror boundaries; :mod:`srmri.models.bspline`),
the baseline of thick-slice data; ``zero_fill`` is zero-padded k-space (periodic sinc
interpolation; :func:`srmri.degradation.zero_fill`), the baseline of the ``kspace`` degradation.
Both are applied separably on the same pixel-centre convention.

Volumes ``(B, C, d, h, w)`` (``spatial_dims=3``) take ``bspline`` (tricubic B-spline, the 3-D
baseline), ``linear`` (trilinear), ``nearest`` and ``zero_fill`` along all three axes; torch has no
tricubic convolution kernel, so ``bicubic`` and ``lanczos`` are slice modes only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srmri.degradation import zero_fill
from srmri.models.blocks import check_scale, check_spatial_dims
from srmri.models.bspline import bspline_resample

MODES = ("bicubic", "linear", "nearest", "lanczos", "bspline", "zero_fill")
# srmri's mode name -> torch's (lanczos, bspline and zero_fill are not torch modes).
TORCH_MODES = {"bicubic": "bicubic", "linear": "bilinear", "nearest": "nearest"}
VOLUME_MODES = ("bspline", "linear", "nearest", "zero_fill")
LOBES = 3


def upsample(lr: Tensor, scale: int, mode: str = "bicubic") -> Tensor:
    """Interpolate ``lr`` ``(B, C, h, w)`` to ``(B, C, h * scale, w * scale)``, or a volume
    ``(B, C, d, h, w)`` along all three axes (modes :data:`VOLUME_MODES`).

    Raises:
        ValueError: if ``mode`` is unknown, or ``lr`` is neither 4-D nor 5-D, or a 5-D ``lr`` asks
            for a slice-only mode.
    """
    if mode not in MODES:
        raise ValueError(f"interpolation mode must be one of {MODES}, got {mode!r}")
    if lr.ndim == 5:
        if mode not in VOLUME_MODES:
            raise ValueError(f"volumes are interpolated by one of {VOLUME_MODES}, got {mode!r}")
        if mode in ("linear", "nearest"):
            align_corners = None if mode == "nearest" else False
            torch_mode = "trilinear" if mode == "linear" else "nearest"
            return F.interpolate(
                lr, scale_factor=scale, mode=torch_mode, align_corners=align_corners
            )
    elif lr.ndim != 4:
        raise ValueError(f"upsample expects an LR batch (B, C, h, w), got shape {tuple(lr.shape)}")
    if mode == "lanczos":
        return lanczos_upsample(lr, scale)
    if mode == "zero_fill":
        return zero_fill(lr, scale)
    if mode == "bspline":
        return bspline_upsample(lr, scale)
    # nearest has no corner convention to choose; torch rejects align_corners for it.
    align_corners = None if mode == "nearest" else False
    return F.interpolate(
        lr, scale_factor=scale, mode=TORCH_MODES[mode], align_corners=align_corners
    )


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


def bspline_upsample(lr: Tensor, scale: int) -> Tensor:
    """Cubic B-spline of ``lr`` ``(B, C, h, w)`` to ``(B, C, h * scale, w * scale)`` (tricubic
    along every axis of ``(B, C, d, h, w)``), separably; HR pixel ``x`` sits at LR coordinate
    ``(x + 0.5) / scale - 0.5``."""
    for axis in range(-(lr.ndim - 2), 0):
        n = lr.shape[axis] * scale
        lr = bspline_resample(lr, (torch.arange(n, dtype=torch.float64) + 0.5) / scale - 0.5, axis)
    return lr


class Interpolation(nn.Module):
    """A fixed interpolation as a network without parameters, so the baseline runs through every
    command (train, evaluate, predict) like a learned model.

    ``lr`` ``(B, C, h, w)`` -> ``sr`` ``(B, C, h * scale, w * scale)``.

    Args:
        scale: upscaling factor, 2, 3 or 4.
        channels: image channels ``C``, default 1.
        mode: ``bicubic`` (default), ``linear``, ``nearest``, ``lanczos``, ``bspline`` or
            ``zero_fill``; volumes: ``bspline`` (tricubic), ``linear``, ``nearest``, ``zero_fill``.
        spatial_dims: 2 (default) or 3 (volumes ``(B, C, d, h, w)``).
    """

    def __init__(
        self, scale: int, channels: int = 1, mode: str = "bicubic", spatial_dims: int = 2
    ) -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"interpolation mode must be one of {MODES}, got {mode!r}")
        if spatial_dims == 3 and mode not in VOLUME_MODES:
            raise ValueError(f"volumes are interpolated by one of {VOLUME_MODES}, got {mode!r}")
        self.scale = check_scale(scale)
        self.channels = channels
        self.mode = mode
        self.spatial_dims = check_spatial_dims(spatial_dims)

    def forward(self, lr: Tensor) -> Tensor:
        """``(B, C, h, w)`` -> ``(B, C, h * scale, w * scale)`` (every axis of a volume)."""
        if lr.ndim != 2 + self.spatial_dims or lr.shape[1] != self.channels:
            shape = "d, h, w" if self.spatial_dims == 3 else "h, w"
            raise ValueError(
                f"{self.mode} interpolation expects (B, {self.channels}, {shape}), "
                f"got shape {tuple(lr.shape)}"
            )
        return upsample(lr, self.scale, self.mode)
