"""A real multirun: one folder, one W&B run and one summary row per job, also after a failure."""

from __future__ import annotations

import csv
import json

import pytest

from srmri.tasks.sweeps import JOB_STATUS
from tests.conftest import TINY_TRAIN
from tests.wandb_offline import read_run


@pytest.mark.slow
def test_multirun_one_folder_and_one_wandb_run_per_job_also_after_a_failure(tmp_path, run_train):
    """`-m model.optimizer.lr=-1,0.001`: job 0 fails after its W&B run started, job 1 trains."""
    result = run_train(
        tmp_path,
        "-m",
        "model.optimizer.lr=-1,0.001",
        *TINY_TRAIN,
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
