"""Helpers for the reliability tests: a tiny module and data in-process, tiny train.py runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict
from torch.utils.data import DataLoader, Dataset

from srmri.lightning.module import SRModule

ROOT = Path(__file__).resolve().parents[3]
SCALE = 2
# A train.py run of a few seconds: 8 steps of 4 patches per epoch, one validation batch of 2, the
# Rician degradation, so that the global random state matters.
TINY_RUN = [
    "model=edsr_baseline",
    "model.network.n_blocks=1",
    "model.network.n_feats=8",
    "model.images.every_n_epochs=0",
    "degradation=seed_rician",
    "data.samples_per_epoch=32",
    "data.batch_size=4",
    "data.eval_batch_size=2",
    "data.patch_size=24",
    "+trainer.limit_val_batches=1",
    "trainer.log_every_n_steps=1",
    "trainer.enable_progress_bar=false",
    "callbacks.model_summary=null",
]
# CSV metrics written at every step, so a test can watch a run's progress.
CSV_EVERY_STEP = ["logger=csv", "+logger.csv.flush_logs_every_n_steps=1"]


class Patches(Dataset):
    """Smooth random HR patches ``(1, size, size)``; the items in ``poisoned`` hold a NaN."""

    def __init__(self, n: int = 16, size: int = 24, poisoned: tuple[int, ...] = ()) -> None:
        generator = torch.Generator().manual_seed(0)
        coarse = torch.rand(n, 1, size // 4, size // 4, generator=generator)
        self.hr = torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear")
        for index in poisoned:
            self.hr[index, 0, 3, 3] = torch.nan

    def __len__(self) -> int:
        return len(self.hr)

    def __getitem__(self, index: int) -> dict:
        return {"hr": self.hr[index]}


def tiny_module() -> SRModule:
    return SRModule(
        network={
            "_target_": "srmri.models.edsr.EDSR",
            "scale": SCALE,
            "channels": 1,
            "n_blocks": 1,
            "n_feats": 8,
        },
        degradation={"scale": SCALE, "preset": "seed"},
        normalisation={"method": "minmax", "use_mask": False},
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3},
        ema={"enabled": True, "decay": 0.9},
        images={"every_n_epochs": 0},
        name="tiny",
    )


def tiny_trainer(root: Path, callbacks: list, plugins=None, **kwargs) -> pl.Trainer:
    settings = {
        "default_root_dir": root,
        "accelerator": "cpu",
        "max_epochs": 2,
        "logger": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "num_sanity_val_steps": 0,
        "limit_val_batches": 0,
        "callbacks": callbacks,
        "plugins": plugins,
    }
    settings.update(kwargs)
    return pl.Trainer(**settings)


def loader(batch_size: int = 4, **kwargs) -> DataLoader:
    return DataLoader(Patches(**kwargs), batch_size=batch_size)


def composed(root: Path, *overrides: str, cache_dir: Path | None = None) -> DictConfig:
    """The train config as train.py composes it, with its paths inside ``root``."""
    paths = [
        f"paths.log_dir={root / 'logs'}",
        f"paths.output_dir={root / 'run'}",
        f"paths.cache_dir={cache_dir or root / 'cache'}",
    ]
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=[*paths, *overrides], return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def train_command(log_dir: Path, *overrides: str) -> list[str]:
    return [sys.executable, "train.py", *TINY_RUN, f"paths.log_dir={log_dir}", *overrides]


def train_env(cache_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "SRMRI_CACHE_DIR": str(cache_dir),
            "WANDB_MODE": "offline",
            "OMP_NUM_THREADS": "1",
            "HYDRA_FULL_ERROR": "1",
        }
    )
    env.update(extra)
    return env


def run_train(log_dir: Path, cache_dir: Path, *overrides: str, **env: str):
    """Run train.py to the end; return the completed process (stdout and stderr merged)."""
    return subprocess.run(
        train_command(log_dir, *overrides),
        cwd=ROOT,
        env=train_env(cache_dir, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks run fastest on one thread; two spin against each other on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SRMRI_CACHE_DIR for every train.py run of the session (the MNI152 demo is written once)."""
    return tmp_path_factory.mktemp("srmri-cache")
