"""The sweep summary from job folders, and the Hydra callbacks that write it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobReturn, JobStatus
from hydra.types import RunMode
from omegaconf import OmegaConf
from omegaconf.errors import InterpolationResolutionError

from benchmarks.common import compose
from srmri.tasks.sweeps import (
    JOB_STATUS,
    SweepHydraConfig,
    SweepSummary,
    best_row,
    job_rows,
    write_summary,
)

SHARED = ["data.scale=2", "trainer.max_epochs=1"]


def make_job(sweep: Path, name: str, status: str | None, lr: str, psnr: float | None) -> Path:
    """A job folder as a sweep leaves it: overrides, and the status and metrics when it ended."""
    run = sweep / name
    overrides = [*SHARED, f"model.optimizer.lr={lr}"]
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text(OmegaConf.to_yaml(overrides))
    if status is not None:
        error = "ValueError: boom" if status == "failed" else None
        record = {"job": int(name), "overrides": overrides, "status": status, "error": error}
        (run / JOB_STATUS).write_text(json.dumps(record))
    if psnr is not None:
        metrics = {"val/psnr_best": psnr, "val/psnr": psnr - 0.5, "val/psnr_gain": psnr - 28.0}
        report = {"metrics": metrics, "best_checkpoint": str(run / "best.ckpt")}
        (run / "metrics.json").write_text(json.dumps({**report, "wandb_run_dir": None}))
    return run


@pytest.fixture
def sweep(tmp_path: Path) -> tuple[Path, dict[str, float]]:
    """Jobs 0, 2 and 10 completed, 1 failed, 3 unfinished; returns the folder and the scores."""
    scores = {"0": 30.25, "2": 31.5, "10": 29.75}
    for name, psnr in scores.items():
        make_job(tmp_path, name, "completed", f"1e-{name}", psnr)
    make_job(tmp_path, "1", "failed", "1e-1", None)
    make_job(tmp_path, "3", None, "1e-3", None)
    (tmp_path / ".submitit").mkdir()  # launcher folders are not jobs
    return tmp_path, scores


def test_rows_are_in_job_order_with_status_params_and_metrics(sweep):
    folder, scores = sweep
    rows = job_rows(folder)
    assert [str(row["job"]) for row in rows] == ["0", "1", "2", "3", "10"]
    assert [row["status"] for row in rows] == [
        "completed",
        "failed",
        "completed",
        "unfinished",
        "completed",
    ]
    # Only what differs between the jobs is a parameter of the sweep.
    assert [row["params"] for row in rows] == [f"model.optimizer.lr=1e-{n}" for n in "0123"] + [
        "model.optimizer.lr=1e-10"
    ]
    for row in rows:
        expected = scores.get(str(row["job"]))
        assert row.get("val/psnr_best") == expected
    assert rows[1]["error"] == "ValueError: boom"


def test_summary_files_name_the_best_job(sweep):
    folder, scores = sweep
    write_summary(folder, "val/psnr_best", "max")
    best = max(scores, key=scores.get)
    payload = json.loads((folder / "sweep_summary.json").read_text())
    assert str(payload["best_job"]) == best and payload["metric"] == "val/psnr_best"
    with (folder / "sweep_summary.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 5
    assert list(table[0])[:4] == ["job", "status", "params", "val/psnr_best"]
    by_job = {row["job"]: row for row in table}
    assert float(by_job[best]["val/psnr_best"]) == scores[best]
    assert by_job["1"]["val/psnr_best"] == "" and by_job["1"]["status"] == "failed"


def test_best_row_for_either_direction(sweep):
    folder, scores = sweep
    rows = job_rows(folder)
    assert str(best_row(rows, "val/psnr_best", "min")["job"]) == min(scores, key=scores.get)
    assert best_row(rows, "val/absent", "max") is None
    with pytest.raises(ValueError, match="mode must be one of"):
        best_row(rows, "val/psnr_best", "largest")


def job_config(sweep: Path, num: int, mode: RunMode = RunMode.MULTIRUN):
    return OmegaConf.create(
        {
            "hydra": {
                "mode": mode,
                "sweep": {"dir": str(sweep)},
                "runtime": {"output_dir": str(sweep / str(num))},
                "job": {"num": num},
                "overrides": {"task": [f"seed={num}"]},
            }
        }
    )


def test_a_failed_job_is_recorded_and_summarised_when_it_ends(tmp_path):
    (tmp_path / "0").mkdir()
    failed = JobReturn(status=JobStatus.FAILED, _return_value=RuntimeError("out of memory"))
    SweepSummary().on_job_end(job_config(tmp_path, 0), failed)
    record = json.loads((tmp_path / "0" / JOB_STATUS).read_text())
    assert record == {
        "job": 0,
        "overrides": ["seed=0"],
        "status": "failed",
        "error": "RuntimeError: out of memory",
    }
    (row,) = json.loads((tmp_path / "sweep_summary.json").read_text())["jobs"]
    assert row["status"] == "failed" and row["error"] == record["error"]


def test_single_runs_and_other_ranks_write_nothing(tmp_path, monkeypatch):
    (tmp_path / "0").mkdir()
    done = JobReturn(status=JobStatus.COMPLETED, _return_value=1.0)
    SweepSummary().on_job_end(job_config(tmp_path, 0, RunMode.RUN), done)
    monkeypatch.setenv("SLURM_PROCID", "1")
    SweepSummary().on_job_end(job_config(tmp_path, 0), done)
    assert list(tmp_path.rglob("*.json")) == []


def test_end_of_sweep_prints_the_table(sweep, capsys):
    folder, scores = sweep
    SweepSummary().on_multirun_end(job_config(folder, 0))
    out = capsys.readouterr().out
    best = max(scores, key=scores.get)
    assert f"{best} (best)" in out and f"{scores[best]:.4f}" in out
    assert (folder / "sweep_summary.csv").is_file()


def test_the_sweep_directory_resolves_once_the_sweep_config_is_installed():
    config = compose("train", return_hydra_config=True)
    HydraConfig.instance().cfg = None
    try:
        # What Hydra 1.3's sweeper meets: experiment_name reads the Hydra config, not yet set.
        with pytest.raises(InterpolationResolutionError, match="HydraConfig was not set"):
            str(config.hydra.sweep.dir)
        SweepHydraConfig().on_multirun_start(config)
        assert "/train/demo/multiruns/" in str(config.hydra.sweep.dir)
    finally:
        HydraConfig.instance().cfg = None
