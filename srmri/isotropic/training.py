"""Train a one-axis network on a thick-slice scan's own in-plane slices.

The network (:class:`srmri.models.one_axis.OneAxisSR`), the loss, the optimiser and the schedule
live in the one :class:`srmri.lightning.module.SRModule`, whose degradation is the scan's slice
profile (:class:`srmri.degradation.SliceProfile`, thickness and spacing in in-plane pixels); it is
fitted by a Lightning ``Trainer`` (progress bar, W&B run, checkpoint in the run directory) for the
options' budget of optimiser steps or minutes (:func:`srmri.tasks.self_training.fit_on_scan`,
shared with ``predict.py adapt=true``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl

from srmri.isotropic.data import InPlaneDataModule, patch_rows
from srmri.isotropic.grid import Acquisition
from srmri.isotropic.options import IsotropicOptions
from srmri.lightning.module import SRModule
from srmri.tasks.self_training import fit_on_scan, schedule_config

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
        scheduler=schedule_config(options.parsed_budget),
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
    return fit_on_scan(
        module,
        datamodule,
        options.parsed_budget,
        run_dir,
        name,
        logger=options.logger,
        progress=options.progress,
        job_type="isotropic",
        amp_dtype=options.amp_dtype,
    )
