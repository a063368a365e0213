"""Train a one-axis network on a thick-slice scan's own in-plane slices.

The network (:class:`srmri.models.one_axis.OneAxisSR`), the loss, the optimiser and the schedule
live in the one :class:`srmri.lightning.module.SRModule`, whose degradation is the scan's slice
profile (:class:`srmri.degradation.SliceProfile`, thickness and spacing in in-plane pixels); it is
fitted by a Lightning ``Trainer`` (progress bar, W&B run, checkpoint in the run directory) for the
options' budget of optimiser steps or minutes.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
from pytorch_lightning.callbacks import ModelCheckpoint

from srmri.callbacks.nonfinite import NonFiniteGuard
from srmri.io.checkpoints import AtomicCheckpointIO
from srmri.isotropic.data import InPlaneDataModule, patch_rows
from srmri.isotropic.grid import Acquisition
from srmri.isotropic.options import IsotropicOptions
from srmri.lightning.module import SRModule
from srmri.tasks.loggers import wandb_logger
from srmri.tasks.train import HOOK_NOTICE, close_loggers

log = logging.getLogger(__name__)

# The window of the network's [0, 1] range: the volume's minimum to its 99.9th percentile.
NORMALISATION = {"method": "percentile", "lower": 0.0, "upper": 99.9, "use_mask": False}
# Optimiser steps per Lightning epoch (a unit of logging only: samples never run out).
STEPS_PER_EPOCH = 100


def degradation_config(acquisition: Acquisition, profile: str) -> dict[str, Any]:
    """The SRModule degradation of ``acquisition``: its slice profile along the rows, thickness
    and spacing in in-plane pixels."""
    return {
        "_target_": "srmri.degradation.SliceProfile",
        "thickness": acquisition.thickness_pixels,
        "spacing": acquisition.factor,
        "profile": profile,
        "axis": -2,
    }


def build_module(acquisition: Acquisition, options: IsotropicOptions) -> SRModule:
    """A fresh SRModule: OneAxisSR by ``k``, the scan's slice profile, L1, Adam, cosine decay."""
    budget = options.parsed_budget
    if budget.minutes is not None:
        schedule = {
            "_target_": "srmri.lightning.schedules.cosine_by_time",
            "minutes": budget.minutes,
        }
    else:
        schedule = {"_target_": "srmri.lightning.schedules.cosine"}
    return SRModule(
        network={
            "_target_": "srmri.models.one_axis.OneAxisSR",
            "factor": acquisition.factor,
            "channels": 1,
            "n_blocks": options.n_blocks,
            "n_feats": options.n_feats,
        },
        degradation=degradation_config(acquisition, options.profile),
        normalisation=NORMALISATION,
        loss={"name": "l1"},
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True, "lr": options.learning_rate},
        scheduler={
            "scheduler": {**schedule, "_partial_": True, "warmup_steps": 20, "min_factor": 0.01},
            "interval": "step",
            "frequency": 1,
        },
        ema={"enabled": False},
        images={"every_n_epochs": 0},
        name="isotropic",
    )


def train_module(
    slices: np.ndarray,
    acquisition: Acquisition,
    options: IsotropicOptions,
    run_dir: Path | None,
    name: str,
) -> SRModule:
    """Fit a fresh module on the in-plane ``slices`` ``(n, H, W)`` (normalised to [0, 1]).

    With ``run_dir`` the run logs to W&B (``options.logger``) under ``run_dir/wandb`` and leaves
    ``run_dir/checkpoints/last.ckpt``; without it nothing is written.
    """
    pl.seed_everything(options.seed, workers=True, verbose=False)
    module = build_module(acquisition, options)
    _, hr_rows = patch_rows(acquisition.factor, options.patch_rows)
    width = min(options.patch_width, *slices.shape[1:])
    datamodule = InPlaneDataModule(
        slices,
        hr_rows,
        width,
        options.train_batch,
        STEPS_PER_EPOCH * options.train_batch,
        options.seed,
    )
    budget = options.parsed_budget
    loggers = []
    callbacks: list[pl.Callback] = [NonFiniteGuard("stop")]
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        callbacks.append(
            ModelCheckpoint(
                dirpath=run_dir / "checkpoints",
                filename="isotropic-step{step:06d}",
                auto_insert_metric_name=False,
                save_top_k=0,
                save_last=True,
            )
        )
        if options.logger == "wandb":
            loggers.append(
                wandb_logger(
                    save_dir=str(run_dir), project="srmri", job_type="isotropic", name=name
                )
            )
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=-1,
        max_steps=budget.steps if budget.steps is not None else -1,
        max_time={"minutes": budget.minutes} if budget.minutes is not None else None,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        gradient_clip_val=1.0,
        log_every_n_steps=10,
        logger=loggers or False,
        callbacks=callbacks,
        enable_checkpointing=run_dir is not None,
        enable_progress_bar=options.progress,
        enable_model_summary=False,
        default_root_dir=str(run_dir) if run_dir is not None else None,
        plugins=[AtomicCheckpointIO()] if run_dir is not None else None,
    )
    exit_code = 0
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=HOOK_NOTICE)
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            trainer.fit(module, datamodule=datamodule)
    except BaseException:
        exit_code = 1
        raise
    finally:
        close_loggers(loggers, exit_code)
    log.info("%s: trained %d steps (budget %s)", name, trainer.global_step, budget)
    module.trained_steps = int(trainer.global_step)
    return module.eval().requires_grad_(False)
