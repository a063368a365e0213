"""DDP with 2 CPU processes: trains and validates like one process would, and only rank 0 writes."""

from __future__ import annotations

import json

import pytest
import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import OmegaConf

from srmri.lightning.module import SRModule
from srmri.tasks.config_check import check_launch
from tests.integration.experiments.conftest import CONF, ROOT, TINY
from tests.wandb_offline import read_run

SAMPLES, BATCH, RANKS = 32, 4, 2  # TINY's samples per epoch and batch size; ddp_sim's processes


@pytest.mark.slow
def test_ddp_sim_validation_equals_one_process_on_the_same_checkpoint(
    tmp_path, run_train, cache_dir
):
    repo_before = {p.name for p in ROOT.iterdir()}
    run_train(tmp_path / "logs", "trainer=ddp_sim", *TINY)
    (run_dir,) = (tmp_path / "logs" / "train" / "demo" / "runs").iterdir()
    report = json.loads((run_dir / "metrics.json").read_text())

    # Each rank took its own half of the epoch's samples.
    best = torch.load(report["best_checkpoint"], map_location="cpu", weights_only=True)
    assert best["global_step"] == SAMPLES // (BATCH * RANKS)

    # The same checkpoint, validated by this one process on the run's own data config.
    cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    cfg.paths.output_dir = str(tmp_path / "single")
    cfg.paths.cache_dir = str(cache_dir)
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


@pytest.fixture
def multirun_job():
    """Install a Hydra config of mode MULTIRUN, as a sweep's job sees it; removed afterwards."""
    with initialize_config_dir(str(CONF), version_base="1.3"):
        config = compose("train", return_hydra_config=True)

    def install(mode: RunMode) -> None:
        config.hydra.mode = mode
        HydraConfig.instance().set_config(config)

    yield install
    HydraConfig.instance().cfg = None


def cpu_trainer(devices: int, strategy: str) -> pl.Trainer:
    return pl.Trainer(accelerator="cpu", devices=devices, strategy=strategy, logger=False)


def test_ddp_that_reruns_the_command_is_refused_inside_a_multirun(multirun_job):
    multirun_job(RunMode.MULTIRUN)
    with pytest.raises(ValueError, match="cannot run inside a multirun"):
        check_launch(cpu_trainer(2, "ddp"))
    check_launch(cpu_trainer(1, "ddp"))  # one process: nothing to re-run
    check_launch(cpu_trainer(1, "auto"))


def test_ddp_in_a_single_run_is_allowed(multirun_job):
    multirun_job(RunMode.RUN)
    check_launch(cpu_trainer(2, "ddp"))
