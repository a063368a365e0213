"""Learning-rate schedules that need the run's total number of steps."""

from __future__ import annotations

import math
import time

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


def cosine(
    optimizer: Optimizer, total_steps: int, warmup_steps: int = 0, min_factor: float = 0.0
) -> LambdaLR:
    """Linear warm-up then cosine decay to ``min_factor`` x the base rate at ``total_steps``.

    ``total_steps`` is filled in by :class:`srmri.lightning.module.SRModule` from the trainer.
    """

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return LambdaLR(optimizer, factor)


def cosine_by_time(
    optimizer: Optimizer, minutes: float, warmup_steps: int = 0, min_factor: float = 0.0
) -> LambdaLR:
    """:func:`cosine` over a wall-clock budget: the decay follows the time elapsed since the first
    step, reaching ``min_factor`` x the base rate after ``minutes`` (when the trainer's
    ``max_time`` stops the run)."""
    start: list[float] = []

    def factor(step: int) -> float:
        now = time.monotonic()
        if not start:
            start.append(now)
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (now - start[0]) / (60.0 * minutes))
        return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return LambdaLR(optimizer, factor)
