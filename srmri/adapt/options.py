"""Every choice of adapting a model to the scan at hand, checked once: :class:`AdaptOptions`.

The defaults equal ``adapt`` in ``conf/predict.yaml`` (a test keeps them in step).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from srmri.io.errors import ConfigError
from srmri.tasks.self_training import PRECISIONS, Budget, cpu_autocast

LOGGERS = ("wandb", "none")
# Adam's peak rate when none is given: gentle for a trained network, larger for random weights.
FINE_TUNE_RATE = 1.0e-4
FROM_SCRATCH_RATE = 1.0e-3


@dataclass(frozen=True)
class AdaptOptions:
    """How a model is fine-tuned on the input scan's own slices before it super-resolves them.

    Attributes:
        enabled: adapt at all (``predict.py adapt=true``).
        budget: optimiser steps (``300``) or minutes (``"4min"``). The default, 4 minutes, leaves
            prediction about one more minute of the 5 a 256 x 256 x 176 volume may take on 2 CPU
            cores.
        all_views: train on the slices of all three views, not only the view predicted.
        from_scratch: start from random weights (seeded) instead of the model's (an ablation).
        save: keep the adapted model as a weights-only checkpoint at this path (loadable with
            ``ckpt_path=``); an existing file is replaced only with ``overwrite``.
        learning_rate: Adam's peak rate; None: :data:`FINE_TUNE_RATE`, or
            :data:`FROM_SCRATCH_RATE` with ``from_scratch``.
        batch_size: HR patches per optimiser step.
        patch_size: side of a square HR patch (pixels; rounded down to a multiple of the scale and
            to the slice when the slice is smaller).
        seed: seed of the patch sampling (and of the random weights with ``from_scratch``).
        precision: the arithmetic of the fine-tuning: ``float32`` (the default: the shipped
            models' adaptation did worse on every development scan in bfloat16), ``auto`` (bfloat16
            autocast on a CPU with native bfloat16, about twice the steps in a budget; float32
            elsewhere) or ``bfloat16``.
        threads: torch CPU threads while adapting, 1 by default as in ``isotropic.py`` (see
            :func:`srmri.tasks.self_training.torch_threads`); None: torch's default.
        logger: ``none`` or ``wandb`` (a W&B run in the predict run's directory, offline unless
            logged in).
    """

    enabled: bool = False
    budget: int | str = "4min"
    all_views: bool = False
    from_scratch: bool = False
    save: str | None = None
    learning_rate: float | None = None
    batch_size: int = 8
    patch_size: int = 64
    seed: int = 42
    precision: str = "float32"
    threads: int | None = 1
    logger: str = "none"

    def __post_init__(self) -> None:
        checks = {
            "learning_rate": (
                self.learning_rate is None or self.learning_rate > 0,
                "null or a number > 0",
            ),
            "batch_size": (self.batch_size >= 1, "an integer >= 1"),
            "patch_size": (self.patch_size >= 8, "an integer >= 8"),
            "precision": (self.precision in PRECISIONS, f"one of {PRECISIONS}"),
            "threads": (self.threads is None or self.threads >= 1, "null or an integer >= 1"),
            "logger": (self.logger in LOGGERS, f"one of {LOGGERS}"),
        }
        for key, (valid, expected) in checks.items():
            if not valid:
                raise ConfigError(f"adapt.{key}={getattr(self, key)!r}: expected {expected}")
        try:
            Budget.parse(self.budget, "adapt.budget")
        except ValueError as error:
            raise ConfigError(str(error)) from None

    @property
    def parsed_budget(self) -> Budget:
        return Budget.parse(self.budget, "adapt.budget")

    @property
    def amp_dtype(self) -> torch.dtype | None:
        """The autocast type of ``precision`` on the CPU, where adaptation runs (None: float32)."""
        return cpu_autocast(self.precision)

    @property
    def rate(self) -> float:
        """The learning rate to use (see ``learning_rate``)."""
        if self.learning_rate is not None:
            return float(self.learning_rate)
        return FROM_SCRATCH_RATE if self.from_scratch else FINE_TUNE_RATE

    @property
    def save_path(self) -> Path | None:
        return Path(self.save).expanduser() if self.save else None
