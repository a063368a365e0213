"""A guard against NaN / Inf in training: stop with the step and batch named, or skip the batch.

The check runs after the backward pass and before the optimiser step, so a bad batch never reaches
the weights. It looks at this process's loss and at the gradients, which under DDP are already
averaged over processes: every rank then sees the same non-finite gradients and takes the same
decision. With a ``GradScaler`` (``16-mixed``) overflowing gradients are normal and the scaler
skips those steps itself, so only the loss is checked there. Whatever the policy, a checkpoint
whose weights hold NaN or Inf is never written: the last good one stays.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback
from torch import Tensor

from srmri.io.errors import NonFiniteError

log = logging.getLogger(__name__)

POLICIES = ("stop", "skip")


class NonFiniteGuard(Callback):
    """Stop (or skip the batch) when the training loss or the gradients are NaN or Inf.

    Args:
        policy: ``stop`` raises :class:`~srmri.io.errors.NonFiniteError` naming the global step,
            epoch and batch; ``skip`` drops the batch's update (no weight or optimiser-state change)
            and logs it.

    Attributes:
        skipped: ``(global_step, epoch, batch_idx)`` of every batch skipped in this process.
    """

    def __init__(self, policy: str = "stop") -> None:
        if policy not in POLICIES:
            raise ValueError(f"non-finite guard policy must be one of {POLICIES}, got {policy!r}")
        self.policy = policy
        self.skipped: list[tuple[int, int, int]] = []
        self._batch_idx = -1
        # The first non-finite loss since the last optimiser step (gradient accumulation sums several).
        self._bad_loss: float | None = None
        self._loss = math.nan

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        self._batch_idx = batch_idx

    def on_before_backward(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, loss: Tensor
    ) -> None:
        self._loss = float(loss.detach())
        if self._bad_loss is None and not math.isfinite(self._loss):
            self._bad_loss = self._loss

    def on_before_optimizer_step(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, optimizer: torch.optim.Optimizer
    ) -> None:
        parameters = [p for group in optimizer.param_groups for p in group["params"]]
        problem = None
        if self._bad_loss is not None:
            problem = f"the training loss is {self._bad_loss}"
            self._bad_loss = None
        elif getattr(trainer.precision_plugin, "scaler", None) is None:
            gradients = [p.grad for p in parameters if p.grad is not None]
            if gradients and not torch.isfinite(torch.nn.utils.get_total_norm(gradients)):
                problem = f"the gradients hold NaN or Inf (loss {self._loss:.6g})"
        if problem is None:
            return
        where = (
            f"global step {trainer.global_step} (epoch {trainer.current_epoch}, "
            f"batch {self._batch_idx} of the epoch)"
        )
        if self.policy == "stop":
            raise NonFiniteError(
                f"{problem} at {where}; stopped before the optimiser step, so no weight and no "
                f"checkpoint has seen it. Last good checkpoint: {_last_checkpoint(trainer)}. "
                "Check the data and the learning rate, or set callbacks.nan_guard.policy=skip"
            )
        for parameter in parameters:
            # Optimisers leave parameters without a gradient untouched, moments included.
            parameter.grad = None
        self.skipped.append((trainer.global_step, trainer.current_epoch, self._batch_idx))
        log.warning("skipped the update of %s: %s (policy skip)", where, problem)

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        bad = [
            name
            for name, tensor in checkpoint["state_dict"].items()
            if tensor.is_floating_point() and not torch.isfinite(tensor).all()
        ]
        if bad:
            raise NonFiniteError(
                f"refusing to write a checkpoint at global step {trainer.global_step}: weights "
                f"{bad[:5]}{' ...' if len(bad) > 5 else ''} hold NaN or Inf. "
                f"Last good checkpoint: {_last_checkpoint(trainer)}"
            )


def _last_checkpoint(trainer: pl.Trainer) -> str:
    callback = trainer.checkpoint_callback
    path = getattr(callback, "last_model_path", "") or getattr(callback, "best_model_path", "")
    return path or "(none written yet)"
