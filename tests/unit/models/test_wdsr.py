import pytest
import torch

from srmri.models import WDSRA, WDSRB


def count(network: torch.nn.Module) -> int:
    return sum(p.numel() for p in network.parameters())


def wn_conv(c_in: int, c_out: int, kernel: int) -> int:
    """Direction, magnitude per output channel, bias."""
    return kernel * kernel * c_in * c_out + 2 * c_out


@pytest.mark.parametrize("network_class", [WDSRA, WDSRB])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_forward_shape(network_class, scale, channels):
    network = network_class(scale, channels, n_blocks=2, n_feats=8)
    sr = network(torch.rand(2, channels, 5, 7))
    assert sr.shape == (2, channels, 5 * scale, 7 * scale)
    assert (network.scale, network.channels) == (scale, channels)
    assert torch.isfinite(sr).all()


def test_wdsr_a_baseline_published_parameter_count():
    # 16 blocks, 32 features, x4 expansion, RGB, x2, weight-norm magnitudes counted.
    with torch.device("meta"):
        assert count(WDSRA(2, 3)) == 1_190_100


@pytest.mark.parametrize("channels", [1, 3])
def test_wdsr_a_study_x4_count_matches_hand_count(channels):
    with torch.device("meta"):
        network = WDSRA(4, channels, n_blocks=32, n_feats=32, expansion=6)
    out = channels * 16
    expected = (
        wn_conv(channels, 32, 3)
        + 32 * (wn_conv(32, 192, 3) + wn_conv(192, 32, 3))
        + wn_conv(32, out, 3)
        + wn_conv(channels, out, 5)
    )
    assert count(network) == expected


def test_wdsr_b_block_is_expand_low_rank_spatial():
    network = WDSRB(2, n_blocks=1, n_feats=32)
    block = network.body[0]
    assert (block.conv_expand.in_channels, block.conv_expand.out_channels) == (32, 192)
    assert block.conv_expand.kernel_size == (1, 1)
    # int(0.8 * 32) = 25, as the reference code truncates.
    assert (block.conv_low_rank.out_channels, block.conv_low_rank.kernel_size) == (25, (1, 1))
    assert (block.conv_spatial.in_channels, block.conv_spatial.kernel_size) == (25, (3, 3))


def test_every_conv_is_weight_normalised():
    for network in (WDSRA(2, n_blocks=1, n_feats=8), WDSRB(3, n_blocks=1, n_feats=8)):
        convs = [m for m in network.modules() if isinstance(m, torch.nn.Conv2d)]
        assert convs
        assert all(torch.nn.utils.parametrize.is_parametrized(c, "weight") for c in convs)


def test_skip_branch_alone_is_a_pixel_shuffled_5x5_conv_plus_mean():
    network = WDSRA(2, 1, n_blocks=1, n_feats=4, pixel_mean=0.25)
    with torch.no_grad():
        network.upsample[0].bias.zero_()
        network.upsample[0].parametrizations.weight.original0.zero_()
    lr = torch.rand(1, 1, 6, 6)
    conv = network.skip[0]
    expected = torch.nn.functional.pixel_shuffle(
        torch.nn.functional.conv2d(lr - 0.25, conv.weight, conv.bias, padding=2), 2
    )
    assert torch.allclose(network(lr), expected + 0.25, atol=1e-6)
