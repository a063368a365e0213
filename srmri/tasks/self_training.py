"""Fit an :class:`~srmri.lightning.module.SRModule` on one scan's own patches, within a budget.

What ``isotropic.py`` (a one-axis network on a thick-slice scan's in-plane slices) and
``predict.py adapt=true`` (an in-plane network fine-tuned on the input's own slices) share: a
budget of optimiser steps or minutes (:class:`Budget`), the cosine schedule over it
(:func:`schedule_config`) and the Lightning ``Trainer`` that runs the fit (:func:`fit_on_scan`:
progress bar, optional W&B run, ``checkpoints/last.ckpt`` in the run directory, no validation:
a scan alone has no high-resolution truth).
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint

from srmri.callbacks.nonfinite import NonFiniteGuard
from srmri.inference.slices import autocast_dtype
from srmri.io.checkpoints import AtomicCheckpointIO
from srmri.lightning.module import SRModule
from srmri.tasks.loggers import wandb_logger
from srmri.tasks.train import HOOK_NOTICE, close_loggers

log = logging.getLogger(__name__)

# The precisions of the fits; float16 is left out: it has no fast path on a CPU, where they run.
PRECISIONS = ("auto", "float32", "bfloat16")
_BUDGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(min|steps?)?\s*$")


@dataclass(frozen=True)
class Budget:
    """A training budget: ``steps`` optimiser steps or ``minutes`` of wall clock (one is None)."""

    steps: int | None = None
    minutes: float | None = None

    @classmethod
    def parse(cls, value: int | float | str, key: str = "isotropic: budget") -> Budget:
        """``1500`` or ``"1500steps"``: optimiser steps; ``"4min"`` or ``"2.5min"``: minutes.

        Args:
            value: the budget as written in the config.
            key: how error messages name the option.

        Raises:
            ValueError: anything else, or a budget that is not positive.
        """
        match = _BUDGET.match(str(value))
        if match is None or float(match.group(1)) <= 0:
            raise ValueError(
                f"{key} must be a positive number of steps (1500) or minutes (4min), got {value!r}"
            )
        number, unit = float(match.group(1)), match.group(2) or "steps"
        if unit == "min":
            return cls(minutes=number)
        if number != int(number):
            raise ValueError(f"{key} steps must be a whole number, got {value!r}")
        return cls(steps=int(number))

    def __str__(self) -> str:
        return f"{self.minutes:g} min" if self.minutes is not None else f"{self.steps} steps"


def cpu_autocast(precision: str) -> torch.dtype | None:
    """The autocast type of a fit's ``precision`` (one of :data:`PRECISIONS`) on the CPU, where
    the fits run; None: float32."""
    return autocast_dtype(precision, torch.device("cpu"))


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch CPU threads (None: unchanged), then restore them.

    One thread is the default of the self-supervised fits: on a CPU shared with other jobs,
    several threads spin-wait for each other and a step costs many times the CPU time (measured:
    2.5 CPU-s per step at 2 threads against 0.14 at 1 on a 2-core machine at load 20).
    """
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def schedule_config(
    budget: Budget, warmup_steps: int = 20, min_factor: float = 0.01
) -> dict[str, Any]:
    """SRModule's ``scheduler``: warm-up, then cosine decay to ``min_factor`` over ``budget``
    (over the wall clock for a budget in minutes, over the steps otherwise)."""
    if budget.minutes is not None:
        schedule = {
            "_target_": "srmri.lightning.schedules.cosine_by_time",
            "minutes": budget.minutes,
        }
    else:
        schedule = {"_target_": "srmri.lightning.schedules.cosine"}
    return {
        "scheduler": {
            **schedule,
            "_partial_": True,
            "warmup_steps": warmup_steps,
            "min_factor": min_factor,
        },
        "interval": "step",
        "frequency": 1,
    }


def fit_on_scan(
    module: SRModule,
    datamodule: pl.LightningDataModule,
    budget: Budget,
    run_dir: Path | None,
    name: str,
    logger: str = "none",
    progress: bool = True,
    job_type: str = "train",
    keep_last: bool = True,
    amp_dtype: torch.dtype | None = None,
) -> SRModule:
    """Fit ``module`` on ``datamodule``'s training batches for ``budget``; return it in eval mode.

    Args:
        module: an SRModule with an optimiser (and schedule) in its hyperparameters.
        datamodule: training batches ``{"hr": (B, 1, H, W)}`` (the module degrades them).
        budget: optimiser steps or minutes.
        run_dir: with it, ``run_dir/checkpoints/last.ckpt`` is written (atomically, unless
            ``keep_last`` is False) and a W&B run (``logger="wandb"``) goes under
            ``run_dir/wandb``; without it nothing is written.
        name: the run's name (W&B, log lines).
        logger: ``wandb`` or ``none``.
        progress: Lightning's progress bar.
        job_type: the W&B job type.
        keep_last: write ``run_dir/checkpoints/last.ckpt``.
        amp_dtype: ``torch.bfloat16`` trains under bfloat16 autocast (Lightning's ``bf16-mixed``:
            float32 weights and optimiser, bfloat16 convolutions), None in float32.

    The module's ``trained_steps`` attribute is set to the optimiser steps taken.
    """
    loggers = []
    callbacks: list[pl.Callback] = [NonFiniteGuard("stop")]
    checkpoints = run_dir is not None and keep_last
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
    if checkpoints:
        callbacks.append(
            ModelCheckpoint(
                dirpath=run_dir / "checkpoints",
                filename=f"{job_type}-step{{step:06d}}",
                auto_insert_metric_name=False,
                save_top_k=0,
                save_last=True,
            )
        )
    if run_dir is not None and logger == "wandb":
        loggers.append(
            wandb_logger(save_dir=str(run_dir), project="srmri", job_type=job_type, name=name)
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
        enable_checkpointing=checkpoints,
        enable_progress_bar=progress,
        enable_model_summary=False,
        default_root_dir=str(run_dir) if run_dir is not None else None,
        plugins=[AtomicCheckpointIO()] if checkpoints else None,
        precision="bf16-mixed" if amp_dtype == torch.bfloat16 else "32-true",
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
