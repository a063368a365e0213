"""The quality benchmark: its wall-clock learning-rate schedule, and its smoke mode end to end."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import torch

from benchmarks.results import RESULTS
from benchmarks.time_schedule import wall_clock_cosine
from srmri.io.checkpoints import load_checkpoint

ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_wall_clock_cosine_follows_the_clock_not_the_steps():
    clock = FakeClock(100.0)
    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=0.5)
    schedule = wall_clock_cosine(optimizer, budget_seconds=40.0, min_factor=0.1, clock=clock)
    # Base rate 0.5, floor 0.05: cos(0) = 1, cos(pi / 4) = sqrt(2) / 2, cos(pi / 2) = 0, cos(pi) = -1.
    expected = {
        0.0: 0.5,
        10.0: 0.05 + 0.45 * (1 + math.sqrt(0.5)) / 2,
        20.0: 0.275,
        40.0: 0.05,
        90.0: 0.05,
    }
    for elapsed, rate in expected.items():
        clock.now = 100.0 + elapsed
        # Several steps at one instant leave the rate where the clock puts it.
        for _ in range(3):
            optimizer.step()
            schedule.step()
        assert optimizer.param_groups[0]["lr"] == pytest.approx(rate, rel=1e-12)


@pytest.mark.parametrize(("budget", "floor", "key"), [(0.0, 0.1, "budget"), (5.0, 1.5, "min")])
def test_wall_clock_cosine_refuses_bad_settings(budget, floor, key):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match=key):
        wall_clock_cosine(optimizer, budget_seconds=budget, min_factor=floor)


def read_scores(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def same_slice_means(scores: list[dict[str, str]], model: str, view: str, region: str) -> dict:
    """Means of the model, of bicubic and of their difference over the slices where all four
    scores are finite, and how many slices that leaves out."""
    by_slice: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
    for row in scores:
        if row["view"] == view and row["region"] == region:
            by_slice[row["slice"]][row["method"]] = (float(row["psnr"]), float(row["ssim"]))
    kept = [
        (pair[model], pair["bicubic"])
        for pair in by_slice.values()
        if all(math.isfinite(v) for v in (*pair[model], *pair["bicubic"]))
    ]
    n = len(kept)
    return {
        "model_psnr": sum(m[0] for m, _ in kept) / n,
        "model_ssim": sum(m[1] for m, _ in kept) / n,
        "bicubic_psnr": sum(b[0] for _, b in kept) / n,
        "bicubic_ssim": sum(b[1] for _, b in kept) / n,
        "psnr_gain": sum(m[0] - b[0] for m, b in kept) / n,
        "ssim_gain": sum(m[1] - b[1] for m, b in kept) / n,
        "slices": n,
        "left_out": len(by_slice) - n,
    }


@pytest.mark.slow
def test_smoke_run_trains_on_the_clock_and_reports_the_evaluation(tmp_path):
    before = RESULTS.read_text() if RESULTS.exists() else None
    out = tmp_path / "quality"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.quality", "--smoke", "--output-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "HYDRA_FULL_ERROR": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-6000:]
    assert (RESULTS.read_text() if RESULTS.exists() else None) == before

    record = json.loads((out / "quality.json").read_text())
    assert sorted(record["runs"]) == ["2", "4"]
    # The targets: brain PSNR gain >= 3.0 dB at x2, >= 4.5 dB at x4; SSIM gain > 0 everywhere.
    psnr_targets = {2: 3.0, 4: 4.5}
    for scale in (2, 4):
        run = record["runs"][str(scale)]
        checkpoint = load_checkpoint(run["best_checkpoint"])
        schedule = checkpoint["hyper_parameters"]["scheduler"]["scheduler"]
        assert schedule["_target_"] == "benchmarks.time_schedule.wall_clock_cosine"
        assert schedule["budget_seconds"] == 3.0
        assert checkpoint["hyper_parameters"]["network"]["scale"] == scale
        assert 0 < checkpoint["global_step"] <= run["steps"]

        evaluation = out / f"x{scale}" / "evaluate"
        (model,) = json.loads((evaluation / "summary.json").read_text())["models"]
        scores = read_scores(evaluation / "metrics.csv")
        rows = [row for row in record["rows"] if row["scale"] == scale]
        assert {(row["view"], row["region"]) for row in rows} == {
            ("axial", "image"),
            ("axial", "brain"),
        }
        for row in rows:
            expected = same_slice_means(scores, model, row["view"], row["region"])
            # The report's means come from evaluate()'s summary at full precision, the test's
            # from metrics.csv, which holds 6 decimals: a mean of rounded values is within 5e-7.
            for key, value in expected.items():
                assert row[key] == pytest.approx(value, abs=1e-6), key
            # Over one set of slices, the mean gain is the difference of the means.
            assert row["psnr_gain"] == pytest.approx(row["model_psnr"] - row["bicubic_psnr"])
            met = expected["ssim_gain"] > 0
            if row["region"] == "brain":
                met = met and expected["psnr_gain"] >= psnr_targets[scale]
            assert row["met"] is met
            assert f"| x{scale} | {row['view']} | {row['region']} | " in result.stdout
