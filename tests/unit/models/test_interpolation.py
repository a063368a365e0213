import pytest
import torch

from srmri.degradation import Degradation
from srmri.models import Interpolation, upsample


@pytest.mark.parametrize("mode", ["bicubic", "linear", "nearest"])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_forward_shape_and_no_parameters(mode, scale, channels):
    network = Interpolation(scale, channels, mode)
    sr = network(torch.rand(2, channels, 5, 6))
    assert sr.shape == (2, channels, 5 * scale, 6 * scale)
    assert list(network.parameters()) == []
    assert (network.scale, network.channels) == (scale, channels)


def keys_cubic(t: torch.Tensor, a: float = -0.75) -> torch.Tensor:
    """Keys' cubic convolution kernel."""
    t = t.abs()
    near = (a + 2) * t**3 - (a + 3) * t**2 + 1
    far = a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a
    return torch.where(t <= 1, near, torch.where(t < 2, far, torch.zeros_like(t)))


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_is_keys_kernel_on_pixel_centres(scale):
    # LR pixel i has its centre at HR coordinate (i + 0.5) * scale - 0.5: HR row y samples the
    # LR signal at (y + 0.5) / scale - 0.5. Checked where all four taps lie inside the image.
    torch.manual_seed(0)
    h = 10
    column = torch.rand(h, dtype=torch.float64)
    lr = column.view(1, 1, h, 1).expand(1, 1, h, 3)
    sr = upsample(lr, scale, "bicubic")[0, 0, :, 1]
    rows = torch.arange(h * scale, dtype=torch.float64)
    source = (rows + 0.5) / scale - 0.5
    taps = torch.arange(h, dtype=torch.float64)
    expected = (keys_cubic(source.view(-1, 1) - taps.view(1, -1)) * column).sum(dim=1)
    inside = (source >= 1) & (source <= h - 2)
    assert torch.allclose(sr[inside], expected[inside], atol=1e-12)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_linear_reproduces_a_ramp_on_pixel_centres(scale):
    h = 8
    lr = torch.arange(h, dtype=torch.float64).view(1, 1, h, 1).expand(1, 1, h, 3)
    sr = upsample(lr, scale, "linear")[0, 0, :, 1]
    expected = (torch.arange(h * scale, dtype=torch.float64) + 0.5) / scale - 0.5
    inside = (expected >= 0) & (expected <= h - 1)
    assert torch.allclose(sr[inside], expected[inside], atol=1e-12)


def test_nearest_repeats_each_lr_pixel():
    lr = torch.rand(1, 2, 3, 4)
    expected = lr.repeat_interleave(3, dim=-1).repeat_interleave(3, dim=-2)
    assert torch.equal(upsample(lr, 3, "nearest"), expected)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_downscale_then_upsample_is_best_aligned_without_shift(scale):
    # With the degradation's pixel convention, the bicubic round trip of a smooth image is
    # closer to the HR image than any copy of it shifted by one HR pixel.
    size = 16 * scale
    y = torch.linspace(-1, 1, size, dtype=torch.float64)
    hr = (0.5 + 0.4 * torch.sin(3 * y).view(-1, 1) * torch.cos(2 * y).view(1, -1)).view(
        1, 1, size, size
    )
    sr = Interpolation(scale)(Degradation(scale=scale, preset="bicubic")(hr))
    margin = 2 * scale
    inner = (..., slice(margin, -margin), slice(margin, -margin))

    def error(dy: int, dx: int) -> float:
        shifted = torch.roll(sr, shifts=(dy, dx), dims=(-2, -1))
        return (shifted[inner] - hr[inner]).abs().mean().item()

    aligned = error(0, 0)
    assert all(aligned < error(dy, dx) for dy, dx in [(1, 0), (-1, 0), (0, 1), (0, -1)])


def test_errors_name_mode_and_shape():
    with pytest.raises(ValueError, match="'sinc'"):
        Interpolation(2, mode="sinc")
    with pytest.raises(ValueError, match="'area'"):
        upsample(torch.zeros(1, 1, 2, 2), 2, "area")
    with pytest.raises(ValueError, match=r"\(B, 1, h, w\), got shape \(1, 3, 2, 2\)"):
        Interpolation(2)(torch.zeros(1, 3, 2, 2))
