"""Wall-clock timing of repeated runs: warm-up excluded, GPU work waited for, median reported."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work so that wall-clock times cover it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median(values: list[float]) -> float:
    """The middle value (the mean of the two middle values for an even count)."""
    if not values:
        raise ValueError("median of no values")
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return 0.5 * (ordered[middle - 1] + ordered[middle])


def time_runs(
    run: Callable[[], object], warmup: int, repeats: int, device: torch.device
) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``run``, after ``warmup`` untimed calls.

    The first calls pay for allocation, kernel selection and weight packing, which a long
    prediction pays once, so they are left out.
    """
    for _ in range(warmup):
        run()
    synchronize(device)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        synchronize(device)
        seconds.append(time.perf_counter() - start)
    return seconds
