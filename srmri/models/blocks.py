"""Pieces shared by the srmri networks: convolutions, the residual block, the upsampler, the mean.

Every convolution keeps the spatial size (``padding = kernel // 2``, zero padding), as in
EDSR-PyTorch and the WDSR reference code, so imported weights compute the same function.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm

from srmri.degradation import SCALES

# DIV2K training-set RGB mean in [0, 1], the value EDSR-PyTorch and WDSR subtract.
DIV2K_RGB_MEAN = (0.4488, 0.4371, 0.4040)
# A 1-channel image in [0, 1] has no dataset mean to borrow; the centre of the range is neutral.
GREY_MEAN = 0.5


def check_scale(scale: int) -> int:
    """Return ``scale`` if srmri supports it (2, 3 or 4), else raise ``ValueError``."""
    if scale not in SCALES:
        raise ValueError(f"network scale must be one of {SCALES}, got {scale!r}")
    return scale


def conv2d(in_channels: int, out_channels: int, kernel_size: int = 3) -> nn.Conv2d:
    """A biased convolution that keeps the spatial size."""
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)


def wn_conv2d(in_channels: int, out_channels: int, kernel_size: int = 3) -> nn.Conv2d:
    """:func:`conv2d` with weight normalisation (``weight = g * v / ||v||`` per output channel).

    Its parameters are the magnitude ``g`` ``(out, 1, 1, 1)``, the direction ``v`` and the bias.
    """
    return weight_norm(conv2d(in_channels, out_channels, kernel_size))


def pixel_mean_buffer(channels: int, pixel_mean: float | Sequence[float] | None) -> Tensor:
    """The per-channel mean ``(1, C, 1, 1)`` a network subtracts from its input and adds back.

    Args:
        channels: number of image channels ``C``.
        pixel_mean: one value for every channel, one value per channel, or ``None`` for the
            default: 0.5 for 1 channel, the DIV2K RGB mean (0.4488, 0.4371, 0.4040) for 3.

    Raises:
        ValueError: if ``pixel_mean`` has the wrong length, or is ``None`` for a channel count
            without a default.
    """
    if pixel_mean is None:
        if channels == 1:
            pixel_mean = GREY_MEAN
        elif channels == 3:
            pixel_mean = DIV2K_RGB_MEAN
        else:
            raise ValueError(
                f"pixel_mean has no default for {channels} channels (only 1 and 3); give one"
            )
    if isinstance(pixel_mean, (int, float)):
        pixel_mean = [float(pixel_mean)] * channels
    values = [float(value) for value in pixel_mean]
    if len(values) != channels:
        raise ValueError(
            f"pixel_mean must have one value per channel ({channels}), got {len(values)}: {values}"
        )
    return torch.tensor(values).view(1, channels, 1, 1)


class ResidualBlock(nn.Module):
    """EDSR's residual block without batch normalisation: ``x + res_scale * conv(relu(conv(x)))``.

    Args:
        n_feats: feature channels ``F`` in and out.
        res_scale: factor on the residual branch (0.1 keeps the wide EDSR stable), default 1.0.
    """

    def __init__(self, n_feats: int, res_scale: float = 1.0) -> None:
        super().__init__()
        self.res_scale = res_scale
        self.conv1 = conv2d(n_feats, n_feats)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv2d(n_feats, n_feats)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, F, h, w)`` -> ``(B, F, h, w)``."""
        return x + self.res_scale * self.conv2(self.relu(self.conv1(x)))


class Upsampler(nn.Sequential):
    """Sub-pixel upsampling of features by ``scale``, keeping ``n_feats`` channels.

    ``log2(scale)`` x [conv ``F -> 4F``, PixelShuffle(2)] for 2 and 4; conv ``F -> 9F``,
    PixelShuffle(3) for 3. The layout (conv at even indices) matches EDSR-PyTorch's upsampler.

    Args:
        scale: 2, 3 or 4.
        n_feats: feature channels ``F``.
    """

    def __init__(self, scale: int, n_feats: int) -> None:
        check_scale(scale)
        factor = 3 if scale == 3 else 2
        steps = 1 if scale == 3 else int(math.log2(scale))
        layers: list[nn.Module] = []
        for _ in range(steps):
            layers += [conv2d(n_feats, factor * factor * n_feats), nn.PixelShuffle(factor)]
        super().__init__(*layers)
