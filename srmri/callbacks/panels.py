"""Validation panels of a FIXED set of slices, every N epochs, so one slice can be watched improving.

The slices are chosen once, when training starts, from the validation split of the datamodule
(:func:`srmri.lightning.panels.panel_rows`: the first validation volume, spread over the views,
the slices with the most brain in each part of the volume) and drawn after every N-th validation
with the module's inference weights, LR | bicubic | SR | HR | |SR - HR| x gain, as 8-bit pictures
in the fixed [0, 1] window (:mod:`srmri.lightning.panels`). Only rank 0 draws; loggers that show
no pictures (CSV, none) cost nothing.
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.trainer.states import TrainerFn

from srmri.lightning.panels import (
    log_images,
    panel_caption,
    panel_name,
    panel_rows,
    panel_strip,
    score_panels,
    slice_batch,
    takes_images,
)


class ValidationPanels(Callback):
    """Log panel strips of ``n_slices`` fixed validation slices every ``every_n_epochs`` epochs.

    Args:
        every_n_epochs: draw after the validation of epochs 0, N, 2N, ...; 0 turns panels off.
        n_slices: how many slices (spread over the data's views).
        key: the logger key (W&B) or tag prefix (TensorBoard).
    """

    def __init__(self, every_n_epochs: int = 5, n_slices: int = 4, key: str = "val/images") -> None:
        if every_n_epochs < 0 or n_slices < 0:
            raise ValueError(
                f"validation panels: every_n_epochs={every_n_epochs} and n_slices={n_slices} "
                "must be >= 0"
            )
        self.every_n_epochs = every_n_epochs
        self.n_slices = n_slices
        self.key = key
        self._batches: list[dict[str, Any]] | None = None

    def batches(self, datamodule: Any, scale: int) -> list[dict[str, Any]]:
        """The fixed slices as one-slice HR batches (chosen on the first call, then kept)."""
        if self._batches is None:
            volumes, table = datamodule.volumes("val"), datamodule.table("val")
            rows = panel_rows(
                volumes, datamodule.views, table, self.n_slices, datamodule.foreground_level
            )
            self._batches = slice_batch(
                volumes, datamodule.views, table, rows, scale, datamodule.has_masks
            )
        return self._batches

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if (
            not self.every_n_epochs
            or not self.n_slices
            or trainer.sanity_checking
            or trainer.state.fn != TrainerFn.FITTING
            or trainer.current_epoch % self.every_n_epochs
            or not trainer.is_global_zero
            or not takes_images(trainer.loggers)
            or getattr(trainer, "datamodule", None) is None
        ):
            return
        images, captions, names = [], [], []
        for batch in self.batches(trainer.datamodule, pl_module.scale):
            scored = score_panels(pl_module, batch)
            images.append(panel_strip(scored, 0))
            captions.append(panel_caption(scored, 0, trainer.current_epoch))
            names.append(panel_name(scored, 0))
        if images:
            log_images(trainer.loggers, self.key, images, captions, trainer.global_step, names)
