"""The through-plane benchmark runs end to end in its smoke mode (and writes nothing)."""

import numpy as np
import pytest

from benchmarks import through_plane
from benchmarks.results import RESULTS


@pytest.mark.slow
def test_benchmark_smoke_run(tmp_path):
    before = RESULTS.read_text() if RESULTS.exists() else None
    figure = tmp_path / "panel.png"
    results = through_plane.main(["--smoke", "--figure", str(figure)])
    assert [(r["scan"], r["case"]) for r in results] == [("mni152", "4 mm")]
    result = results[0]
    for method in ("srmri", "cubic"):
        assert result[method]["seconds"] > 0 and result[method]["peak_bytes"] > 0
        assert 10 < result[method]["psnr"] < 60 and 0 < result[method]["ssim"] <= 1
    assert result["gain_db"] == pytest.approx(result["srmri"]["psnr"] - result["cubic"]["psnr"])
    assert result["srmri"]["steps"] == through_plane.SMOKE_OPTIONS["budget"]
    assert figure.stat().st_size > 0
    assert (RESULTS.read_text() if RESULTS.exists() else None) == before


def test_whole_slices_keep_n_k_a_whole_number():
    assert through_plane.whole_slices(155, 4.0) == 38
    assert through_plane.whole_slices(155, 4.5) == 34  # 34 x 4.5 = 153
    assert through_plane.whole_slices(189, 2.5) == 74  # 74 x 2.5 = 185


def test_score_is_brain_psnr_over_voxels():
    rng = np.random.default_rng(0)
    truth = rng.random((30, 10, 30)).astype(np.float32)
    output = truth + 0.1
    mask = np.zeros(truth.shape, bool)
    mask[2:28, 2:8, 2:28] = True
    scores = through_plane.score(output, truth, mask, (0.0, 1.0))
    clipped = np.clip(output, 0, 1)
    expected = 10 * np.log10(1 / np.mean((clipped - truth)[mask] ** 2))
    assert scores["psnr"] == pytest.approx(expected, rel=1e-5)
    assert through_plane.score(truth, truth, mask, (0.0, 1.0))["ssim"] == pytest.approx(1.0)
