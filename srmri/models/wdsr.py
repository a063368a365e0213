"""WDSR-A and WDSR-B: wide-activation residual networks for super resolution."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from srmri.models.blocks import (
    check_scale,
    check_spatial_dims,
    pixel_mean_buffer,
    pixel_shuffle,
    wn_conv2d,
)


class WideBlock(nn.Module):
    """WDSR-A block: 3x3 conv ``F -> expansion * F``, ReLU, 3x3 conv back to ``F``, plus ``x``.

    Args:
        n_feats: feature channels ``F``.
        expansion: width factor of the activation.
        res_scale: factor on the residual branch.
    """

    def __init__(
        self, n_feats: int, expansion: int, res_scale: float, spatial_dims: int = 2
    ) -> None:
        super().__init__()
        self.res_scale = res_scale
        self.conv_expand = wn_conv2d(n_feats, n_feats * expansion, 3, spatial_dims)
        self.relu = nn.ReLU(inplace=True)
        self.conv_reduce = wn_conv2d(n_feats * expansion, n_feats, 3, spatial_dims)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, F, h, w)`` -> ``(B, F, h, w)``."""
        return x + self.res_scale * self.conv_reduce(self.relu(self.conv_expand(x)))


class LowRankWideBlock(nn.Module):
    """WDSR-B block: 1x1 conv ``F -> expansion * F``, ReLU, linear low-rank 1x1 conv to
    ``int(low_rank * F)``, 3x3 conv back to ``F``, plus ``x``.

    Args:
        n_feats: feature channels ``F``.
        expansion: width factor of the activation.
        low_rank: fraction of ``F`` kept by the linear 1x1 convolution.
        res_scale: factor on the residual branch.
    """

    def __init__(
        self,
        n_feats: int,
        expansion: int,
        low_rank: float,
        res_scale: float,
        spatial_dims: int = 2,
    ) -> None:
        super().__init__()
        self.res_scale = res_scale
        rank = int(n_feats * low_rank)
        self.conv_expand = wn_conv2d(n_feats, n_feats * expansion, 1, spatial_dims)
        self.relu = nn.ReLU(inplace=True)
        self.conv_low_rank = wn_conv2d(n_feats * expansion, rank, 1, spatial_dims)
        self.conv_spatial = wn_conv2d(rank, n_feats, 3, spatial_dims)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, F, h, w)`` -> ``(B, F, h, w)``."""
        residual = self.conv_spatial(self.conv_low_rank(self.relu(self.conv_expand(x))))
        return x + self.res_scale * residual


class _WDSR(nn.Module):
    """Head, a body of wide blocks, a sub-pixel tail, and a 5x5 sub-pixel skip from the input."""

    def __init__(
        self,
        scale: int,
        channels: int,
        n_feats: int,
        blocks: list[nn.Module],
        pixel_mean: float | Sequence[float] | None,
        spatial_dims: int = 2,
    ) -> None:
        super().__init__()
        self.scale = check_scale(scale)
        self.channels = channels
        self.spatial_dims = dims = spatial_dims
        self.register_buffer("pixel_mean", pixel_mean_buffer(channels, pixel_mean, dims))
        out_feats = channels * scale**dims
        self.conv_first = wn_conv2d(channels, n_feats, 3, dims)
        self.body = nn.Sequential(*blocks)
        self.upsample = nn.Sequential(
            wn_conv2d(n_feats, out_feats, 3, dims), pixel_shuffle(scale, dims)
        )
        self.skip = nn.Sequential(
            wn_conv2d(channels, out_feats, 5, dims), pixel_shuffle(scale, dims)
        )

    def forward(self, lr: Tensor) -> Tensor:
        """``(B, C, h, w)`` -> ``(B, C, h * scale, w * scale)`` (every axis of a volume)."""
        centred = lr - self.pixel_mean
        sr = self.upsample(self.body(self.conv_first(centred))) + self.skip(centred)
        return sr + self.pixel_mean


class WDSRA(_WDSR):
    """WDSR-A (Yu et al., "Wide Activation for Efficient and Accurate Image Super-Resolution",
    2018): wide 3x3 residual blocks, weight normalisation, no global conv after the body; a 5x5
    convolution of the input, pixel-shuffled, is added to the tail.

    ``lr`` ``(B, C, h, w)`` in [0, 1] -> ``sr`` ``(B, C, h * scale, w * scale)``. The study's x4
    model: 32 blocks, 32 features, expansion 6.

    Args:
        scale: upscaling factor, 2, 3 or 4.
        channels: image channels ``C``, default 1 (grey MRI); 3 to import RGB weights.
        n_blocks: residual blocks, default 16.
        n_feats: feature channels ``F``, default 32.
        expansion: activation width ``expansion * F`` inside a block, default 4.
        res_scale: factor on each residual branch, default 1.0.
        pixel_mean: input/output mean, one value or one per channel; default ``None`` means 0.5
            for 1 channel and the DIV2K RGB mean (0.4488, 0.4371, 0.4040) for 3 channels.
        spatial_dims: 2 (slices, default) or 3 (volumes, 3-D convolutions and pixel shuffle; the
            skip branch is then a 5x5x5 convolution).
    """

    def __init__(
        self,
        scale: int,
        channels: int = 1,
        n_blocks: int = 16,
        n_feats: int = 32,
        expansion: int = 4,
        res_scale: float = 1.0,
        pixel_mean: float | Sequence[float] | None = None,
        spatial_dims: int = 2,
    ) -> None:
        dims = check_spatial_dims(spatial_dims)
        blocks = [WideBlock(n_feats, expansion, res_scale, dims) for _ in range(n_blocks)]
        super().__init__(scale, channels, n_feats, blocks, pixel_mean, dims)


class WDSRB(_WDSR):
    """WDSR-B (Yu et al., "Wide Activation for Efficient and Accurate Image Super-Resolution",
    2018): as :class:`WDSRA` with blocks of a 1x1 expansion, a linear low-rank 1x1 convolution and
    a 3x3 convolution, so the activation can be wider for the same parameters.

    ``lr`` ``(B, C, h, w)`` in [0, 1] -> ``sr`` ``(B, C, h * scale, w * scale)``.

    Args:
        scale: upscaling factor, 2, 3 or 4.
        channels: image channels ``C``, default 1 (grey MRI); 3 to import RGB weights.
        n_blocks: residual blocks, default 16.
        n_feats: feature channels ``F``, default 32.
        expansion: activation width ``expansion * F`` of the 1x1 expansion, default 6.
        low_rank: the low-rank convolution keeps ``int(low_rank * F)`` channels, default 0.8.
        res_scale: factor on each residual branch, default 1.0.
        pixel_mean: input/output mean, one value or one per channel; default ``None`` means 0.5
            for 1 channel and the DIV2K RGB mean (0.4488, 0.4371, 0.4040) for 3 channels.
        spatial_dims: 2 (slices, default) or 3 (volumes, 3-D convolutions and pixel shuffle; the
            skip branch is then a 5x5x5 convolution).
    """

    def __init__(
        self,
        scale: int,
        channels: int = 1,
        n_blocks: int = 16,
        n_feats: int = 32,
        expansion: int = 6,
        low_rank: float = 0.8,
        res_scale: float = 1.0,
        pixel_mean: float | Sequence[float] | None = None,
        spatial_dims: int = 2,
    ) -> None:
        dims = check_spatial_dims(spatial_dims)
        blocks = [
            LowRankWideBlock(n_feats, expansion, low_rank, res_scale, dims) for _ in range(n_blocks)
        ]
        super().__init__(scale, channels, n_feats, blocks, pixel_mean, dims)
