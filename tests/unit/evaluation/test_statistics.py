import math

import numpy as np
import pytest
from scipy import stats

from srmri.evaluation.scores import Scores
from srmri.evaluation.statistics import comparison, crossings, describe, paired_slices, summarise


def table_with(model_psnr, bicubic_psnr, angles=(0.0, 90.0)):
    """One subject, axial, image region; per-slice values repeated with +-0.1 over two angles."""
    scores = Scores()
    place = ("s1", "T1", "axial")
    for method, values in (("bicubic", bicubic_psnr), ("net", model_psnr)):
        for k, value in enumerate(values):
            pairs = [(k, a) for a in angles]
            psnr = [value - 0.1, value + 0.1]
            scores.add(place, pairs, method, "image", psnr, [0.5, 0.5])
    return scores.arrays()


def test_describe_leaves_out_and_counts_non_finite_scores():
    result = describe(np.array([1.0, 2.0, 4.0, math.inf]))
    assert result["mean"] == pytest.approx(7 / 3)
    assert result["median"] == 2.0
    assert result["std"] == pytest.approx(np.std([1, 2, 4], ddof=1))
    assert (result["n"], result["not_finite"]) == (3, 1)


def test_paired_gain_is_per_slice_with_a_student_interval():
    bicubic = [20.0, 21.0, 22.0, 23.0, 24.0]
    model = [20.5, 20.0, 23.0, 23.5, 25.0]
    table = table_with(model, bicubic)
    differences = paired_slices(table, "net", "axial", "image", "psnr")
    expected = np.subtract(model, bicubic)
    assert sorted(differences.values()) == pytest.approx(sorted(expected))
    result = comparison(differences)
    half = stats.t.ppf(0.975, 4) * expected.std(ddof=1) / math.sqrt(5)
    assert result["mean"] == pytest.approx(expected.mean())
    independent = [expected.mean() - half, expected.mean() + half]
    assert result["ci95_independent_slices"] == pytest.approx(independent)
    assert (result["wins"], result["losses"], result["ties"]) == (4, 1, 0)
    assert result["n_slices"] == 5
    # One subject: the headline interval is a block bootstrap over its slices.
    assert result["interval"]["method"] == "moving-block bootstrap over contiguous slices"


def test_crossings_are_where_the_sign_changes():
    slices = np.array([3, 4, 5, 6, 7, 8])
    difference = np.array([0.2, 0.1, 0.0, -0.3, -0.1, 0.4])
    result = crossings(slices, difference)
    assert result["crossings"] == [6, 8]
    assert (result["model_better"], result["bicubic_better"], result["tied"]) == (3, 2, 1)


def test_summary_means_and_gains():
    bicubic = [20.0, 22.0, 24.0]
    model = [21.0, 21.5, 25.0]
    summary = summarise(table_with(model, bicubic), ["bicubic", "net"], ["net"])
    cell = summary["scores"]["net"]["axial"]["image"]
    assert cell["psnr"] == pytest.approx(np.mean(model))
    assert cell["n"] == 6
    gain = summary["gains_over_bicubic"]["net"]["axial"]["image"]["psnr"]
    assert gain["mean"] == pytest.approx(np.mean(model) - np.mean(bicubic))
    assert summary["by_angle"]["net"]["axial"]["image"]["90"]["psnr"] == pytest.approx(
        np.mean(model) + 0.1
    )
    assert summary["slices_vs_bicubic"]["net"]["T1"]["axial"]["image"]["psnr"]["crossings"] == [
        1,
        2,
    ]


def test_every_method_is_averaged_over_the_places_all_of_them_score_finitely():
    # Slice 2 is reproduced exactly by bicubic (+inf): it leaves BOTH means, so the model's
    # high but finite score there cannot inflate its mean against bicubic's.
    bicubic = [20.0, 22.0, math.inf]
    model = [21.0, 21.5, 60.0]
    summary = summarise(table_with(model, bicubic), ["bicubic", "net"], ["net"])
    net = summary["scores"]["net"]["axial"]["image"]
    base = summary["scores"]["bicubic"]["axial"]["image"]
    assert net["psnr"] == pytest.approx(np.mean(model[:2]))
    assert base["psnr"] == pytest.approx(np.mean(bicubic[:2]))
    assert (net["n"], net["excluded"]) == (4, 2)
    assert (base["n"], base["excluded"]) == (4, 2)
    gain = summary["gains_over_bicubic"]["net"]["axial"]["image"]["psnr"]["mean"]
    assert net["psnr"] - base["psnr"] == pytest.approx(gain)
