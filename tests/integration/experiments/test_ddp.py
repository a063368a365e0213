"""DDP with 2 CPU processes: trains and validates like one process would, and only rank 0 writes."""

from __future__ import annotations

import json

import pytest
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from srmri.lightning.module import SRModule
from tests.conftest import ROOT, TINY_TRAIN
from tests.wandb_offline import read_run

# TINY_TRAIN's samples per epoch and batch size; ddp_sim's processes.
SAMPLES, BATCH, RANKS = 32, 4, 2


@pytest.mark.slow
def test_ddp_sim_validation_equals_one_process_on_the_same_checkpoint(
    tmp_path, run_train, srmri_cache
):
    repo_before = {p.name for p in ROOT.iterdir()}
    # Every validation slice, so that the ranks together score what one process does.
    run_train(tmp_path / "logs", "trainer=ddp_sim", *TINY_TRAIN, "trainer.limit_val_batches=null")
    (run_dir,) = (tmp_path / "logs" / "train" / "demo" / "runs").iterdir()
    report = json.loads((run_dir / "metrics.json").read_text())

    # Each rank took its own half of the epoch's samples.
    best = torch.load(report["best_checkpoint"], map_location="cpu", weights_only=True)
    assert best["global_step"] == SAMPLES // (BATCH * RANKS)

    # The same checkpoint, validated by this one process on the run's own data config.
    cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    cfg.paths.output_dir = str(tmp_path / "single")
    cfg.paths.cache_dir = str(srmri_cache)
    module = SRModule.load_from_checkpoint(report["best_checkpoint"], map_location="cpu")
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        use_distributed_sampler=False,
    )
    (single,) = trainer.validate(module, datamodule=instantiate(cfg.data), verbose=False)
    keys = [k for k in single if k != "val/psnr_best"]
    assert len(keys) == 12  # PSNR and SSIM, image and brain, model, bicubic and gain
    for key in keys:
        assert report["metrics"][key] == pytest.approx(float(single[key]), abs=1e-4), key

    # Only rank 0 wrote artifacts; rank 1 leaves its console log and nothing else.
    assert {p.name for p in run_dir.iterdir()} == {
        ".hydra",
        "checkpoints",
        "config_tree.log",
        "metrics.json",
        "split.json",
        "train.log",
        "train_ddp_process_1.log",
        "wandb",
    }
    assert sorted(p.name for p in (run_dir / ".hydra").iterdir()) == [
        "config.yaml",
        "hydra.yaml",
        "overrides.yaml",
    ]
    assert len(list((run_dir / "checkpoints").iterdir())) == 2  # best and last
    (offline,) = (run_dir / "wandb").glob("offline-run-*")
    assert report["wandb_run_dir"] == str(offline)
    run = read_run(offline)
    assert run.exit_code == 0
    assert run.summary["val/psnr"] == pytest.approx(report["metrics"]["val/psnr"], abs=1e-5)
    assert {p.name for p in ROOT.iterdir()} == repo_before
