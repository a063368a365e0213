"""The generalisation benchmark runs end to end in its smoke mode (and writes nothing); its
targets are judged on the per-scan gains."""

import numpy as np
import pytest

from benchmarks import generalisation
from benchmarks.results import RESULTS


@pytest.mark.slow
def test_benchmark_smoke_run():
    before = RESULTS.read_text() if RESULTS.exists() else None
    summary = generalisation.main(["--smoke", "--precision", "both"])
    (scan,) = summary["results"].values()
    assert list(scan) == ["demo", "shipped", "adapt", "scratch"]
    for result in scan.values():
        assert result["psnr_gain"] == pytest.approx(result["psnr"] - result["psnr_bicubic"])
        assert 0 < result["psnr_bicubic"] < 60 and result["seconds"] > 0
    assert scan["adapt"]["steps"] == scan["scratch"]["steps"] == 3
    assert abs(scan["shipped"]["bf16"]["psnr_diff"]) < 0.5
    # Adaptation changed the model it started from; from scratch is another network again.
    assert scan["adapt"]["psnr"] != scan["shipped"]["psnr"] != scan["scratch"]["psnr"]
    assert (RESULTS.read_text() if RESULTS.exists() else None) == before


def test_targets_are_judged_on_mean_and_worst_scan():
    def scan(shipped, adapt, demo=0.0):
        return {
            "demo": {"psnr_gain": demo},
            "shipped": {"psnr_gain": shipped},
            "adapt": {"psnr_gain": adapt},
        }

    results = {"a": scan(7.0, 6.5), "b": scan(3.5, 5.6, demo=4.0)}
    assert generalisation.means(results, "shipped") == (5.25, 3.5)
    assert generalisation.verdicts(results) == {
        "shipped_mean": True,
        "shipped_min": True,
        "shipped_beats_demo": False,
        "adapt_mean": True,
        "adapt_min": True,
        "x4_mean": None,
    }
    results["b"]["adapt"]["psnr_gain"] = 4.9
    assert generalisation.verdicts(results)["adapt_min"] is False


def test_central_slices_centre_on_the_brain():
    mask = np.zeros((4, 4, 100), bool)
    mask[:, :, 40:81] = True
    chosen = generalisation.central_slices(mask, 20)
    assert (chosen.start, chosen.stop) == (50, 70)
