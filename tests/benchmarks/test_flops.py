"""Convolution FLOP counting against FLOPs written out by hand from each layer's shape."""

import torch
from torch import nn

from benchmarks.flops import conv_flops, matmul_gflops
from srmri.models import EDSR, WDSRA


def conv(in_channels: int, out_channels: int, kernel: int, pixels: int) -> int:
    """2 x multiply-adds of a dense convolution producing ``pixels`` output positions."""
    return 2 * in_channels * out_channels * kernel * kernel * pixels


def test_wdsr_a_counts_every_weight_normalised_convolution():
    h, w, c, f, e, blocks, s = 5, 7, 3, 8, 3, 2, 4
    network = WDSRA(scale=s, channels=c, n_blocks=blocks, n_feats=f, expansion=e)
    pixels = h * w
    expected = (
        conv(c, f, 3, pixels)
        + blocks * (conv(f, e * f, 3, pixels) + conv(e * f, f, 3, pixels))
        + conv(f, c * s * s, 3, pixels)
        + conv(c, c * s * s, 5, pixels)
    )
    assert conv_flops(network, torch.rand(1, c, h, w)) == expected


def test_edsr_counts_the_upsampler_and_the_tail_at_their_resolution():
    h, w, c, f, blocks, s, batch = 4, 6, 1, 16, 3, 2, 2
    network = EDSR(scale=s, channels=c, n_blocks=blocks, n_feats=f)
    pixels = batch * h * w
    expected = (
        conv(c, f, 3, pixels)
        + (2 * blocks + 1) * conv(f, f, 3, pixels)
        + conv(f, 4 * f, 3, pixels)
        + conv(f, c, 3, pixels * s * s)
    )
    assert conv_flops(network, torch.rand(batch, c, h, w)) == expected


def test_grouped_and_strided_convolutions():
    network = nn.Sequential(
        nn.Conv2d(4, 8, 3, padding=1, groups=2), nn.Conv2d(8, 2, 1, stride=2, bias=False)
    )
    # 4 x 4 positions after the first layer; a stride of 2 leaves 2 x 2.
    expected = 2 * (8 * 2 * 9 * 16) + 2 * (2 * 8 * 1 * 4)
    assert conv_flops(network, torch.rand(1, 4, 4, 4)) == expected
    # The hooks are removed afterwards: a second count is not doubled.
    assert conv_flops(network, torch.rand(1, 4, 4, 4)) == expected


def test_matmul_peak_is_a_finite_positive_rate():
    rate = matmul_gflops(64, 2, torch.device("cpu"))
    assert 0 < rate < float("inf")
