"""Pieces shared by the srmri networks: convolutions, the residual block, the upsampler, the mean.

Every convolution keeps the spatial size (``padding = kernel // 2``, zero padding), as in
EDSR-PyTorch and the WDSR reference code, so imported weights compute the same function.

``spatial_dims`` (2 by default) selects slices ``(B, C, H, W)`` or volumes ``(B, C, D, H, W)``: the
same pieces with 3-D convolutions (``k x k x k``) and a 3-D pixel shuffle (MONAI's
:func:`~monai.networks.utils.pixelshuffle`, ``r^3 C`` channels -> ``C`` channels at ``r`` times
every axis), so EDSR and WDSR are one definition in both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from monai.networks.utils import pixelshuffle
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


def check_spatial_dims(spatial_dims: int) -> int:
    """Return ``spatial_dims`` if it is 2 or 3, else raise ``ValueError``."""
    if spatial_dims not in (2, 3):
        raise ValueError(f"network spatial_dims must be 2 or 3, got {spatial_dims!r}")
    return spatial_dims


def conv2d(
    in_channels: int, out_channels: int, kernel_size: int = 3, spatial_dims: int = 2
) -> nn.Conv2d | nn.Conv3d:
    """A biased convolution that keeps the spatial size (a ``Conv3d`` for ``spatial_dims=3``)."""
    layer = nn.Conv3d if spatial_dims == 3 else nn.Conv2d
    return layer(in_channels, out_channels, kernel_size, padding=kernel_size // 2)


def wn_conv2d(
    in_channels: int, out_channels: int, kernel_size: int = 3, spatial_dims: int = 2
) -> nn.Conv2d | nn.Conv3d:
    """:func:`conv2d` with weight normalisation (``weight = g * v / ||v||`` per output channel).

    Its parameters are the magnitude ``g`` ``(out, 1, 1, 1)``, the direction ``v`` and the bias.
    """
    return weight_norm(conv2d(in_channels, out_channels, kernel_size, spatial_dims))


class PixelShuffle3d(nn.Module):
    """Sub-pixel rearrangement of volumes: ``(B, r^3 C, d, h, w)`` -> ``(B, C, r d, r h, r w)``.

    Args:
        factor: ``r``, the upscaling of every axis.
    """

    def __init__(self, factor: int) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: Tensor) -> Tensor:
        return pixelshuffle(x, spatial_dims=3, scale_factor=self.factor)


def pixel_shuffle(factor: int, spatial_dims: int = 2) -> nn.Module:
    """``nn.PixelShuffle`` for slices, :class:`PixelShuffle3d` for volumes."""
    return PixelShuffle3d(factor) if spatial_dims == 3 else nn.PixelShuffle(factor)


def pixel_mean_buffer(
    channels: int, pixel_mean: float | Sequence[float] | None, spatial_dims: int = 2
) -> Tensor:
    """The per-channel mean ``(1, C, 1, 1)`` (``(1, C, 1, 1, 1)`` for volumes) a network subtracts
    from its input and adds back.

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
    return torch.tensor(values).view(1, channels, *(1,) * spatial_dims)


class ResidualBlock(nn.Module):
    """EDSR's residual block without batch normalisation: ``x + res_scale * conv(relu(conv(x)))``.

    Args:
        n_feats: feature channels ``F`` in and out.
        res_scale: factor on the residual branch (0.1 keeps the wide EDSR stable), default 1.0.
        spatial_dims: 2 (default) or 3.
    """

    def __init__(self, n_feats: int, res_scale: float = 1.0, spatial_dims: int = 2) -> None:
        super().__init__()
        self.res_scale = res_scale
        self.conv1 = conv2d(n_feats, n_feats, spatial_dims=spatial_dims)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv2d(n_feats, n_feats, spatial_dims=spatial_dims)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, F, h, w)`` -> ``(B, F, h, w)`` (or ``(B, F, d, h, w)``)."""
        return x + self.res_scale * self.conv2(self.relu(self.conv1(x)))


class Upsampler(nn.Sequential):
    """Sub-pixel upsampling of features by ``scale``, keeping ``n_feats`` channels.

    ``log2(scale)`` x [conv ``F -> 4F``, PixelShuffle(2)] for 2 and 4; conv ``F -> 9F``,
    PixelShuffle(3) for 3 (``8F`` and ``27F`` for volumes). The layout (conv at even indices)
    matches EDSR-PyTorch's upsampler.

    Args:
        scale: 2, 3 or 4.
        n_feats: feature channels ``F``.
        spatial_dims: 2 (default) or 3.
    """

    def __init__(self, scale: int, n_feats: int, spatial_dims: int = 2) -> None:
        check_scale(scale)
        factor = 3 if scale == 3 else 2
        steps = 1 if scale == 3 else int(math.log2(scale))
        layers: list[nn.Module] = []
        for _ in range(steps):
            layers += [
                conv2d(n_feats, factor**spatial_dims * n_feats, spatial_dims=spatial_dims),
                pixel_shuffle(factor, spatial_dims),
            ]
        super().__init__(*layers)
