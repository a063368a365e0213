"""Validation slices as pictures in the experiment logger: LR | bicubic | SR | HR | |SR - HR|."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from pytorch_lightning.loggers import Logger, TensorBoardLogger, WandbLogger
from pytorch_lightning.utilities import rank_zero_only
from torch import Tensor

PANEL_TITLES = ("LR", "bicubic", "SR", "HR", "|SR - HR| x4")
# Absolute errors are small next to the [0, 1] range; a fixed gain keeps them visible and comparable.
ERROR_GAIN = 4.0


def panel_strip(batch: dict[str, Tensor], index: int) -> Tensor:
    """One ``(H, 5 * W)`` strip in [0, 1] for slice ``index`` of a scored batch (first channel)."""
    hr = batch["hr"][index : index + 1, :1].float()
    lr = F.interpolate(
        batch["lr"][index : index + 1, :1].float(), size=hr.shape[-2:], mode="nearest"
    )
    bicubic = batch["bicubic"][index : index + 1, :1].float().clamp(0, 1)
    sr = batch["sr"][index : index + 1, :1].float().clamp(0, 1)
    error = ((sr - hr).abs() * ERROR_GAIN).clamp(0, 1)
    return torch.cat([lr, bicubic, sr, hr, error], dim=-1)[0, 0].cpu()


@rank_zero_only
def log_panels(
    loggers: Sequence[Logger], key: str, batch: dict[str, Any], n: int, step: int
) -> None:
    """Send up to ``n`` panel strips of a scored batch to every logger that takes images."""
    count = min(n, batch["hr"].shape[0])
    strips = [panel_strip(batch, i) for i in range(count)]
    captions = [
        f"{batch.get('subject', ['?'] * count)[i]} {batch.get('view', ['?'] * count)[i]} "
        f"slice {int(batch['slice'][i]) if 'slice' in batch else i}: " + " | ".join(PANEL_TITLES)
        for i in range(count)
    ]
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            logger.log_image(
                key=key, images=[s.numpy() for s in strips], caption=captions, step=step
            )
        elif isinstance(logger, TensorBoardLogger):
            for i, strip in enumerate(strips):
                logger.experiment.add_image(f"{key}/{i}", strip, step, dataformats="HW")
