"""mDCSRN: a multi-level densely connected network designed for 3-D brain MRI super resolution."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srmri.models.blocks import (
    Upsampler,
    check_scale,
    check_spatial_dims,
    conv2d,
    pixel_mean_buffer,
)


class DenseBlock(nn.Module):
    """``n_units`` x [ELU, 3x3x3 conv ``-> growth``], each unit's input the concatenation of the
    block's input and every earlier unit's output; the block returns that whole concatenation.

    Args:
        in_feats: channels in.
        growth: channels each unit adds (``k``).
        n_units: units in the block.
        spatial_dims: 3 (default) or 2.
    """

    def __init__(self, in_feats: int, growth: int, n_units: int, spatial_dims: int = 3) -> None:
        super().__init__()
        self.units = nn.ModuleList(
            nn.Sequential(
                nn.ELU(inplace=False),
                conv2d(in_feats + i * growth, growth, spatial_dims=spatial_dims),
            )
            for i in range(n_units)
        )
        self.out_feats = in_feats + n_units * growth

    def forward(self, x: Tensor) -> Tensor:
        """``(B, in_feats, d, h, w)`` -> ``(B, in_feats + n_units * growth, d, h, w)``."""
        features = [x]
        for unit in self.units:
            features.append(unit(torch.cat(features, 1)))
        return torch.cat(features, 1)


class MDCSRN(nn.Module):
    """mDCSRN (Chen et al., "Efficient and Accurate MRI Super-Resolution using a Generative
    Adversarial Network and 3D Multi-Level Densely Connected Network", MICCAI 2018), the
    generator without its GAN, with a sub-pixel tail so that it takes the LR grid.

    ``lr`` ``(B, C, d, h, w)`` in [0, 1] -> ``sr`` ``(B, C, d s, h s, w s)``. The paper's network
    runs on an interpolated input at the HR size; this one runs its dense blocks on the LR grid
    (``s^3`` times fewer voxels) and upsamples at the end, predicting the difference to the
    trilinear interpolation of the input (trilinear, not tricubic, keeps the receptive field local,
    so tiled prediction equals an untiled one).

    Layout (the paper's, without batch normalisation): a 3x3x3 conv to ``2k`` features; ``n_blocks``
    dense blocks of ``n_units`` ELU-conv units of growth ``k``; before every block after the
    first, a 1x1x1 "compressor" of the concatenation of the first features and every earlier
    block's output to ``2k`` channels (the multi-level connections); a 1x1x1 reconstruction conv
    of all of them to ``n_feats``; then the sub-pixel upsampler and a 3x3x3 conv to ``C``.

    Args:
        scale: upscaling factor, 2, 3 or 4.
        channels: image channels ``C``, default 1.
        n_blocks: dense blocks, default 4 (the paper's).
        n_units: units per block, default 4 (the paper's).
        growth: growth rate ``k``, default 16 (the paper's).
        n_feats: features of the reconstruction and the upsampler, default 32.
        spatial_dims: 3 (default) or 2.
    """

    def __init__(
        self,
        scale: int,
        channels: int = 1,
        n_blocks: int = 4,
        n_units: int = 4,
        growth: int = 16,
        n_feats: int = 32,
        spatial_dims: int = 3,
    ) -> None:
        super().__init__()
        self.scale = check_scale(scale)
        self.channels = channels
        self.spatial_dims = dims = check_spatial_dims(spatial_dims)
        self.register_buffer("pixel_mean", pixel_mean_buffer(channels, None, dims))
        base = 2 * growth
        self.conv_first = conv2d(channels, base, spatial_dims=dims)
        self.blocks = nn.ModuleList()
        self.compressors = nn.ModuleList()
        gathered = base  # channels of [first features, block 1 output, ...]
        for index in range(n_blocks):
            if index:
                self.compressors.append(conv2d(gathered, base, 1, dims))
            block = DenseBlock(base, growth, n_units, dims)
            self.blocks.append(block)
            gathered += block.out_feats
        self.reconstruct = conv2d(gathered, n_feats, 1, dims)
        self.upsample = Upsampler(scale, n_feats, dims)
        self.conv_last = conv2d(n_feats, channels, spatial_dims=dims)

    def forward(self, lr: Tensor) -> Tensor:
        """``(B, C, d, h, w)`` -> ``(B, C, d s, h s, w s)`` (``(B, C, h, w)`` in 2-D)."""
        gathered = [self.conv_first(lr - self.pixel_mean)]
        for index, block in enumerate(self.blocks):
            x = gathered[0] if index == 0 else self.compressors[index - 1](torch.cat(gathered, 1))
            gathered.append(block(x))
        features = self.reconstruct(torch.cat(gathered, 1))
        detail = self.conv_last(self.upsample(features))
        mode = "trilinear" if self.spatial_dims == 3 else "bilinear"
        return F.interpolate(lr, scale_factor=self.scale, mode=mode, align_corners=False) + detail
