import math

import pytest
import torch
import torch.nn.functional as F

from srmri.models.blocks import (
    ResidualBlock,
    Upsampler,
    check_scale,
    pixel_mean_buffer,
    wn_conv2d,
)


def test_pixel_mean_defaults_are_grey_centre_and_div2k_rgb():
    assert pixel_mean_buffer(1, None).flatten().tolist() == [0.5]
    rgb = pixel_mean_buffer(3, None)
    assert rgb.shape == (1, 3, 1, 1)
    assert torch.allclose(rgb.flatten(), torch.tensor([0.4488, 0.4371, 0.4040]))


def test_pixel_mean_scalar_is_broadcast_and_sequence_kept():
    assert pixel_mean_buffer(3, 0.25).flatten().tolist() == [0.25] * 3
    assert pixel_mean_buffer(2, [0.125, 0.75]).flatten().tolist() == [0.125, 0.75]


def test_pixel_mean_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"one value per channel \(3\), got 2"):
        pixel_mean_buffer(3, [0.1, 0.2])
    with pytest.raises(ValueError, match="no default for 2 channels"):
        pixel_mean_buffer(2, None)


def test_check_scale_rejects_unsupported_scales():
    assert check_scale(3) == 3
    with pytest.raises(ValueError, match="got 8"):
        check_scale(8)


def test_residual_block_is_x_plus_scaled_conv_relu_conv():
    torch.manual_seed(0)
    block = ResidualBlock(4, res_scale=0.1)
    x = torch.randn(2, 4, 5, 6)
    c1, c2 = block.conv1, block.conv2
    inner = F.relu(F.conv2d(x, c1.weight, c1.bias, padding=1))
    expected = x + 0.1 * F.conv2d(inner, c2.weight, c2.bias, padding=1)
    assert torch.allclose(block(x), expected, atol=1e-6)
    assert all(not isinstance(m, torch.nn.BatchNorm2d) for m in block.modules())


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_upsampler_convs_and_shape(scale):
    upsampler = Upsampler(scale, 8)
    convs = [m for m in upsampler if isinstance(m, torch.nn.Conv2d)]
    factor = 3 if scale == 3 else 2
    assert len(convs) == round(math.log(scale, factor))
    assert all(c.out_channels == factor * factor * 8 for c in convs)
    assert upsampler(torch.zeros(1, 8, 5, 7)).shape == (1, 8, 5 * scale, 7 * scale)


def test_weight_norm_conv_weight_is_g_times_unit_direction():
    conv = wn_conv2d(3, 5, 3)
    names = {name for name, _ in conv.named_parameters()}
    assert names == {
        "bias",
        "parametrizations.weight.original0",
        "parametrizations.weight.original1",
    }
    with torch.no_grad():
        conv.parametrizations.weight.original0.copy_(torch.rand(5, 1, 1, 1) + 0.5)
    g = conv.parametrizations.weight.original0
    v = conv.parametrizations.weight.original1
    expected = g * v / v.flatten(1).norm(dim=1).view(5, 1, 1, 1)
    assert torch.allclose(conv.weight, expected, atol=1e-6)
