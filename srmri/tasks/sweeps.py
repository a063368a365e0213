"""What a Hydra multirun (grid sweep or Optuna search) leaves behind: one summary of all its jobs.

Every job of a sweep runs in its own directory ``<sweep dir>/<job number>/``, where the training
task writes ``metrics.json``. :class:`SweepSummary`, a Hydra callback registered in
``conf/hydra/default.yaml``, records each job's outcome there as ``job_status.json`` (completed or
failed, with the error) as soon as the job ends, and rewrites the sweep's summary from those files:
``<sweep dir>/sweep_summary.csv`` and ``.json``, one row per job with its overrides, status and
final validation metrics. The summary is thus current after every job, also when a failed job
makes Hydra stop the sweep (Hydra then skips the end-of-sweep hook). At the end of a sweep the
table is printed, best job first.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from rich.console import Console
from rich.table import Table

from srmri.io.atomic import write_text_atomic
from srmri.tasks.cli import print_lines
from srmri.tasks.dashboard import log_sweep_table

log = logging.getLogger(__name__)

JOB_STATUS = "job_status.json"
METRICS = "metrics.json"
SUMMARY = "sweep_summary"
MODES = ("max", "min")
# Environment variables that hold a process' global rank under SLURM, submitit and torchrun.
RANK_VARIABLES = ("SLURM_PROCID", "SUBMITIT_LOCAL_GLOBALID", "RANK")


def is_global_zero() -> bool:
    """Whether this process is rank 0 of its job (always true outside distributed launches)."""
    return all(int(os.environ.get(name, "0")) == 0 for name in RANK_VARIABLES)


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None when the file is missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def job_status(job_return: JobReturn) -> dict[str, Any]:
    """``{status, error}`` of a finished Hydra job; ``error`` is the exception's type and text."""
    if job_return.status == JobStatus.COMPLETED:
        return {"status": "completed", "error": None}
    error = job_return._return_value
    return {"status": "failed", "error": f"{type(error).__name__}: {error}"}


def job_rows(sweep_dir: Path) -> list[dict[str, Any]]:
    """One row per job directory of ``sweep_dir``, in job order.

    A row holds ``job``, ``status`` (``completed``, ``failed``, or ``unfinished`` when the job
    left no status, e.g. it is still running or was killed), ``params`` (the overrides that
    differ between the jobs: what the sweep varied), every final metric of the job's
    ``metrics.json``, ``error``, ``overrides`` (all of them), ``run_dir``, ``best_checkpoint``
    and ``wandb_run_dir``.
    """
    jobs = []
    for run_dir in (p for p in sweep_dir.iterdir() if p.is_dir()):
        status = read_json(run_dir / JOB_STATUS)
        overrides_file = run_dir / ".hydra" / "overrides.yaml"
        if status is None and overrides_file.is_file():
            overrides = [str(item) for item in OmegaConf.load(overrides_file)]
            status = {"status": "unfinished", "error": None, "overrides": overrides}
        if status is not None:
            jobs.append((run_dir, status, read_json(run_dir / METRICS) or {}))
    shared = (
        set.intersection(*(set(status["overrides"]) for _, status, _ in jobs)) if jobs else set()
    )
    rows = [
        {
            "job": status.get("job", run_dir.name),
            "status": status["status"],
            "params": " ".join(o for o in status["overrides"] if o not in shared),
            **report.get("metrics", {}),
            "error": status.get("error"),
            "overrides": " ".join(status["overrides"]),
            "run_dir": str(run_dir),
            "best_checkpoint": report.get("best_checkpoint"),
            "wandb_run_dir": report.get("wandb_run_dir"),
        }
        for run_dir, status, report in jobs
    ]
    return sorted(rows, key=lambda row: _job_order(row["job"]))


def _job_order(job: Any) -> tuple[int, int, str]:
    # Hydra numbers jobs; other directory names (a custom hydra.sweep.subdir) sort after them.
    text = str(job)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def best_row(rows: Sequence[Mapping[str, Any]], metric: str, mode: str) -> Mapping[str, Any] | None:
    """The completed row with the best finite ``metric`` (highest for ``max``, lowest for ``min``)."""
    if mode not in MODES:
        raise ValueError(f"sweep summary mode must be one of {MODES}, got {mode!r}")
    scored = [row for row in rows if _finite(row.get(metric))]
    if not scored:
        return None
    pick = max if mode == "max" else min
    return pick(scored, key=lambda row: float(row[metric]))


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def columns(rows: Iterable[Mapping[str, Any]], metric: str) -> list[str]:
    """CSV columns: job, status, params, the optimised metric, the other metrics, the rest."""
    first = ["job", "status", "params", metric]
    last = ["error", "overrides", "run_dir", "best_checkpoint", "wandb_run_dir"]
    keys = {key for row in rows for key in row}
    return first + sorted(keys - set(first) - set(last)) + last


