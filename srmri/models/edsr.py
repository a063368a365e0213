"""EDSR: enhanced deep residual network for single-image super resolution."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from srmri.models.blocks import (
    ResidualBlock,
    Upsampler,
    check_scale,
    check_spatial_dims,
    conv2d,
    pixel_mean_buffer,
)


class EDSR(nn.Module):
    """EDSR (Lim et al., "Enhanced Deep Residual Networks for Single Image Super-Resolution",
    CVPR workshops 2017).

    ``lr`` ``(B, C, h, w)`` in [0, 1] -> ``sr`` ``(B, C, h * scale, w * scale)``. The mean is
    subtracted from the input and added to the output (a buffer, not a parameter, so parameter
    counts match the published ones).

    The study's presets: ``edsr_baseline`` (16 blocks, 64 features, ``res_scale`` 1.0) and
    ``edsr`` (32 blocks, 256 features, ``res_scale`` 0.1).

    Args:
        scale: upscaling factor, 2, 3 or 4.
        channels: image channels ``C``, default 1 (grey MRI); 3 to import RGB weights.
        n_blocks: residual blocks, default 16.
        n_feats: feature channels, default 64.
        res_scale: factor on each residual branch, default 1.0.
        pixel_mean: input/output mean, one value or one per channel; default ``None`` means 0.5
            for 1 channel and the DIV2K RGB mean (0.4488, 0.4371, 0.4040) for 3 channels.
        spatial_dims: 2 (slices, default) or 3: volumes ``(B, C, d, h, w)`` -> ``(B, C, d s, h s,
            w s)`` with 3x3x3 convolutions and a 3-D pixel shuffle.
    """

    def __init__(
        self,
        scale: int,
        channels: int = 1,
        n_blocks: int = 16,
        n_feats: int = 64,
        res_scale: float = 1.0,
        pixel_mean: float | Sequence[float] | None = None,
        spatial_dims: int = 2,
    ) -> None:
        super().__init__()
        self.scale = check_scale(scale)
        self.channels = channels
        self.spatial_dims = dims = check_spatial_dims(spatial_dims)
        self.register_buffer("pixel_mean", pixel_mean_buffer(channels, pixel_mean, dims))
        self.conv_first = conv2d(channels, n_feats, spatial_dims=dims)
        self.body = nn.Sequential(
            *(ResidualBlock(n_feats, res_scale, dims) for _ in range(n_blocks))
        )
        self.conv_after_body = conv2d(n_feats, n_feats, spatial_dims=dims)
        self.upsample = Upsampler(scale, n_feats, dims)
        self.conv_last = conv2d(n_feats, channels, spatial_dims=dims)

    def forward(self, lr: Tensor) -> Tensor:
        """``(B, C, h, w)`` -> ``(B, C, h * scale, w * scale)`` (every axis of a volume)."""
        features = self.conv_first(lr - self.pixel_mean)
        features = features + self.conv_after_body(self.body(features))
        return self.conv_last(self.upsample(features)) + self.pixel_mean
