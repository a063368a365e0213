"""Fixtures for the evaluation tests: the MNI152 demo test volume, tiny checkpoints, synthetic data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from srmri.data import SRDataModule, Volume
from srmri.data.sources import Mni152Source
from srmri.lightning.module import SRModule

NORMALISATION = {"method": "percentile", "lower": 0.5, "upper": 99.5, "use_mask": True}


@pytest.fixture(scope="session")
def mni_volume(mni_cache: Path) -> Volume:
    """The demo's test volume (a slab of the MNI152 template, normalised, with its brain mask)."""
    return SRDataModule(Mni152Source(mni_cache)).volumes("test")[0]


def network_config(kind: str, scale: int) -> dict:
    if kind == "bicubic":
        return {
            "_target_": "srmri.models.interpolation.Interpolation",
            "scale": scale,
            "mode": "bicubic",
        }
    return {
        "_target_": "srmri.models.wdsr.WDSRA",
        "scale": scale,
        "channels": 1,
        "n_blocks": 1,
        "n_feats": 4,
        "expansion": 2,
    }


@pytest.fixture
def make_checkpoint(tmp_path: Path) -> Callable[..., Path]:
    """Factory: a checkpoint file as Lightning writes it, of a tiny network (or bicubic)."""

    def make(
        name: str = "tiny",
        kind: str = "wdsr",
        scale: int = 2,
        degradation: dict | None = None,
        normalisation: dict | None = None,
        seed: int = 0,
    ) -> Path:
        torch.manual_seed(seed)
        module = SRModule(
            network=network_config(kind, scale),
            degradation=degradation or {"scale": scale, "preset": "seed"},
            normalisation=normalisation or NORMALISATION,
            name=name,
        )
        path = tmp_path / "checkpoints" / f"{name}-{seed}.ckpt"
        path.parent.mkdir(exist_ok=True)
        torch.save(
            {
                "state_dict": module.state_dict(),
                "hyper_parameters": dict(module.hparams),
                "pytorch-lightning_version": pl.__version__,
            },
            path,
        )
        return path

    return make


def synthetic_brain(shape: tuple[int, int, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """An ellipsoid "brain" with smooth texture on a zero background, and its mask."""
    rng = np.random.default_rng(seed)
    grid = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    mask = sum(g**2 / 0.7**2 for g in grid) <= 1.0
    texture = sum(np.sin((3 + i) * np.pi * g + rng.uniform(0, 6)) for i, g in enumerate(grid))
    image = np.where(mask, 400 + 80 * texture + rng.normal(0, 10, shape), 0.0)
    return image.astype(np.float32), mask
