"""resume=latest and resume=<path>: which run and checkpoint they pick, and what they change."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from srmri.io.errors import CheckpointError, ConfigError
from srmri.tasks.resume import apply_resume, find_latest, resolve, wandb_run_id


def write_checkpoint(path: Path, step: int, age: float, corrupt: bool = False) -> Path:
    """A small checkpoint at ``step``, last modified ``age`` seconds ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": {"w": torch.ones(3)}, "epoch": step // 10, "global_step": step}, path)
    if corrupt:
        path.write_bytes(path.read_bytes()[:100])
    moment = time.time() - age
    os.utime(path, (moment, moment))
    return path


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """Runs of two experiments; the newest run of ``exp`` has a corrupt last.ckpt."""
    root = tmp_path / "logs" / "train"
    write_checkpoint(root / "exp/runs/old/checkpoints/last.ckpt", 30, age=500)
    write_checkpoint(root / "exp/runs/new/checkpoints/best-a.ckpt", 10, age=300)
    write_checkpoint(root / "exp/runs/new/checkpoints/best-b.ckpt", 20, age=200)
    write_checkpoint(root / "exp/runs/new/checkpoints/last.ckpt", 40, age=100, corrupt=True)
    write_checkpoint(root / "other/runs/newest/checkpoints/last.ckpt", 50, age=10)
    (root / "exp/runs/launch-without-checkpoints").mkdir()
    return root


def test_latest_takes_the_newest_run_of_the_experiment_and_skips_a_corrupt_file(logs, caplog):
    with caplog.at_level(logging.INFO, logger="srmri.tasks.resume"):
        point = find_latest(logs / "exp")
    run = logs / "exp/runs/new"
    assert point.checkpoint == run / "checkpoints/best-b.ckpt"
    assert (point.run_dir, point.global_step) == (run, 20)
    assert f"skipping {run / 'checkpoints/last.ckpt'}" in caplog.text
    assert f"continuing from {point.checkpoint}" in caplog.text


def test_latest_falls_back_to_an_older_run_when_a_run_has_no_loadable_checkpoint(logs):
    for path in (logs / "exp/runs/new/checkpoints").glob("best-*.ckpt"):
        path.write_bytes(b"broken")
    point = find_latest(logs / "exp")
    assert (point.run_dir, point.global_step) == (logs / "exp/runs/old", 30)


def test_latest_prefers_last_ckpt_over_a_newer_best(tmp_path):
    run = tmp_path / "exp/runs/r"
    write_checkpoint(run / "checkpoints/best.ckpt", 10, age=1)
    write_checkpoint(run / "checkpoints/last.ckpt", 20, age=50)
    assert find_latest(tmp_path / "exp").checkpoint == run / "checkpoints/last.ckpt"


def test_nothing_to_resume_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match=r"resume=latest: no loadable checkpoint in .*runs"):
        find_latest(tmp_path / "exp")


def test_a_run_directory_or_a_file_can_be_named(logs):
    run = logs / "exp/runs/old"
    assert resolve(str(run), logs / "other").checkpoint == run / "checkpoints/last.ckpt"
    named = resolve(str(run / "checkpoints/last.ckpt"), logs / "other")
    assert (named.run_dir, named.global_step) == (run, 30)
    with pytest.raises(CheckpointError, match="truncated"):
        resolve(str(logs / "exp/runs/new/checkpoints/last.ckpt"), logs / "other")
    with pytest.raises(ConfigError, match=r"expected .latest., a run directory or a \.ckpt file"):
        resolve(str(logs / "missing"), logs / "exp")


def test_apply_resume_points_the_config_at_the_run_and_removes_stale_temporaries(logs):
    folder = logs / "exp/runs/new/checkpoints"
    stale = folder / ".last.ckpt.1a2b3c4d.tmp"
    stale.write_bytes(b"half a checkpoint")
    cfg = OmegaConf.create(
        {
            "resume": "latest",
            "ckpt_path": None,
            "task_name": "train",
            "experiment_name": "exp",
            "paths": {"log_dir": str(logs.parent), "output_dir": "launch"},
        }
    )
    point = apply_resume(cfg)
    assert cfg.ckpt_path == str(folder / "best-b.ckpt") == str(point.checkpoint)
    assert cfg.paths.output_dir == str(logs / "exp/runs/new")
    assert not stale.exists()
    cfg.resume, cfg.ckpt_path = "latest", "some.ckpt"
    with pytest.raises(ConfigError, match="both set"):
        apply_resume(cfg)


def test_the_wandb_run_id_of_a_run_directory(tmp_path):
    assert wandb_run_id(tmp_path) is None
    for name in ("offline-run-20260101_100000-aaaa1111", "offline-run-20260102_090000-bbbb2222-1"):
        (tmp_path / "wandb" / name).mkdir(parents=True)
    (tmp_path / "wandb" / "latest-run").mkdir()
    assert wandb_run_id(tmp_path) == "bbbb2222"
