"""resume=latest: a run killed twice and resumed ends exactly as the uninterrupted run."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from srmri.io.checkpoints import load_checkpoint
from tests.conftest import ROOT
from tests.integration.reliability.conftest import (
    CSV_EVERY_STEP,
    run_train,
    train_command,
    train_env,
)

EPOCHS = 3
STEPS_PER_EPOCH = 8  # 32 patches in batches of 4


def run_dir_of(log_dir: Path) -> Path | None:
    found = sorted(log_dir.glob("train/demo/runs/*/checkpoints/last.ckpt"))
    return found[0].parent.parent if found else None


def logged_steps(run_dir: Path) -> int:
    """The highest training step in the run's CSV metrics (-1 before any)."""
    steps = [-1]
    for path in run_dir.glob("csv/version_*/metrics.csv"):
        with open(path, newline="") as handle:
            steps += [int(row["step"]) for row in csv.DictReader(handle) if row.get("step")]
    return max(steps)


def start_and_kill(log_dir: Path, ready, *overrides: str) -> None:
    """Start train.py and SIGKILL it as soon as ``ready()`` is true."""
    child = subprocess.Popen(
        train_command(log_dir, f"trainer.max_epochs={EPOCHS}", *CSV_EVERY_STEP, *overrides),
        cwd=ROOT,
        env=train_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while not ready() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert child.poll() is None, "train.py ended before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)


@pytest.mark.slow
def test_a_killed_run_resumed_with_latest_ends_as_the_uninterrupted_run(tmp_path):
    straight = run_train(tmp_path / "a", f"trainer.max_epochs={EPOCHS}", *CSV_EVERY_STEP)
    assert straight.returncode == 0, straight.stdout[-3000:]
    expected = load_checkpoint(run_dir_of(tmp_path / "a") / "checkpoints/last.ckpt")

    logs = tmp_path / "b"
    # Killed at the first epoch boundary: right after epoch 0's last.ckpt is written.
    start_and_kill(logs, lambda: run_dir_of(logs) is not None)
    run = run_dir_of(logs)
    assert load_checkpoint(run / "checkpoints/last.ckpt")["global_step"] == STEPS_PER_EPOCH
    # Resumed, then killed again in the middle of epoch 2 (after epoch 1's checkpoint).
    middle = 2 * STEPS_PER_EPOCH + STEPS_PER_EPOCH // 2
    start_and_kill(logs, lambda: logged_steps(run) >= middle, "resume=latest")
    resumed = run_train(logs, f"trainer.max_epochs={EPOCHS}", *CSV_EVERY_STEP, "resume=latest")
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    assert (
        f"continuing from {run / 'checkpoints/last.ckpt'} "
        f"(epoch 1, global step {2 * STEPS_PER_EPOCH})" in resumed.stdout
    )

    final = load_checkpoint(run / "checkpoints/last.ckpt")
    assert (final["epoch"], final["global_step"]) == (EPOCHS - 1, EPOCHS * STEPS_PER_EPOCH)
    assert final["global_step"] == expected["global_step"]
    # Weights, EMA, optimiser moments, schedule and random states all match the straight run.
    assert final["state_dict"].keys() == expected["state_dict"].keys()
    for name, value in expected["state_dict"].items():
        assert torch.equal(final["state_dict"][name], value), name
    for ours, theirs in zip(
        final["optimizer_states"][0]["state"].values(),
        expected["optimizer_states"][0]["state"].values(),
        strict=True,
    ):
        assert all(torch.equal(ours[key], theirs[key]) for key in theirs)
    assert final["lr_schedulers"] == expected["lr_schedulers"]
    (rng_key,) = [key for key in expected["callbacks"] if key.startswith("RNGStateCheckpoint")]
    assert torch.equal(
        final["callbacks"][rng_key]["torch"], expected["callbacks"][rng_key]["torch"]
    )
    assert not list((run / "checkpoints").glob(".*.tmp"))
