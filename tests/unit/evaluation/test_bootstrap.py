"""Honest intervals for a mean gain over correlated slices, checked against known truths."""

import math

import numpy as np
import pytest
from scipy import stats

from srmri.evaluation.statistics import comparison


def ar1(n: int, rho: float, rng: np.random.Generator) -> np.ndarray:
    """A stationary AR(1) series of mean 0, unit innovations."""
    noise = rng.standard_normal(n)
    series = np.empty(n)
    series[0] = noise[0] / math.sqrt(1 - rho**2)
    for i in range(1, n):
        series[i] = rho * series[i - 1] + noise[i]
    return series


def one_subject(values: np.ndarray) -> dict:
    return {("subject", "T1", k): float(v) for k, v in enumerate(values)}


@pytest.mark.slow
def test_block_bootstrap_covers_the_true_mean_of_correlated_slices():
    """44 slices, lag-1 autocorrelation 0.8 (the demo's inside the brain is 0.81)."""
    rng = np.random.default_rng(12)
    true_mean, n, repetitions = 1.5, 44, 200
    covered = student_covered = 0
    for _ in range(repetitions):
        values = true_mean + ar1(n, 0.8, rng)
        low, high = comparison(one_subject(values))["ci95"]
        covered += low <= true_mean <= high
        # The interval that treats slices as independent, computed here.
        half = stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n)
        student_covered += abs(values.mean() - true_mean) <= half
    # Nominal 95 %: the block bootstrap comes close, the independent-slice interval does not.
    assert covered / repetitions >= 0.85
    assert student_covered / repetitions <= 0.65


def test_block_length_follows_the_autocorrelation_and_is_seeded():
    rng = np.random.default_rng(3)
    values = ar1(44, 0.8, rng)
    result = comparison(one_subject(values))
    record = result["interval"]
    centred = values - values.mean()
    rho = float((centred[1:] * centred[:-1]).sum() / (centred**2).sum())
    expected = math.ceil(2 * (6 * 44) ** (1 / 3) * (rho / (1 - rho**2)) ** (2 / 3))
    assert record["lag1_autocorrelation"] == pytest.approx(rho)
    assert record["block_length"] == min(expected, 44 // 3)
    assert record["effective_n"] < 44 / 2
    # The same data give the same interval.
    assert comparison(one_subject(values))["ci95"] == result["ci95"]
    # Independent slices: blocks of one, an effective n near the count.
    independent = comparison(one_subject(rng.standard_normal(44)))["interval"]
    assert independent["block_length"] == 1


def test_several_subjects_are_resampled_whole():
    """Four subjects of ten slices: the cluster bootstrap's standard error of the pooled mean is
    that of the mean of four subject means, sqrt(var(subject means) / 4) (population variance)."""
    rng = np.random.default_rng(5)
    offsets = np.array([0.0, 1.0, 3.0, 0.5])
    differences = {
        (f"s{g}", "T1", k): float(offsets[g] + 0.05 * rng.standard_normal())
        for g in range(4)
        for k in range(10)
    }
    result = comparison(differences)
    assert result["interval"]["method"] == "cluster bootstrap over subjects"
    assert result["interval"]["n_subjects"] == 4
    means = np.array(
        [np.mean([v for (s, _, _), v in differences.items() if s == f"s{g}"]) for g in range(4)]
    )
    half = stats.t.ppf(0.975, 3) * math.sqrt(means.var() / 4)
    low, high = result["ci95"]
    assert (high - low) / 2 == pytest.approx(half, rel=0.03)
    assert (low + high) / 2 == pytest.approx(means.mean())
    # Far wider than the 40 slices taken as independent.
    slices = np.array(list(differences.values()))
    naive = stats.t.ppf(0.975, 39) * slices.std(ddof=1) / math.sqrt(40)
    assert half > 1.5 * naive
