"""OneAxisSR: an EDSR-style network that upsamples ONE image axis by a (possibly non-integer) factor.

Through-plane super resolution (:mod:`srmri.isotropic`) needs ``(B, C, h, W)`` -> ``(B, C, round(h *
factor), W)``: the rows are thick slices, the columns an in-plane axis that keeps its resolution.
The body is EDSR's (residual blocks without normalisation, a long skip); the upsampler is a
sub-pixel convolution along the rows only (``F -> r F`` channels, ``r = ceil(factor)``, shuffled into
``r`` rows per input row), and when ``factor`` is not an integer the ``h * r`` rows are resized
exactly to ``round(h * factor)`` (linear, pixel-centre convention: both grids tile the same field
of view). The output is a residual over the cubic B-spline interpolation of the input on the same
grid, so an untrained network already equals the baseline and training only learns the detail the
B-spline misses.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srmri.models.blocks import ResidualBlock, conv2d, pixel_mean_buffer
from srmri.models.bspline import bspline_resample


def output_rows(rows: int, factor: float) -> int:
    """The number of output rows for ``rows`` input rows: ``round(rows * factor)``."""
    return round(rows * factor)


def thin_coordinates(rows: int, size: int) -> Tensor:
    """Input-row coordinates ``(size,)`` of ``size`` output rows tiling the field of view of
    ``rows`` input rows (input row ``i`` at ``i``): ``(j + 0.5) * rows / size - 0.5``."""
    return (torch.arange(size, dtype=torch.float64) + 0.5) * rows / size - 0.5


def bspline_rows(lr: Tensor, size: int) -> Tensor:
    """The cubic B-spline of ``lr`` ``(B, C, h, W)`` along its rows on ``size`` output rows that
    tile the same field of view: ``(B, C, size, W)`` (the one-axis baseline)."""
    return bspline_resample(lr, thin_coordinates(lr.shape[-2], size), axis=-2)


class OneAxisSR(nn.Module):
    """``lr`` ``(B, C, h, W)`` in [0, 1] -> ``sr`` ``(B, C, round(h * factor), W)``.

    Args:
        factor: upscaling factor of the rows (> 1; non-integer allowed, e.g. 4.44).
        channels: image channels ``C``, default 1.
        n_blocks: residual blocks, default 8.
        n_feats: feature channels, default 32.
        res_scale: factor on each residual branch, default 1.0.
        residual: ``True`` (default) adds the cubic B-spline interpolation of ``lr``; ``False``
            predicts the image itself (plus the pixel mean).
    """

    def __init__(
        self,
        factor: float,
        channels: int = 1,
        n_blocks: int = 8,
        n_feats: int = 32,
        res_scale: float = 1.0,
        residual: bool = True,
    ) -> None:
        super().__init__()
        if not factor > 1:
            raise ValueError(f"OneAxisSR factor must be > 1, got {factor!r}")
        self.factor = float(factor)
        # The factor of the axes: rows by `factor`, columns kept (read by SRModule and reports).
        self.scale = (self.factor, 1.0)
        self.channels = channels
        self.residual = residual
        self.shuffle = math.ceil(self.factor - 1e-9)
        self.register_buffer("pixel_mean", pixel_mean_buffer(channels, None))
        self.conv_first = conv2d(channels, n_feats)
        self.body = nn.Sequential(*(ResidualBlock(n_feats, res_scale) for _ in range(n_blocks)))
        self.conv_after_body = conv2d(n_feats, n_feats)
        self.conv_up = conv2d(n_feats, n_feats * self.shuffle)
        self.conv_last = conv2d(n_feats, channels)
        if residual:
            # Start at the baseline: the learned detail is zero until training moves it.
            nn.init.zeros_(self.conv_last.weight)
            nn.init.zeros_(self.conv_last.bias)

    def forward(self, lr: Tensor) -> Tensor:
        """``(B, C, h, W)`` -> ``(B, C, round(h * factor), W)``."""
        if lr.ndim != 4 or lr.shape[1] != self.channels:
            raise ValueError(
                f"OneAxisSR expects (B, {self.channels}, h, W), got shape {tuple(lr.shape)}"
            )
        batch, _, rows, cols = lr.shape
        features = self.conv_first(lr - self.pixel_mean)
        features = features + self.conv_after_body(self.body(features))
        up = self.conv_up(features)
        n_feats = features.shape[1]
        # Sub-pixel along the rows only: channel block i becomes row offset i of each input row.
        up = up.view(batch, n_feats, self.shuffle, rows, cols).permute(0, 1, 3, 2, 4)
        up = up.reshape(batch, n_feats, rows * self.shuffle, cols)
        detail = self.conv_last(up)
        size = (output_rows(rows, self.factor), cols)
        if detail.shape[-2] != size[0]:
            detail = F.interpolate(detail, size=size, mode="bilinear", align_corners=False)
        if not self.residual:
            return detail + self.pixel_mean
        # The baseline in float32 even under autocast: a bfloat16 image would carry its 8-bit
        # mantissa into every output voxel, where only the small detail should be approximate.
        with torch.autocast(lr.device.type, enabled=False):
            return bspline_rows(lr.float(), size[0]) + detail.float()
