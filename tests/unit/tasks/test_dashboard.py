"""Sweep groups and swept values, the best checkpoint summary, checkpoint -> training run links,
and the sweep summary as a W&B table (read back from the offline run files)."""

from __future__ import annotations

import csv
import json

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import OmegaConf, open_dict

from srmri.callbacks.dashboard import WANDB_RUN_KEY
from srmri.tasks.dashboard import (
    best_summary,
    checkpoint_run,
    current_sweep,
    log_sweep_table,
    sweep_values,
    wandb_settings,
)
from srmri.tasks.sweeps import write_summary
from tests.conftest import ROOT
from tests.wandb_offline import read_run


def test_overrides_become_flat_typed_sweep_keys():
    values = sweep_values(
        ["model.optimizer.lr=0.001", "model=edsr_baseline", "+data.views=[axial,coronal]", "seed=3"]
    )
    assert values == {
        "sweep/model.optimizer.lr": 0.001,
        "sweep/model": "edsr_baseline",
        "sweep/data.views": "[axial,coronal]",
        "sweep/seed": 3,
    }


def test_a_multirun_job_joins_its_sweeps_group(tmp_path):
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        config = compose("train", overrides=["seed=3"], return_hydra_config=True)
    sweep = tmp_path / "multiruns" / "2026-01-02_03-04-05"
    with open_dict(config):
        config.hydra.mode = RunMode.MULTIRUN
        config.hydra.sweep.dir = str(sweep)
        config.hydra.overrides.task = ["seed=3"]
    try:
        assert wandb_settings({"group": "demo"}) == {}  # Hydra's config not set: a plain run
        HydraConfig.instance().set_config(config)
        assert current_sweep() == (sweep, ["seed=3"])
        assert wandb_settings({"group": "demo"}) == {"group": "demo-2026-01-02_03-04-05"}
    finally:
        HydraConfig.instance().cfg = None


def test_best_summary_names_the_checkpoint_and_its_metrics():
    report = {"metrics": {"val/psnr": 31.5, "val/psnr_gain": 2.5}, "best_checkpoint": "b.ckpt"}
    assert best_summary(report) == {
        "best/val/psnr": 31.5,
        "best/val/psnr_gain": 2.5,
        "best/checkpoint": "b.ckpt",
    }


def test_a_checkpoint_names_its_training_run(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "wandb" / "offline-run-20260101_120000-folder01").mkdir(parents=True)
    recorded, plain = run / "checkpoints" / "a.ckpt", run / "checkpoints" / "b.ckpt"
    record = {"id": "rec0rded", "project": "p", "group": "g", "name": "n"}
    torch.save({"state_dict": {}, WANDB_RUN_KEY: record}, recorded)
    torch.save({"state_dict": {}}, plain)
    assert checkpoint_run(recorded) == record
    # Written without the record: the run directory's W&B folder names the run.
    assert checkpoint_run(plain)["id"] == "folder01"
    alone = tmp_path / "alone.ckpt"
    torch.save({"state_dict": {}}, alone)
    assert checkpoint_run(alone) is None


@pytest.mark.slow
def test_the_sweep_summary_is_a_wandb_table_in_the_sweeps_group(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    sweep = tmp_path / "2026-01-02_03-04-05"
    for job, (lr, psnr) in enumerate([("0.001", 30.5), ("0.01", 31.25)]):
        (sweep / str(job) / ".hydra").mkdir(parents=True)
        record = {"job": job, "overrides": [f"model.optimizer.lr={lr}"], "status": "completed"}
        (sweep / str(job) / "job_status.json").write_text(json.dumps({**record, "error": None}))
        report = {"metrics": {"val/psnr_best": psnr}, "best_checkpoint": f"{job}.ckpt"}
        (sweep / str(job) / "metrics.json").write_text(json.dumps(report))
    rows = write_summary(sweep, "val/psnr_best")
    config = OmegaConf.create(
        {"logger": {"wandb": {"_target_": "srmri.tasks.loggers.wandb_logger", "group": "demo"}}}
    )
    folder = log_sweep_table(config, sweep, rows, "val/psnr_best", "max")
    assert folder is not None and folder.parent == sweep / "wandb"
    run = read_run(folder, wait_s=30)
    assert (run.group, run.job_type) == ("demo-2026-01-02_03-04-05", "sweep")
    assert run.summary["sweep/best_job"] == "1"
    assert run.summary["sweep/best/val/psnr_best"] == 31.25
    path = run.summary.get("sweep/summary/path") or run.summary["sweep/summary"]["path"]
    table = json.loads((folder / "files" / path).read_text())
    with (sweep / "sweep_summary.csv").open() as handle:
        written = list(csv.DictReader(handle))
    assert table["columns"] == list(written[0])
    for logged, row in zip(table["data"], written, strict=True):
        assert [("" if v is None else str(v)) for v in logged] == list(row.values())
    assert log_sweep_table(OmegaConf.create({"logger": None}), sweep, rows, "m", "max") is None
