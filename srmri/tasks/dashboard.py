"""How runs meet in the W&B dashboard: sweep groups and swept values, the best checkpoint in the run
summary, and evaluation runs grouped with the training run they score.

- A job of a multirun joins the group ``<group>-<sweep folder>`` (one group per sweep) and gets each
  of its command-line overrides as a flat config key ``sweep/<key>`` (``sweep/model.optimizer.lr``,
  ``sweep/model``), so parallel coordinates and run tables read the swept values as they are.
- After training, the run summary holds ``best/<metric>`` (the best checkpoint's final validation)
  and ``best/checkpoint`` (its path).
- ``evaluate.py`` with ``logger=wandb`` logs into the project and group of the training run that
  wrote the checkpoint, with ``job_type: evaluation`` and the training run's id in its config
  (``train_run_id``; ``train_runs`` per method). The id comes from the checkpoint
  (:class:`srmri.callbacks.dashboard.TrainingMonitor` records it), else from the W&B folder of the
  run directory the checkpoint sits in.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import hydra.utils
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig
from pytorch_lightning.loggers import Logger, WandbLogger
from pytorch_lightning.utilities import rank_zero_only

from srmri.callbacks.dashboard import WANDB_RUN_KEY
from srmri.io.checkpoints import load_checkpoint
from srmri.io.errors import CheckpointError
from srmri.tasks.loggers import resolve_wandb_mode, wandb_logger
from srmri.tasks.resume import CHECKPOINT_FOLDER, wandb_run_id

log = logging.getLogger(__name__)

SWEEP_PREFIX = "sweep/"
EVALUATION_JOB = "evaluation"


def is_wandb_node(node: Any) -> bool:
    """Whether a logger config node instantiates a W&B logger."""
    target = node.get("_target_") if isinstance(node, Mapping | DictConfig) else None
    return bool(target) and hydra.utils.get_object(str(target)) in (wandb_logger, WandbLogger)


def sweep_group(group: str, sweep_dir: str | Path) -> str:
    """The W&B group of every job of one sweep: the configured group and the sweep's folder name."""
    return f"{group}-{Path(sweep_dir).name}"


def current_sweep() -> tuple[Path, list[str]] | None:
    """``(sweep dir, this job's overrides)`` inside a Hydra multirun job; None otherwise."""
    if not HydraConfig.initialized():
        return None
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode != RunMode.MULTIRUN:
        return None
    return Path(hydra_cfg.sweep.dir), [str(item) for item in hydra_cfg.overrides.task]


def sweep_values(overrides: Sequence[str]) -> dict[str, Any]:
    """``{"sweep/<key>": value}`` of ``key=value`` overrides, values read as YAML (numbers stay
    numbers); ``+`` / ``++`` / ``~`` prefixes are dropped."""
    values = {}
    for override in overrides:
        key, sep, text = override.partition("=")
        if not sep:
            continue
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            value = text
        if not isinstance(value, str | int | float | bool) and value is not None:
            value = text
        values[SWEEP_PREFIX + key.lstrip("+~")] = value
    return values


def wandb_settings(node: Any) -> dict[str, Any]:
    """Extra ``wandb_logger`` arguments of a training run: the sweep's group inside a multirun."""
    sweep = current_sweep()
    if sweep is None:
        return {}
    return {"group": sweep_group(str(node.get("group") or "sweep"), sweep[0])}


@rank_zero_only
def log_sweep_values(loggers: Sequence[Logger]) -> None:
    """Put this multirun job's overrides in the W&B config as flat ``sweep/<key>`` keys."""
    sweep = current_sweep()
    if sweep is None:
        return
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            logger.experiment.config.update(sweep_values(sweep[1]), allow_val_change=True)


def best_summary(report: Mapping[str, Any]) -> dict[str, Any]:
    """``best/<metric>`` for every final validation metric and ``best/checkpoint``."""
    values: dict[str, Any] = {f"best/{k}": v for k, v in report.get("metrics", {}).items()}
    values["best/checkpoint"] = report.get("best_checkpoint") or ""
    return values


