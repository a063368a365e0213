import pytest
import torch

from srmri.models import EDSR


def count(network: torch.nn.Module) -> int:
    return sum(p.numel() for p in network.parameters())


def edsr_count(scale: int, channels: int, n_blocks: int, n_feats: int) -> int:
    """Parameters of EDSR by hand: 3x3 convs with biases, one upsampler conv per factor."""

    def conv(c_in: int, c_out: int) -> int:
        return 9 * c_in * c_out + c_out

    upsampler = (
        conv(n_feats, 9 * n_feats) if scale == 3 else (scale // 2) * conv(n_feats, 4 * n_feats)
    )
    return (
        conv(channels, n_feats)
        + n_blocks * 2 * conv(n_feats, n_feats)
        + conv(n_feats, n_feats)
        + upsampler
        + conv(n_feats, channels)
    )


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_forward_shape(scale, channels):
    network = EDSR(scale, channels, n_blocks=2, n_feats=8)
    lr = torch.rand(2, channels, 6, 5)
    sr = network(lr)
    assert sr.shape == (2, channels, 6 * scale, 5 * scale)
    assert (network.scale, network.channels) == (scale, channels)
    assert torch.isfinite(sr).all()


def test_published_parameter_counts_for_one_channel_x2():
    with torch.device("meta"):
        assert count(EDSR(2)) == 1_367_553
        assert count(EDSR(2, n_blocks=32, n_feats=256, res_scale=0.1)) == 40_720_385


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("channels", [1, 3])
def test_parameter_count_matches_hand_count(scale, channels):
    with torch.device("meta"):
        network = EDSR(scale, channels)
    assert count(network) == edsr_count(scale, channels, 16, 64)


def test_mean_is_a_buffer_not_a_parameter():
    network = EDSR(2, 3, n_blocks=1, n_feats=4, pixel_mean=(0.1, 0.2, 0.3))
    assert "pixel_mean" in dict(network.named_buffers())
    assert "pixel_mean" in network.state_dict()
    assert all("mean" not in name for name, _ in network.named_parameters())


def test_zero_network_returns_the_mean_and_mean_enters_output():
    # With every conv zeroed only the mean shift is left: the output is the mean image.
    network = EDSR(2, 3, n_blocks=1, n_feats=4, pixel_mean=(0.1, 0.2, 0.3))
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.zero_()
    sr = network(torch.rand(1, 3, 4, 4))
    assert torch.allclose(sr[0, :, 0, 0], torch.tensor([0.1, 0.2, 0.3]))
    assert torch.allclose(sr, sr[:, :, :1, :1].expand_as(sr))


def test_unsupported_scale_is_refused():
    with pytest.raises(ValueError, match="scale"):
        EDSR(5)
