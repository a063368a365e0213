"""What the training dashboard shows besides the module's own loss, learning rate and ``val/*``:
the gradient norm, the epoch time and the training throughput; and which W&B run a checkpoint
belongs to (so ``evaluate.py`` can join that run's group).

Keys (Lightning's ``log_every_n_steps`` sets how often the per-step one reaches the logger):

- ``train/grad_norm``: the L2 norm of all gradients, per optimiser step, after the backward pass
  and before any clipping (with ``16-mixed``, unscaled);
- ``train/epoch_time_s``: wall time of the epoch, its training steps and its validation;
- ``train/images_per_s``: training images (patches) per second over the training steps of the
  epoch, data loading included, validation excluded; summed over processes.
"""

from __future__ import annotations

import time
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.loggers import WandbLogger

# The checkpoint key that records the W&B run a checkpoint was written in.
WANDB_RUN_KEY = "wandb_run"


class TrainingMonitor(Callback):
    """Log ``train/grad_norm``, ``train/epoch_time_s`` and ``train/images_per_s``; record the
    W&B run (``{id, project, group, name}``) in every checkpoint under :data:`WANDB_RUN_KEY`."""

    def __init__(self) -> None:
        self._start = 0.0
        self._train_end = 0.0
        self._images = 0
        self._wandb_run: dict[str, str] | None = None

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._wandb_run = wandb_run_record(trainer) if trainer.is_global_zero else None

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start = self._train_end = time.perf_counter()
        self._images = 0

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        self._images += batch_size(batch)
        self._train_end = time.perf_counter()

    def on_before_optimizer_step(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, optimizer: torch.optim.Optimizer
    ) -> None:
        gradients = [
            p.grad
            for group in optimizer.param_groups
            for p in group["params"]
            if p.grad is not None
        ]
        if gradients:
            norm = torch.nn.utils.get_total_norm(gradients, norm_type=2.0)
            pl_module.log("train/grad_norm", norm, on_step=True, on_epoch=False)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        now = time.perf_counter()
        training = self._train_end - self._start
        pl_module.log("train/epoch_time_s", now - self._start, on_epoch=True, rank_zero_only=True)
        if self._images and training > 0:
            # Every process trains as many images in the same time; the rate is over all of them.
            rate = self._images * trainer.world_size / training
            pl_module.log("train/images_per_s", rate, on_epoch=True, rank_zero_only=True)

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        if self._wandb_run:
            checkpoint[WANDB_RUN_KEY] = dict(self._wandb_run)


def batch_size(batch: Any) -> int:
    """The number of images of a training batch (``{"hr": (B, ...)}``, a tensor or a sequence)."""
    if isinstance(batch, dict):
        batch = batch.get("hr", next(iter(batch.values()), None))
    if isinstance(batch, list | tuple):
        batch = batch[0] if batch else None
    return int(batch.shape[0]) if isinstance(batch, torch.Tensor) else 0


def wandb_run_record(trainer: pl.Trainer) -> dict[str, str] | None:
    """``{id, project, group, name}`` of the trainer's W&B run, or None without a W&B logger."""
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            run = logger.experiment
            return {
                "id": str(run.id),
                "project": str(run.project or ""),
                "group": str(run.group or ""),
                "name": str(run.name or ""),
            }
    return None
