"""Tiny srmri modules, their checkpoints, data and trainers, shared by the unit and integration tests.

One recipe for every test that needs a module: a WDSR-A of two blocks of 8 features (or the
bicubic baseline), x2, the default degradation and normalisation, seeded weights. Tests that train
it add :data:`TRAINING`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader

from benchmarks.common import ROOT, HRPatches, random_patches
from srmri.lightning.module import SRModule

SCALE = 2
# A tiny WDSR-A x2 checkpoint written by srmri 0.1.0, before the package was regrouped (see
# tests/fixtures/README.md): old `_target_` strings, a degradation config without one.
LEGACY_CHECKPOINT = Path(__file__).parent / "fixtures" / "wdsr_a_x2_v0.1.0.ckpt"
NORMALISATION = {"method": "percentile", "lower": 0.5, "upper": 99.5, "use_mask": True}
# What a fit needs beyond the inference settings: Adam, an EMA that moves fast, no image panels.
TRAINING: dict[str, Any] = {
    "optimizer": {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3},
    "ema": {"enabled": True, "decay": 0.9},
    "images": {"every_n_epochs": 0},
}
TINY_WDSR = {
    "_target_": "srmri.models.wdsr.WDSRA",
    "scale": SCALE,
    "channels": 1,
    "n_blocks": 2,
    "n_feats": 8,
    "expansion": 2,
}
# The volumetric (spatial_dims=3) counterparts: a WDSR-A x2 of one block of 4 features with 3x3x3
# convolutions, and the seed degradation applied in 3-D.
TINY_WDSR_3D = {
    "_target_": "srmri.models.wdsr.WDSRA",
    "scale": SCALE,
    "n_blocks": 1,
    "n_feats": 4,
    "expansion": 2,
    "spatial_dims": 3,
}
DEGRADATION_3D = {"_target_": "srmri.degradation.Degradation", "scale": SCALE, "spatial_dims": 3}
# LR pixels that one output pixel of TINY_WDSR depends on, on each side: a 3x3 head conv, two
# blocks of two 3x3 convs and the 3x3 conv before the pixel shuffle (the parallel 5x5 skip is less).
TINY_WDSR_RADIUS = 1 + 2 * 2 + 1


def tiny_network(kind: str = "wdsr", scale: int = SCALE) -> dict[str, Any]:
    """The network config of a tiny module: ``wdsr`` (:data:`TINY_WDSR`) or ``bicubic``."""
    if kind == "bicubic":
        return {"_target_": "srmri.models.interpolation.Interpolation", "scale": scale}
    if kind != "wdsr":
        raise ValueError(f"kind must be 'wdsr' or 'bicubic', got {kind!r}")
    return {**TINY_WDSR, "scale": scale}


def tiny_module(
    network: dict[str, Any] | None = None,
    *,
    kind: str = "wdsr",
    scale: int = SCALE,
    seed: int = 0,
    **overrides: Any,
) -> SRModule:
    """A tiny :class:`SRModule` (train mode), its weights drawn after ``torch.manual_seed(seed)``.

    ``network`` replaces the network config (else :func:`tiny_network` of ``kind`` and ``scale``);
    ``overrides`` replace any other argument of :class:`SRModule`.
    """
    config = {
        "network": network or tiny_network(kind, scale),
        "degradation": {"scale": scale, "preset": "seed"},
        "normalisation": NORMALISATION,
        "name": "tiny",
    }
    config.update(overrides)
    torch.manual_seed(seed)
    return SRModule(**config)


def trainable_module(**overrides: Any) -> SRModule:
    """:func:`tiny_module` with :data:`TRAINING` (an optimiser, an EMA), ready to fit."""
    return tiny_module(**{**TRAINING, **overrides})


def patch_loader(n: int = 16, size: int = 24, batch_size: int = 4) -> DataLoader:
    """``n`` smooth random HR patches of ``size`` x ``size`` in batches of ``batch_size``."""
    return DataLoader(HRPatches(random_patches(n, size, smooth=True)), batch_size=batch_size)


def quiet_trainer(root: Path, **settings: Any) -> pl.Trainer:
    """A CPU ``pl.Trainer`` writing into ``root``, without logger, progress bar, model summary or
    sanity validation; ``settings`` add to or replace these."""
    base = {
        "default_root_dir": root,
        "accelerator": "cpu",
        "logger": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "num_sanity_val_steps": 0,
    }
    return pl.Trainer(**{**base, **settings})


def tiny_trainer(
    root: Path, callbacks: Sequence[pl.Callback] = (), plugins: Any = None, **settings: Any
) -> pl.Trainer:
    """A :func:`quiet_trainer` of 2 epochs without validation, with ``callbacks`` and ``plugins``."""
    return quiet_trainer(
        root,
        **{
            "max_epochs": 2,
            "limit_val_batches": 0,
            "callbacks": list(callbacks),
            "plugins": plugins,
            **settings,
        },
    )


def run_script(
    script: str, *arguments: str, cwd: Path = ROOT, timeout: float = 300
) -> subprocess.CompletedProcess:
    """``python <script> <arguments>`` (an entry point of the project) in a fresh process, from
    ``cwd``: this tree's srmri first, W&B offline, one thread; output captured as text."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "WANDB_MODE": "offline"}
    return subprocess.run(
        [sys.executable, str(ROOT / script), *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def save_checkpoint(module: SRModule, path: Path) -> Path:
    """``module`` saved as Lightning (and so ``train.py``) writes a checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    trainer = pl.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False)
    trainer.strategy.connect(module)
    trainer.save_checkpoint(path)
    return path


def shipped_folder(folder: Path, checkpoint: Path, name: str = "any_contrast_x2") -> Path:
    """``folder`` laid out as ``srmri/pretrained`` (``registry.json``, ``weights/``) with
    ``checkpoint`` exported as the shipped model ``name``; point ``SRMRI_PRETRAINED_DIR`` at it."""
    import json

    from srmri.pretrained.export import export

    folder.mkdir(parents=True, exist_ok=True)
    registry = {"defaults": {}, "models": {}}
    (folder / "registry.json").write_text(json.dumps(registry))
    export(checkpoint, name, folder)
    return folder
