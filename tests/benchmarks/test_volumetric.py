"""The volumetric benchmark runs end to end in its smoke mode (and writes nothing)."""

import pytest

from benchmarks import volumetric
from benchmarks.results import RESULTS


@pytest.mark.slow
def test_benchmark_smoke_run():
    before = RESULTS.read_text() if RESULTS.exists() else None
    result = volumetric.main(["--smoke"])
    assert set(result["scores"]) == {
        "3-D WDSR-A",
        "2-D WDSR-A + B-spline along Z",
        "tricubic (B-spline)",
    }
    for scores in result["scores"].values():
        assert 0 < scores["psnr"] < 80 and 0 < scores["ssim"] <= 1
        assert 0 < scores["psnr_brain"] < 80 and 0 < scores["ssim_brain"] <= 1
    for training in result["training"].values():
        assert training["steps"] >= 1 and training["patches_per_s"] > 0
    prediction = result["prediction"]
    assert prediction["shape"] == [2 * n for n in prediction["input_shape"]]
    assert prediction["seconds"] > 0 and prediction["peak_bytes"] > 0
    assert (RESULTS.read_text() if RESULTS.exists() else None) == before


def test_receptive_field_of_the_experiment_network():
    assert volumetric.network_radius({"n_blocks": 4}) == 10
