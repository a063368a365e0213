"""Fixtures for the experiment tests: tiny training settings, in-process configs, ``train.py`` runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

ROOT = Path(__file__).resolve().parents[3]
CONF = ROOT / "conf"
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))

# A network and an epoch small enough for a test: 8 training steps of 4 patches of 24 x 24.
TINY = (
    "model.network.n_blocks=1",
    "model.network.n_feats=8",
    "data.samples_per_epoch=32",
    "data.batch_size=4",
    "data.patch_size=24",
    "trainer.max_epochs=1",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the MNI152 demo volume, shared by every run of the session."""
    return tmp_path_factory.mktemp("srmri-cache")


@pytest.fixture
def compose_train(cache_dir: Path, tmp_path: Path) -> Callable[..., DictConfig]:
    """``compose_train(*overrides)``: the training config as ``train.py`` would get it.

    Outside a Hydra run there is no run directory and no experiment choice to read, so the
    run directory is ``tmp_path/<run>`` and the experiment name is given.
    """

    def make(*overrides: str, name: str = "demo", run: str = "run") -> DictConfig:
        with initialize_config_dir(str(CONF), version_base="1.3"):
            return compose(
                "train",
                overrides=[
                    f"paths.output_dir={tmp_path / run}",
                    f"paths.cache_dir={cache_dir}",
                    f"experiment_name={name}",
                    *overrides,
                ],
            )

    return make


@pytest.fixture
def run_train(cache_dir: Path) -> Callable[..., subprocess.CompletedProcess]:
    """``run_train(log_dir, *overrides)``: ``python train.py`` in a subprocess, W&B offline.

    Fails the test with the end of the output when the command fails, unless ``check=False``.
    """

    def run(log_dir: Path, *overrides: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "WANDB_MODE": "offline",
            "WANDB_SILENT": "true",
            "SRMRI_CACHE_DIR": str(cache_dir),
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