@rank_zero_only
def log_best_summary(loggers: Sequence[Logger], report: Mapping[str, Any]) -> None:
    """Write the best checkpoint's validation metrics and path into every W&B run summary."""
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            logger.experiment.summary.update(best_summary(report))


def checkpoint_run(path: Path) -> dict[str, str] | None:
    """``{id, project, group, name}`` of the W&B run that wrote checkpoint ``path``, if known.

    Read from the checkpoint; for checkpoints that do not record it, the id of the newest W&B run
    folder of the run directory (``<run>/checkpoints/<file>`` -> ``<run>/wandb/*run-*-<id>``).
    """
    try:
        record = load_checkpoint(path).get(WANDB_RUN_KEY)
    except (OSError, CheckpointError):
        record = None
    if isinstance(record, Mapping) and record.get("id"):
        return {key: str(record.get(key) or "") for key in ("id", "project", "group", "name")}
    run_dir = path.parent.parent if path.parent.name == CHECKPOINT_FOLDER else path.parent
    run_id = wandb_run_id(run_dir)
    return None if run_id is None else {"id": run_id, "project": "", "group": "", "name": ""}


def evaluation_loggers(
    group: DictConfig | None, checkpoints: Sequence[tuple[str | None, Path]]
) -> tuple[list[Logger], dict[str, Any]]:
    """The loggers of ``evaluate.py`` and the config that links the run to the training runs.

    A W&B logger joins the first checkpoint's training run: same project and group when the
    checkpoint records them, ``job_type: evaluation``. Returns ``(loggers, links)``; ``links`` is
    ``{train_run_id, train_runs: {method or checkpoint file name: {id, project, group, name,
    checkpoint}}}`` (empty without checkpoints).
    """
    runs = {}
    for name, path in checkpoints:
        record = checkpoint_run(path)
        if record is not None:
            runs[name or path.stem] = {**record, "checkpoint": str(path)}
    first = next(iter(runs.values()), None)
    links: dict[str, Any] = {"train_runs": runs, "train_run_id": first["id"]} if first else {}
    loggers: list[Logger] = []
    for node in (group or {}).values():
        if not node or "_target_" not in node:
            continue
        extra: dict[str, Any] = {}
        if is_wandb_node(node):
            extra["job_type"] = EVALUATION_JOB
            if first and first["project"]:
                extra["project"] = first["project"]
            if first and first["group"]:
                extra["group"] = first["group"]
        loggers.append(hydra.utils.instantiate(node, **extra))
    return loggers, links


def log_sweep_table(
    config: DictConfig, sweep_dir: Path, rows: Sequence[Mapping[str, Any]], metric: str, mode: str
) -> Path | None:
    """Log the sweep summary as the W&B table ``sweep/summary`` of a run of its own.

    The run (``job_type: sweep``, files under ``<sweep dir>/wandb``) joins the sweep's group; its
    summary names the best job and its ``metric``. Nothing happens when ``config.logger`` has no
    W&B logger. Returns the run's folder.
    """
    from srmri.tasks.sweeps import best_row, columns

    nodes = [node for node in (config.get("logger") or {}).values() if node and is_wandb_node(node)]
    if not nodes:
        return None
    import wandb

    node = nodes[0]
    names = columns(rows, metric)
    best = best_row(rows, metric, mode)
    run = wandb.init(
        dir=str(sweep_dir),
        project=str(node.get("project") or "srmri"),
        group=sweep_group(str(node.get("group") or "sweep"), sweep_dir),
        job_type="sweep",
        name=f"sweep {Path(sweep_dir).name}",
        mode=resolve_wandb_mode(str(node.get("mode") or "auto")),
        config={"sweep_dir": str(sweep_dir), "metric": metric, "mode": mode},
    )
    try:
        table = wandb.Table(
            columns=names, data=[[_cell(row.get(n)) for n in names] for row in rows]
        )
        run.log({"sweep/summary": table})
        if best is not None:
            run.summary.update(
                {"sweep/best_job": str(best["job"]), f"sweep/best/{metric}": best[metric]}
            )
        folder = Path(run.dir).parent
    finally:
        run.finish()
    return folder


def _cell(value: Any) -> Any:
    # W&B tables take numbers, strings and None; anything else (lists, paths) as text.
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)
