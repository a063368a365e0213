"""Sweeps through other Hydra plugins: an Optuna search and the submitit launcher (locally)."""

from __future__ import annotations

import json
import math

import pytest
from omegaconf import OmegaConf

from tests.conftest import TINY_TRAIN

# Short validations and no W&B (the multirun test covers W&B runs per job).
QUICK = ("trainer.limit_val_batches=2", "logger=csv")


def job_folders(log_dir):
    (sweep,) = (log_dir / "train" / "demo" / "multiruns").iterdir()
    return sweep, {int(p.name): p for p in sweep.iterdir() if p.name.isdigit()}


@pytest.mark.slow
def test_a_two_trial_optuna_search_finishes_and_reports_its_best_trial(tmp_path, run_train):
    run_train(tmp_path, "hparams_search=optuna", "hydra.sweeper.n_trials=2", *TINY_TRAIN, *QUICK)
    sweep, jobs = job_folders(tmp_path)
    assert sorted(jobs) == [0, 1]
    scores, rates = {}, {}
    for num, run_dir in jobs.items():
        cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
        assert cfg.model.network.n_feats == 8  # a plain value on the command line fixes it
        rates[num] = cfg.model.optimizer.lr
        assert 1e-4 <= rates[num] <= 3e-3
        scores[num] = json.loads((run_dir / "metrics.json").read_text())["metrics"]["val/psnr_best"]
        assert (run_dir / "csv" / "version_0" / "metrics.csv").is_file()
    assert rates[0] != rates[1] and all(math.isfinite(s) for s in scores.values())

    best = max(scores, key=scores.get)
    result = OmegaConf.load(sweep / "optimization_results.yaml")
    assert result.best_value == pytest.approx(scores[best])
    assert result.best_params["model.optimizer.lr"] == pytest.approx(rates[best])
    assert json.loads((sweep / "sweep_summary.json").read_text())["best_job"] == best


@pytest.mark.slow
def test_submitit_local_runs_a_job_in_its_own_process(tmp_path, run_train):
    result = run_train(tmp_path, "-m", "hydra/launcher=submitit_local", *TINY_TRAIN, *QUICK)
    sweep, jobs = job_folders(tmp_path)
    assert list(jobs) == [0]
    report = json.loads((jobs[0] / "metrics.json").read_text())
    assert math.isfinite(report["metrics"]["val/psnr"])
    # submitit's own record of the job: its log and its pickled result.
    (job_log,) = (sweep / ".submitit").glob("*/*_0_log.out")
    assert job_log.stat().st_size > 0
    assert list(job_log.parent.glob("*_0_result.pkl"))
    assert "0 (best)" in result.stdout
    (row,) = json.loads((sweep / "sweep_summary.json").read_text())["jobs"]
    assert row["status"] == "completed" and row["val/psnr"] == report["metrics"]["val/psnr"]
