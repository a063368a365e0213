"""Interpolation baselines (bicubic, bilinear, nearest) as parameter-free networks.

:func:`upsample` is the one definition of the bicubic baseline: the LightningModule, evaluation
and every report upsample the LR image through it. It uses the pixel-centre convention of
:mod:`srmri.degradation` (``align_corners=False``): LR pixel ``i`` sits at HR coordinate
``(i + 0.5) * scale - 0.5``, so an SR image and its HR reference align pixel for pixel.
Bicubic uses ``a = -0.75`` (PyTorch, OpenCV) and can overshoot [0, 1]; the metrics clamp.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from srmri.models.blocks import check_scale

MODES = ("bicubic", "bilinear", "nearest")


def upsample(lr: Tensor, scale: int, mode: str = "bicubic") -> Tensor:
    """Interpolate ``lr`` ``(B, C, h, w)`` to ``(B, C, h * scale, w * scale)``.

    Raises:
        ValueError: if ``mode`` is unknown or ``lr`` is not 4-D.
    """
    if mode not in MODES:
        raise ValueError(f"interpolation mode must be one of {MODES}, got {mode!r}")
    if lr.ndim != 4:
        raise ValueError(f"upsample expects an LR batch (B, C, h, w), got shape {tuple(lr.shape)}")
    # nearest has no corner convention to choose; torch rejects align_corners for it.
    align_corners = None if mode == "nearest" else False
    return F.interpolate(lr, scale_factor=scale, mode=mode, align_corners=align_corners)


class Interpolation(nn.Module):
    """A fixed interpolation as a network without parameters, so the baseline runs through every
    command (train, evaluate, predict) like a learned model.

    ``lr`` ``(B, C, h, w)`` -> ``sr`` ``(B, C, h * scale, w * scale)``.

    Args:
        scale: upscaling factor, 2, 3 or 4.
        channels: image channels ``C``, default 1.
        mode: ``bicubic`` (default), ``bilinear`` or ``nearest``.
    """

    def __init__(self, scale: int, channels: int = 1, mode: str = "bicubic") -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"interpolation mode must be one of {MODES}, got {mode!r}")
        self.scale = check_scale(scale)
        self.channels = channels
        self.mode = mode

    def forward(self, lr: Tensor) -> Tensor:
        """``(B, C, h, w)`` -> ``(B, C, h * scale, w * scale)``."""
        if lr.ndim != 4 or lr.shape[1] != self.channels:
            raise ValueError(
                f"{self.mode} interpolation expects (B, {self.channels}, h, w), "
                f"got shape {tuple(lr.shape)}"
            )
        return upsample(lr, self.scale, self.mode)
