"""The training task behind ``train.py``: build everything from the config, fit, report.

The entry point stays thin; this module holds the wiring: seeding, instantiating the datamodule,
module, callbacks, loggers and trainer, fitting, validating the best checkpoint, printing the model
next to bicubic, and always closing the loggers so sweeps never merge or lose W&B runs.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import hydra.utils
import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import Callback, ModelCheckpoint
from pytorch_lightning.loggers import Logger, WandbLogger
from pytorch_lightning.utilities import rank_zero_only
from rich.console import Console
from rich.table import Table

from srmri.io.atomic import write_text_atomic
from srmri.lightning.module import SRModule
from srmri.tasks.cli import print_lines
from srmri.tasks.config_check import COMMON_KEYS, GROUPS, check_config, check_launch
from srmri.tasks.config_tree import print_config, run_config
from srmri.tasks.dashboard import log_best_summary, log_sweep_values, wandb_settings
from srmri.tasks.loggers import wandb_logger
from srmri.tasks.redaction import redact
from srmri.tasks.resume import ResumePoint, apply_resume, wandb_run_id

# The degradation deliberately lives in SRModule.on_after_batch_transfer (it is part of the model's
# checkpointed definition), so Lightning's notice that the module's hook wins is expected.
HOOK_NOTICE = ".*overridden `on_after_batch_transfer`.*"
# The top-level keys of conf/train.yaml (the groups are checked against what they build).
TRAIN_KEYS: dict[str, Any] = {
    **COMMON_KEYS,
    **dict.fromkeys((*GROUPS, "degradation"), Any),
    "seed": int,
    "print_config": bool,
    "tags": Any,
    "optimized_metric": str,
    "ckpt_path": str | None,
    "resume": str | None,
}


def instantiate_group(group: DictConfig | None) -> list[Any]:
    """Instantiate every entry with a ``_target_`` of a config group (callbacks, loggers)."""
    if not group:
        return []
    return [hydra.utils.instantiate(node) for node in group.values() if node and "_target_" in node]


def instantiate_loggers(group: DictConfig | None, resumed: ResumePoint | None) -> list[Logger]:
    """The loggers of ``cfg.logger``; a resumed run continues its W&B run (same id)."""
    run_id = wandb_run_id(resumed.run_dir) if resumed and resumed.run_dir else None
    loggers = []
    for node in (group or {}).values():
        if not node or "_target_" not in node:
            continue
        target = hydra.utils.get_object(node._target_)
        is_wandb = target in (wandb_logger, WandbLogger)
        resume = {"id": run_id, "resume": "allow"} if run_id and is_wandb else {}
        # Inside a multirun, the sweep's own W&B group (srmri.tasks.dashboard).
        sweep = wandb_settings(node) if is_wandb else {}
        loggers.append(hydra.utils.instantiate(node, **resume, **sweep))
    return loggers


def build_module(cfg: DictConfig) -> SRModule:
    """The LightningModule of ``cfg.model``, with the run's degradation and normalisation."""
    return hydra.utils.instantiate(
        cfg.model, degradation=cfg.degradation, normalisation=cfg.data.normalisation
    )


def best_checkpoint(callbacks: list[Callback]) -> str | None:
    for callback in callbacks:
        # A save that failed under `on_error: continue` leaves a best path with no file.
        if isinstance(callback, ModelCheckpoint) and Path(callback.best_model_path).is_file():
            return callback.best_model_path
    return None


def wandb_run_dir(loggers: list[Logger]) -> str | None:
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            return str(Path(logger.experiment.dir).parent)
    return None


def close_loggers(loggers: list[Logger], exit_code: int = 0) -> None:
    """Finish the W&B run; a non-zero ``exit_code`` marks it failed in the dashboard."""
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            import wandb

            if wandb.run is not None:
                wandb.finish(exit_code=exit_code)


