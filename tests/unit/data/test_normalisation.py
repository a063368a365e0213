import numpy as np
import pytest
import torch

from srmri.data.normalisation import (
    denormalise,
    intensity_window,
    normalisation_config,
    normalise,
)


def test_percentile_window_uses_only_masked_voxels():
    rng = np.random.default_rng(0)
    image = rng.normal(500, 50, (20, 20, 10)).astype(np.float32)
    mask = np.zeros(image.shape, bool)
    mask[5:15, 5:15] = True
    image[~mask] = 0.0
    lo, hi = intensity_window(image, mask, "percentile", 2.0, 98.0)
    inside = np.sort(image[mask].astype(np.float64))
    # Linear-interpolated percentile, computed by hand from the sorted values.
    for q, got in ((2.0, lo), (98.0, hi)):
        position = q / 100 * (inside.size - 1)
        below = int(np.floor(position))
        expected = inside[below] + (position - below) * (inside[below + 1] - inside[below])
        assert got == pytest.approx(expected, rel=1e-6)
    assert lo > 300  # the zero background did not pull the window down


def test_minmax_window_and_tensor_input_agree_with_array():
    image = torch.linspace(-3.0, 7.0, 1000).reshape(10, 10, 10)
    assert intensity_window(image, method="minmax") == pytest.approx((-3.0, 7.0))
    assert intensity_window(image) == intensity_window(image.numpy())


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_normalise_maps_window_to_unit_range_and_denormalise_inverts_it(kind):
    values = np.array([-10.0, 0.0, 25.0, 50.0, 100.0, 130.0], dtype=np.float32)
    image = torch.from_numpy(values) if kind == "torch" else values
    out = normalise(image, 0.0, 100.0)
    assert type(out) is type(image)
    expected = np.clip(values / 100.0, 0, 1)
    np.testing.assert_allclose(np.asarray(out), expected, atol=1e-7)
    restored = np.asarray(denormalise(out, 0.0, 100.0))
    np.testing.assert_allclose(restored[1:5], values[1:5], atol=1e-5)


def test_empty_window_and_empty_mask_are_errors():
    with pytest.raises(ValueError, match="hi > lo"):
        normalise(np.zeros(3), 1.0, 1.0)
    with pytest.raises(ValueError, match="selects no voxel"):
        intensity_window(np.ones((2, 2)), np.zeros((2, 2), bool))


def test_config_defaults_and_clear_errors():
    assert normalisation_config(None) == {
        "method": "percentile",
        "lower": 0.5,
        "upper": 99.5,
        "use_mask": True,
        "measured_on": "hr",
    }
    assert normalisation_config({"method": "minmax"})["method"] == "minmax"
    with pytest.raises(ValueError, match="measured_on must be one of"):
        normalisation_config({"measured_on": "sr"})
    with pytest.raises(ValueError, match=r"unknown key.*'upper_pct'"):
        normalisation_config({"upper_pct": 99})
    with pytest.raises(ValueError, match="method must be one of"):
        normalisation_config({"method": "zscore"})
    with pytest.raises(ValueError, match="lower < upper"):
        normalisation_config({"lower": 99.5, "upper": 0.5})
