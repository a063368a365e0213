"""Fixtures for the experiment runs: ``train.py`` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture
def run_train() -> Callable[..., subprocess.CompletedProcess]:
    """``run_train(log_dir, *overrides)``: ``python train.py`` in a subprocess, W&B offline.

    Fails the test with the end of the output when the command fails, unless ``check=False``.
    """

    def run(log_dir: Path, *overrides: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "WANDB_MODE": "offline",
            "WANDB_SILENT": "true",
            "HYDRA_FULL_ERROR": "1",
        }
        result = subprocess.run(
            [sys.executable, "train.py", *overrides, f"paths.log_dir={log_dir}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and result.returncode != 0:
            pytest.fail(f"train.py exited with {result.returncode}:\n{result.stderr[-6000:]}")
        return result

    return run
