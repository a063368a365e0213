"""The sweep summary from job folders, the Hydra callback that writes it, and a real multirun."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobReturn, JobStatus
from hydra.types import RunMode
from omegaconf import OmegaConf
from omegaconf.errors import InterpolationResolutionError

from srmri.tasks.sweeps import (
    JOB_STATUS,
    SweepHydraConfig,
    SweepSummary,
    best_row,
    job_rows,
    write_summary,
)
from tests.integration.experiments.conftest import CONF, TINY
from tests.wandb_offline import read_run

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
    with initialize_config_dir(str(CONF), version_base="1.3"):
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


@pytest.mark.slow
def test_multirun_one_folder_and_one_wandb_run_per_job_also_after_a_failure(tmp_path, run_train):
    """`-m model.optimizer.lr=-1,0.001`: job 0 fails after its W&B run started, job 1 trains."""
    result = run_train(
        tmp_path,
        "-m",
        "model.optimizer.lr=-1,0.001",
        *TINY,
        "trainer.limit_val_batches=2",
        check=False,
    )
    assert result.returncode != 0  # Hydra reports the failed job once every job has run
    (sweep,) = (tmp_path / "train" / "demo" / "multiruns").iterdir()
    jobs = {int(p.name): p for p in sweep.iterdir() if p.name.isdigit()}
    assert sorted(jobs) == [0, 1]

    runs = {}
    for num, run_dir in jobs.items():
        ok = num == 1
        (offline,) = (run_dir / "wandb").glob("offline-run-*")
        run = runs[num] = read_run(offline)
        # One W&B group per sweep; the job's overrides as flat config keys.
        assert (run.project, run.group, run.tags, run.job_type) == (
            "srmri",
            f"demo-{sweep.name}",
            ["demo"],
            "train",
        )
        assert run.config["sweep/model.optimizer.lr"] == (0.001 if ok else -1)
        assert run.config["model"]["name"] == "wdsr_a"
        assert run.exit_code == (0 if ok else 1)  # closed, and marked failed when it failed
        assert (run_dir / ".hydra" / "config.yaml").is_file()
        assert "wdsr_a" in (run_dir / "config_tree.log").read_text()
        status = json.loads((run_dir / JOB_STATUS).read_text())
        assert status["status"] == ("completed" if ok else "failed")
    assert runs[0].run_id != runs[1].run_id
    assert "Invalid learning rate" in json.loads((jobs[0] / JOB_STATUS).read_text())["error"]
    assert not (jobs[0] / "metrics.json").exists()
    report = json.loads((jobs[1] / "metrics.json").read_text())
    assert runs[1].summary["val/psnr"] == pytest.approx(report["metrics"]["val/psnr"], abs=1e-5)
    assert runs[1].config["model"]["optimizer"]["lr"] == 0.001

    with (sweep / "sweep_summary.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert [(row["job"], row["status"]) for row in table] == [("0", "failed"), ("1", "completed")]
    assert [row["params"] for row in table] == ["model.optimizer.lr=-1", "model.optimizer.lr=0.001"]
    best = report["metrics"]["val/psnr_best"]
    assert float(table[1]["val/psnr_best"]) == pytest.approx(best)
    assert json.loads((sweep / "sweep_summary.json").read_text())["best_job"] == 1
