"""Single runs in this process: one seed repeats a CPU run, ckpt_path continues it, the csv logger
works without W&B and the fast_dev_run preset runs the pipeline without writing."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from srmri.tasks.train import train
from tests.conftest import TINY_TRAIN

QUICK = (*TINY_TRAIN, "trainer.limit_val_batches=1", "logger=csv", "print_config=false")
STEPS_PER_EPOCH = 32 // 4  # TINY_TRAIN's samples per epoch over its batch size


def weights(checkpoint: str) -> dict[str, torch.Tensor]:
    return torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]


@pytest.mark.slow
def test_one_seed_makes_a_cpu_run_repeatable(compose_train):
    short = (*QUICK, "data.samples_per_epoch=12")  # 3 steps
    first = train(compose_train(*short, "seed=3", run="first"))
    again = train(compose_train(*short, "seed=3", run="again"))
    other = train(compose_train(*short, "seed=4", run="other"))
    assert first["metrics"] == again["metrics"]
    a, b = weights(first["best_checkpoint"]), weights(again["best_checkpoint"])
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert other["metrics"]["val/psnr"] != first["metrics"]["val/psnr"]


@pytest.mark.slow
def test_ckpt_path_continues_the_step_count(compose_train, tmp_path):
    first = train(compose_train(*QUICK, run="first"))
    last = tmp_path / "first" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["global_step"] == STEPS_PER_EPOCH
    train(compose_train(*QUICK, f"ckpt_path={last}", "trainer.max_epochs=2", run="resumed"))
    resumed = torch.load(tmp_path / "resumed" / "checkpoints" / "last.ckpt", weights_only=True)
    assert resumed["global_step"] == 2 * STEPS_PER_EPOCH and resumed["epoch"] == 1
    # The resumed run trained its second epoch only.
    rows = list(csv.DictReader((tmp_path / "resumed" / "csv" / "version_0" / "metrics.csv").open()))
    trained = {row["epoch"] for row in rows if row.get("train/loss")}
    assert trained == {"1"}
    assert first["metrics"]["val/psnr"] != float(rows[-1]["val/psnr"])


@pytest.mark.slow
def test_csv_logger_records_the_validation_without_wandb(compose_train, tmp_path):
    report = train(compose_train(*QUICK, "trainer.max_steps=2"))
    run = tmp_path / "run"
    assert report["wandb_run_dir"] is None and not (run / "wandb").exists()
    rows = list(csv.DictReader((run / "csv" / "version_0" / "metrics.csv").open()))
    logged = [float(row["val/psnr"]) for row in rows if row.get("val/psnr")]
    # The last validation is the best checkpoint's, the one metrics.json reports.
    assert logged[-1] == pytest.approx(report["metrics"]["val/psnr"], abs=1e-6)
    assert json.loads((run / "metrics.json").read_text())["metrics"] == report["metrics"]


@pytest.mark.slow
def test_fast_dev_run_runs_the_pipeline_and_writes_no_checkpoint(compose_train, tmp_path):
    report = train(compose_train(*TINY_TRAIN, "debug=fast_dev_run", "print_config=false"))
    assert report["best_checkpoint"] is None and report["wandb_run_dir"] is None
    assert torch.isfinite(torch.tensor(report["metrics"]["val/psnr"]))
    assert not list(tmp_path.rglob("*.ckpt"))