def train(cfg: DictConfig) -> dict[str, Any]:
    """Fit ``cfg.model`` on ``cfg.data``; return the final validation metrics and the paths.

    With ``resume`` set, the run continues the checkpoint it names, in that run's directory
    (see :mod:`srmri.tasks.resume`); this launch's own directory keeps its config tree and log.
    """
    check_config(cfg, TRAIN_KEYS)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=HOOK_NOTICE)
        return _train(cfg)


def _train(cfg: DictConfig) -> dict[str, Any]:
    launch_dir = Path(cfg.paths.output_dir)
    resumed = apply_resume(cfg)
    output_dir = Path(cfg.paths.output_dir)
    # The hydra node is Hydra's own (saved under .hydra/); secrets never reach a file or a logger.
    values = run_config(cfg)
    if cfg.get("print_config", True):
        rank_zero_only(print_config)(OmegaConf.create(values), launch_dir / "config_tree.log")
    pl.seed_everything(cfg.seed, workers=True)

    datamodule = hydra.utils.instantiate(cfg.data, degradation=cfg.degradation)
    module = build_module(cfg)
    callbacks = instantiate_group(cfg.get("callbacks"))
    loggers = instantiate_loggers(cfg.get("logger"), resumed)
    exit_code = 0
    trainer: pl.Trainer = hydra.utils.instantiate(
        cfg.trainer, callbacks=callbacks, logger=loggers or False
    )
    check_launch(trainer)
    try:
        for logger in loggers:
            logger.log_hyperparams(values)
        log_sweep_values(loggers)
        if module.trainable:
            trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
        best = best_checkpoint(callbacks)
        results = trainer.validate(module, datamodule=datamodule, ckpt_path=best, verbose=False)
        metrics = {k: float(v) for k, v in (results[0] if results else {}).items()}
        if "val/psnr_best" not in metrics and "val/psnr" in metrics:
            metrics["val/psnr_best"] = metrics["val/psnr"]
        report = {
            "metrics": metrics,
            "best_checkpoint": best,
            # Other ranks hold no W&B run (Lightning gives them a stand-in).
            "wandb_run_dir": wandb_run_dir(loggers) if trainer.is_global_zero else None,
            "output_dir": str(output_dir),
        }
        if trainer.is_global_zero:
            write_json(output_dir / "metrics.json", redact(report))
            log_best_summary(loggers, redact(report))
            print_report(report)
        return report
    except BaseException:
        exit_code = 1
        raise
    finally:
        close_loggers(loggers, exit_code=exit_code)


def write_json(path: Path, payload: dict[str, Any]) -> None:
    write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=True))


def print_report(report: dict[str, Any], console: Console | None = None) -> None:
    """The end-of-run table: the model next to bicubic, whole slice and brain, and the paths."""
    console = console or Console()
    metrics = report["metrics"]
    table = Table(title="Validation (best checkpoint)")
    for column in ("metric", "region", "model", "bicubic", "gain"):
        table.add_column(
            column, justify="right" if column in ("model", "bicubic", "gain") else "left"
        )
    for metric, digits in (("psnr", 2), ("ssim", 4)):
        for region, label in (("", "image"), ("_brain", "brain")):
            model = metrics.get(f"val/{metric}{region}", math.nan)
            baseline = metrics.get(f"val/{metric}{region}_bicubic", math.nan)
            if math.isnan(model):
                continue
            unit = " dB" if metric == "psnr" else ""
            table.add_row(
                metric.upper() + unit,
                label,
                f"{model:.{digits}f}",
                f"{baseline:.{digits}f}",
                f"{model - baseline:+.{digits}f}",
            )
    console.print(table)
    print_lines(
        console,
        f"best checkpoint: {report['best_checkpoint'] or '(none: nothing to train)'}",
        f"W&B run:         {report['wandb_run_dir'] or '(no W&B logger)'}",
        f"run directory:   {report['output_dir']}",
    )