def write_summary(sweep_dir: Path, metric: str, mode: str = "max") -> list[dict[str, Any]]:
    """Write ``sweep_summary.csv`` and ``sweep_summary.json`` in ``sweep_dir``; return the rows."""
    rows = job_rows(sweep_dir)
    best = best_row(rows, metric, mode)
    payload = {
        "metric": metric,
        "mode": mode,
        "best_job": None if best is None else best["job"],
        "jobs": rows,
    }
    write_text_atomic(sweep_dir / f"{SUMMARY}.json", json.dumps(payload, indent=2, default=str))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns(rows, metric), restval="")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(sweep_dir / f"{SUMMARY}.csv", buffer.getvalue())
    return rows


def summary_table(rows: Sequence[Mapping[str, Any]], metric: str, mode: str) -> Table:
    """A rich table of the jobs, best first, then the others in job order, failed ones last."""
    best = best_row(rows, metric, mode)
    table = Table(title=f"Sweep: {metric} per job ({mode})")
    for name in ("job", "status", "params", metric, "gain over bicubic"):
        table.add_column(name, justify="right" if name in (metric, "gain over bicubic") else "left")
    ordered = sorted(rows, key=lambda row: (row is not best, row["status"] != "completed"))
    for row in ordered:
        value, gain = row.get(metric), row.get("val/psnr_gain")
        table.add_row(
            f"{row['job']}{' (best)' if row is best else ''}",
            row["status"],
            row["params"],
            f"{value:.4f}" if _finite(value) else "-",
            f"{gain:+.2f} dB" if _finite(gain) else "-",
        )
    return table


class SweepHydraConfig(Callback):
    """Hydra callback: let ``${hydra:...}`` resolve while a multirun starts.

    Hydra 1.3 sets its config for each job but not for the sweeper and launcher, so a sweep
    directory built from ``experiment_name`` (``${hydra:runtime.choices.experiment}``) fails to
    resolve there. This installs the sweep's own config first, as later Hydra releases do.
    """

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if not HydraConfig.initialized():
            HydraConfig.instance().set_config(config)


class SweepSummary(Callback):
    """Hydra callback: job outcomes and the sweep summary of a multirun.

    Args:
        metric: the metric to rank jobs by (the run's ``optimized_metric``).
        mode: ``max`` or ``min``: whether a higher or a lower ``metric`` is better.
    """

    def __init__(self, metric: str = "val/psnr_best", mode: str = "max") -> None:
        if mode not in MODES:
            raise ValueError(
                f"hydra.callbacks.sweep_summary.mode must be one of {MODES}, got {mode!r}"
            )
        self.metric = metric
        self.mode = mode

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        # Single runs need no summary; under SLURM every task of a job calls this, rank 0 records.
        if config.hydra.mode != RunMode.MULTIRUN or not is_global_zero():
            return
        run_dir = Path(config.hydra.runtime.output_dir)
        record = {
            "job": config.hydra.job.num,
            "overrides": list(config.hydra.overrides.task),
            **job_status(job_return),
        }
        write_text_atomic(run_dir / JOB_STATUS, json.dumps(record, indent=2))
        write_summary(Path(config.hydra.sweep.dir), self.metric, self.mode)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if not sweep_dir.is_dir():
            return
        rows = write_summary(sweep_dir, self.metric, self.mode)
        try:
            log_sweep_table(config, sweep_dir, rows, self.metric, self.mode)
        except Exception as error:  # the files above hold the summary; the W&B copy is extra
            log.warning("sweep summary: not logged to W&B (%s: %s)", type(error).__name__, error)
        console = Console()
        console.print(summary_table(rows, self.metric, self.mode))
        print_lines(console, f"sweep summary:   {sweep_dir / SUMMARY}.csv (and .json)")
