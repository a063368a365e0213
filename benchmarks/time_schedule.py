"""A cosine learning-rate schedule over a wall-clock budget instead of a step count.

A run stopped by ``trainer.max_time`` does not know how many steps it will take (that depends on
the machine and on its load), so the step-count cosine of :func:`srmri.lightning.schedules.cosine` would be cut
off before it decays, or stretched past the end. This schedule follows the time elapsed since the
optimiser was configured and reaches its floor when the budget runs out. Lightning's own timer
(``max_time``) starts a moment later, when the training loop begins, so the rate is at its floor
for the last moment of the run rather than cut off above it.

It is a ``_partial_`` scheduler factory like the ones in ``conf/model/scheduler/``:
``model.scheduler.scheduler._target_=benchmarks.time_schedule.wall_clock_cosine``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


def wall_clock_cosine(
    optimizer: Optimizer,
    budget_seconds: float,
    min_factor: float = 0.0,
    clock: Callable[[], float] = time.monotonic,
) -> LambdaLR:
    """Cosine decay of the rate from 1 to ``min_factor`` x the base rate over ``budget_seconds``.

    Args:
        optimizer: the optimiser whose rates are scaled.
        budget_seconds: wall-clock seconds from now to the end of the decay.
        min_factor: factor on the base rate at and after the end of the budget.
        clock: seconds from an arbitrary origin (``time.monotonic``; a fake clock in tests).

    Raises:
        ValueError: ``budget_seconds`` is not positive or ``min_factor`` is outside [0, 1].
    """
    if not budget_seconds > 0:
        raise ValueError(f"budget_seconds={budget_seconds!r}: expected a number of seconds > 0")
    if not 0.0 <= min_factor <= 1.0:
        raise ValueError(f"min_factor={min_factor!r}: expected a factor in [0, 1]")
    start = clock()

    def factor(_step: int) -> float:
        progress = min(1.0, (clock() - start) / budget_seconds)
        return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return LambdaLR(optimizer, factor)
