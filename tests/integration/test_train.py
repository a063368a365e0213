"""End to end: data -> model -> Lightning -> metrics -> checkpoint -> W&B offline files."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from srmri.lightning.module import SRModule
from srmri.tasks.train import train
from tests.conftest import ROOT, TINY_RUN, TINY_TRAIN, compose_config
from tests.wandb_offline import read_run

# The tiny run with image panels at its one validation, as the W&B run is checked for them.
TRAIN = [
    *TINY_TRAIN,
    "model.network.expansion=2",
    "model.images.every_n_epochs=1",
    "model.images.n_slices=2",
]
LOGGED = ("val/psnr", "val/psnr_bicubic", "val/psnr_gain", "val/ssim", "val/psnr_brain")


def test_train_writes_a_loadable_checkpoint_metrics_and_wandb_offline_run(tmp_path, capsys):
    run_dir = tmp_path / "run"
    cfg = compose_config("train", TRAIN, run_dir)
    report = train(cfg)

    best = report["best_checkpoint"]
    assert best and os.path.exists(best) and (run_dir / "checkpoints" / "last.ckpt").exists()
    torch.load(best, map_location="cpu", weights_only=True)
    module = SRModule.load_from_checkpoint(best, map_location="cpu")
    assert module.scale == 2 and module.hparams.name == "wdsr_a"

    metrics = report["metrics"]
    assert math.isfinite(metrics["val/psnr"]) and math.isfinite(metrics["val/psnr_bicubic"])
    assert metrics["val/psnr_gain"] == pytest.approx(
        metrics["val/psnr"] - metrics["val/psnr_bicubic"]
    )
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert saved["metrics"]["val/psnr"] == pytest.approx(metrics["val/psnr"])

    wandb_dir = report["wandb_run_dir"]
    assert wandb_dir and wandb_dir.startswith(str(run_dir / "wandb" / "offline-run-"))
    run = read_run(Path(wandb_dir))
    assert run.exit_code == 0 and run.group == "demo"
    logged = {key for row in run.history for key in row}
    assert set(LOGGED) <= logged
    assert "val/images" in {key.split("/_type")[0] for key in logged if key.endswith("_type")}
    history_psnr = [row["val/psnr"] for row in run.history if "val/psnr" in row]
    assert history_psnr[-1] == pytest.approx(metrics["val/psnr"], abs=1e-4)
    assert run.config["data"]["scale"] == 2

    printed = capsys.readouterr().out
    assert "bicubic" in printed and "best checkpoint:" in printed and "W&B run:" in printed


def test_bicubic_model_validates_without_training(tmp_path):
    run_dir = tmp_path / "run"
    cfg = compose_config("train", [*TINY_RUN, "model=bicubic", "logger=csv"], run_dir)
    report = train(cfg)
    assert report["best_checkpoint"] is None
    assert report["metrics"]["val/psnr"] == pytest.approx(report["metrics"]["val/psnr_bicubic"])
    assert report["metrics"]["val/psnr_gain"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.slow
def test_train_py_command_line_prints_model_next_to_bicubic(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *TRAIN, f"paths.log_dir={tmp_path / 'logs'}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "PSNR dB" in result.stdout and "bicubic" in result.stdout
    (run_dir,) = (tmp_path / "logs" / "train" / "demo" / "runs").iterdir()
    assert (run_dir / "checkpoints" / "last.ckpt").exists()
    assert (run_dir / ".hydra" / "config.yaml").exists()
    assert (run_dir / "config_tree.log").stat().st_size > 0
