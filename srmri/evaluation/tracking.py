"""Evaluation results in the experiment logger: the score table and the figures in the W&B run."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytorch_lightning.loggers import Logger, WandbLogger

from srmri.evaluation.scores import COLUMNS, Scores

log = logging.getLogger(__name__)


def log_results(
    loggers: Sequence[Logger], scores: Scores, summary: Mapping[str, Any], figures: Sequence[Path]
) -> None:
    """Send the table, the figures and the headline means to every W&B logger."""
    for logger in loggers:
        if not isinstance(logger, WandbLogger):
            log.warning("%s: evaluation results go to output_dir only", type(logger).__name__)
            continue
        import wandb

        run = logger.experiment
        table = wandb.Table(columns=list(COLUMNS), data=[list(row) for row in scores.rows()])
        images = {f"evaluation/{path.stem}": wandb.Image(str(path)) for path in figures}
        run.log({"evaluation/metrics": table, **images})
        run.summary.update(headline(summary))


def headline(summary: Mapping[str, Any]) -> dict[str, float]:
    """Flat ``evaluation/<metric>/<method>/<view>/<region>`` means and gains."""
    values: dict[str, float] = {}
    for method, views in summary["scores"].items():
        for view, regions in views.items():
            for region, cell in regions.items():
                for metric in ("psnr", "ssim"):
                    if cell[metric] is not None:
                        values[f"evaluation/{metric}/{method}/{view}/{region}"] = cell[metric]
    for model, views in summary["gains_over_bicubic"].items():
        for view, regions in views.items():
            for region, metrics in regions.items():
                for metric, gain in metrics.items():
                    if gain["mean"] is not None:
                        values[f"evaluation/{metric}_gain/{model}/{view}/{region}"] = gain["mean"]
    return values
