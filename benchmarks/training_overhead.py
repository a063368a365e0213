"""Time per training step: srmri's LightningModule under a ``pl.Trainer`` against a plain loop.

Both paths train the demo network (``python train.py``'s model, degradation and trainer settings)
on the same in-memory HR patches, through the same DataLoader, with the same work per step:
the degradation, the forward pass, the L1 loss, the backward pass, gradient clipping, the Adam
step, the learning-rate schedule and the EMA update. What differs is only the framework around
them, so the ratio of the two step times is Lightning's (and the module's hooks') overhead.
"""

from __future__ import annotations

import contextlib
import inspect
import tempfile
import time
from dataclasses import dataclass
from statistics import median
from typing import Any

import hydra.utils
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig
from torch.utils.data import DataLoader

from benchmarks.common import HRPatches, compose, random_patches, synchronize
from srmri.lightning.module import SRModule
from srmri.tasks.train import build_module

MIXED = "bf16-mixed"


@dataclass(frozen=True)
class TrainingSetting:
    """What one comparison trains with.

    Attributes:
        device: ``cpu`` or ``cuda``.
        precision: Lightning's ``32-true`` or ``bf16-mixed``.
        channels_last: the module's ``channels_last`` option.
        batch_size: HR patches per step.
        patch_size: HR patch side.
        warmup: steps left out before timing (allocation, first-step kernel choice).
        steps: timed steps per round (one more batch is run, as a step is timed end to end).
        rounds: rounds of both paths back to back (medians over rounds are reported).
    """

    device: str
    precision: str
    channels_last: bool
    batch_size: int
    patch_size: int
    warmup: int
    steps: int
    rounds: int

    @property
    def label(self) -> str:
        layout = ", channels-last" if self.channels_last else ""
        return f"{self.device} {self.precision}{layout}"


@dataclass(frozen=True)
class TrainingResult:
    """Steady-state seconds per step of both paths, one value per round.

    Attributes:
        setting: what was trained.
        lightning_rounds: seconds per step of the Lightning path, round by round.
        plain_rounds: seconds per step of the plain loop, round by round.
    """

    setting: TrainingSetting
    lightning_rounds: tuple[float, ...]
    plain_rounds: tuple[float, ...]

    @property
    def lightning_seconds(self) -> float:
        return median(list(self.lightning_rounds))

    @property
    def plain_seconds(self) -> float:
        return median(list(self.plain_rounds))

    @property
    def overhead(self) -> float:
        """Lightning's extra time per step as a fraction of the plain loop's.

        The median over rounds of each round's ratio: the two paths of a round ran back to back,
        so a change of machine load between rounds cancels out.
        """
        return (
            median(
                [
                    lit / plain
                    for lit, plain in zip(self.lightning_rounds, self.plain_rounds, strict=True)
                ]
            )
            - 1.0
        )

    @property
    def lightning_images_per_second(self) -> float:
        return self.setting.batch_size / self.lightning_seconds


class _StepClock(pl.Callback):
    """Records the wall-clock time at the end of every training batch."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.stamps: list[float] = []

    def on_train_batch_end(self, *args: Any) -> None:
        synchronize(self.device)
        self.stamps.append(time.perf_counter())


def _steady_seconds(stamps: list[float], warmup: int) -> float:
    """Mean seconds per step after ``warmup`` steps: the run's throughput, periodic costs included."""
    timed = stamps[warmup:]
    return (timed[-1] - timed[0]) / (len(timed) - 1)


def demo_module(cfg: DictConfig, device: torch.device) -> SRModule:
    """The demo's ``SRModule`` on ``device``, with the same initial weights every time."""
    torch.manual_seed(0)
    return build_module(cfg).to(device)


def patch_loader(cfg: DictConfig, batches: int) -> DataLoader:
    """``batches`` batches of ``cfg.data.batch_size`` fixed HR patches of ``cfg.data.patch_size``."""
    batch_size = cfg.data.batch_size
    hr = random_patches(
        batches * batch_size, cfg.data.patch_size, channels=cfg.model.network.channels
    )
    return DataLoader(HRPatches(hr), batch_size=batch_size, num_workers=0)


def fit_lightning(
    module: SRModule, loader: DataLoader, cfg: DictConfig, precision: str
) -> list[float]:
    """Fit ``module`` on every batch of ``loader`` with the demo's ``pl.Trainer`` settings.

    No logger, checkpoints, progress bar or validation. Returns the time at the end of each step.
    """
    clock = _StepClock(module.device)
    with tempfile.TemporaryDirectory() as root:
        trainer: pl.Trainer = hydra.utils.instantiate(
            cfg.trainer,
            default_root_dir=root,
            accelerator=module.device.type,
            precision=precision,
            max_steps=len(loader),
            limit_val_batches=0,
            logger=False,
            callbacks=[clock],
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        trainer.fit(module, train_dataloaders=loader)
    return clock.stamps


def fit_plain(module: SRModule, loader: DataLoader, cfg: DictConfig, precision: str) -> list[float]:
    """The same training as :func:`fit_lightning`, written as a plain PyTorch loop.

    Uses the module's network, degradation, loss and EMA, and the optimiser, schedule and gradient
    clipping of the demo config. Returns the time at the end of each step.
    """
    device = module.device
    network, ema = module.network.train(), module.ema
    optimizer = hydra.utils.instantiate(cfg.model.optimizer)(params=network.parameters())
    factory = hydra.utils.instantiate(cfg.model.scheduler.scheduler)
    # As SRModule.configure_optimizers: a schedule that needs the run's length gets it.
    total = {"total_steps": len(loader)}
    scheduler = factory(
        optimizer, **(total if "total_steps" in inspect.signature(factory).parameters else {})
    )
    clip = cfg.trainer.gradient_clip_val
    autocast = (
        torch.autocast(device.type, dtype=torch.bfloat16)
        if precision == MIXED
        else contextlib.nullcontext()
    )
    stamps = []
    for batch in loader:
        hr = batch["hr"].to(device)
        lr = module.degrade(hr)
        if module.hparams.channels_last:
            lr = lr.contiguous(memory_format=torch.channels_last)
        with autocast:
            loss = module.loss(network(lr), hr)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(network.parameters(), clip)
        optimizer.step()
        scheduler.step()
        if ema is not None:
            ema.update(network)
        synchronize(device)
        stamps.append(time.perf_counter())
    return stamps


def compare(setting: TrainingSetting) -> TrainingResult:
    """Both paths, back to back in each round, so that a change of machine load hits both.

    Raises:
        ValueError: for a precision other than ``32-true`` or ``bf16-mixed``.
    """
    if setting.precision not in ("32-true", MIXED):
        raise ValueError(
            f"training precision must be 32-true or {MIXED}, got {setting.precision!r}"
        )
    cfg = compose(
        "train",
        [
            f"data.batch_size={setting.batch_size}",
            f"data.patch_size={setting.patch_size}",
            f"model.channels_last={str(setting.channels_last).lower()}",
        ],
    )
    device = torch.device(setting.device)
    batches = setting.warmup + setting.steps + 1
    lightning, plain = [], []
    for _ in range(setting.rounds):
        for fit, seconds in ((fit_lightning, lightning), (fit_plain, plain)):
            stamps = fit(
                demo_module(cfg, device), patch_loader(cfg, batches), cfg, setting.precision
            )
            seconds.append(_steady_seconds(stamps, setting.warmup))
    return TrainingResult(setting, tuple(lightning), tuple(plain))
