"""Helpers for the reliability runs: tiny ``train.py`` runs in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY_TRAIN

# The tiny run with the Rician degradation, so that the global random state matters; metrics
# logged at every step, one validation batch of 2 slices, no image panels or model summary.
RUN = [
    *TINY_TRAIN,
    "model=edsr_baseline",
    "model.images.every_n_epochs=0",
    "degradation=seed_rician",
    "data.eval_batch_size=2",
    "trainer.limit_val_batches=1",
    "trainer.log_every_n_steps=1",
    "callbacks.model_summary=null",
]
# CSV metrics written at every step, so a test can watch a run's progress.
CSV_EVERY_STEP = ["logger=csv", "+logger.csv.flush_logs_every_n_steps=1"]


def train_command(log_dir: Path, *overrides: str) -> list[str]:
    return [sys.executable, "train.py", *RUN, f"paths.log_dir={log_dir}", *overrides]


def train_env(**extra: str) -> dict[str, str]:
    """The test's environment (its SRMRI_CACHE_DIR included), W&B offline, one thread."""
    env = dict(os.environ)
    env.update({"WANDB_MODE": "offline", "OMP_NUM_THREADS": "1", "HYDRA_FULL_ERROR": "1"})
    env.update(extra)
    return env


def run_train(log_dir: Path, *overrides: str, **env: str):
    """Run train.py to the end; return the completed process (stdout and stderr merged)."""
    return subprocess.run(
        train_command(log_dir, *overrides),
        cwd=ROOT,
        env=train_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )


@pytest.fixture(autouse=True)
def _one_thread(one_thread: None) -> None:
    """Every reliability test on one thread (see ``one_thread`` in tests/conftest.py)."""
