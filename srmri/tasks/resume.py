"""Where a run continues from: ``resume=latest``, a run directory or a checkpoint file.

``resume=latest`` looks at the runs of the same task and experiment,
``<paths.log_dir>/<task_name>/<experiment_name>/runs/*/checkpoints/*.ckpt`` (sweeps under
``multiruns/`` are not searched: each job there is another configuration). The run whose newest
checkpoint is the most recent wins; inside it ``last*.ckpt`` comes first, then the other
checkpoints newest first. Every candidate is opened with :func:`srmri.io.checkpoints.load_checkpoint`
and a corrupt, truncated or unsafe one is skipped with a message naming it. The resumed run writes
into the directory of the run it continues (checkpoints, logs, ``metrics.json``; the same W&B run
id), so its best / last checkpoint bookkeeping carries on; this launch's own Hydra directory keeps
only its config and log.
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, open_dict

from srmri.io.checkpoints import describe, load_checkpoint, stale_temporaries
from srmri.io.errors import CheckpointError, ConfigError

log = logging.getLogger(__name__)

LATEST = "latest"
CHECKPOINT_FOLDER = "checkpoints"
WANDB_RUN_FOLDER = re.compile(r"^(?:offline-)?run-\d{8}_\d{6}-([a-z0-9]+)(?:-\d+)?$")


@dataclass(frozen=True)
class ResumePoint:
    """The checkpoint to continue from and the run directory it belongs to (None if unknown)."""

    checkpoint: Path
    run_dir: Path | None
    epoch: int
    global_step: int


def experiment_dir(log_dir: str | Path, task_name: str, experiment_name: str | None) -> Path:
    """The folder that holds every run of one task and experiment (as conf/hydra names it)."""
    return Path(log_dir).expanduser() / str(task_name) / str(experiment_name)


def run_checkpoints(run_dir: Path) -> list[Path]:
    """The checkpoints of a run in the order they are tried: ``last*`` first, then newest first."""
    folder = run_dir / CHECKPOINT_FOLDER
    files = [path for path in folder.glob("*.ckpt") if path.is_file()]
    return sorted(files, key=lambda p: (not p.name.startswith("last"), -p.stat().st_mtime, p.name))


def find_latest(experiments: Path) -> ResumePoint:
    """The newest loadable checkpoint of the most recent run under ``experiments/runs``.

    Raises:
        CheckpointError: no run there has a loadable checkpoint.
    """
    runs = [run for run in (experiments / "runs").glob("*") if run.is_dir()]
    with_checkpoints = [(run, run_checkpoints(run)) for run in runs]
    with_checkpoints = [(run, files) for run, files in with_checkpoints if files]
    with_checkpoints.sort(key=lambda item: max(p.stat().st_mtime for p in item[1]), reverse=True)
    for run, files in with_checkpoints:
        point = _first_loadable(files, run)
        if point is not None:
            return point
    raise CheckpointError(
        f"resume=latest: no loadable checkpoint in {experiments / 'runs'}/*/{CHECKPOINT_FOLDER}/; "
        "start without resume, or give resume=<run directory or .ckpt file>"
    )


def resolve(resume: str, experiments: Path) -> ResumePoint:
    """The checkpoint that ``resume`` names: ``latest``, a run directory or a ``.ckpt`` file.

    Raises:
        ConfigError: ``resume`` is none of those.
        CheckpointError: the checkpoint (or every checkpoint of the run) cannot be loaded.
    """
    if resume == LATEST:
        return find_latest(experiments)
    path = Path(resume).expanduser()
    if path.is_file():
        checkpoint = load_checkpoint(path)
        run_dir = path.parent.parent if path.parent.name == CHECKPOINT_FOLDER else None
        return _point(path, run_dir, checkpoint)
    if path.is_dir():
        run_dir = path.parent if path.name == CHECKPOINT_FOLDER else path
        point = _first_loadable(run_checkpoints(run_dir), run_dir)
        if point is None:
            raise CheckpointError(
                f"resume={resume}: no loadable checkpoint in {run_dir / CHECKPOINT_FOLDER}"
            )
        return point
    raise ConfigError(
        f"resume={resume!r}: expected '{LATEST}', a run directory or a .ckpt file that exists"
    )


def _first_loadable(files: list[Path], run_dir: Path) -> ResumePoint | None:
    for path in files:
        try:
            checkpoint = load_checkpoint(path)
        except CheckpointError as error:
            log.warning("resume: skipping %s: %s", path, error)
            continue
        return _point(path, run_dir, checkpoint)
    return None


def _point(path: Path, run_dir: Path | None, checkpoint: dict) -> ResumePoint:
    log.info("resume: continuing from %s (%s)", path, describe(checkpoint))
    return ResumePoint(
        path, run_dir, int(checkpoint.get("epoch", -1)), int(checkpoint.get("global_step", -1))
    )


def wandb_run_id(run_dir: Path) -> str | None:
    """The id of the most recent W&B run written under ``run_dir/wandb``, if any."""
    ids = [
        (folder.name, match.group(1))
        for folder in (run_dir / "wandb").glob("*run-*")
        if folder.is_dir() and (match := WANDB_RUN_FOLDER.match(folder.name))
    ]
    return max(ids)[1] if ids else None


def apply_resume(cfg: DictConfig) -> ResumePoint | None:
    """Point ``cfg`` at the checkpoint ``cfg.resume`` names (``ckpt_path``, ``paths.output_dir``).

    Returns None when ``resume`` is not set. Temporary files that killed saves left in the resumed
    run's checkpoint folder are removed.

    Raises:
        ConfigError: both ``resume`` and ``ckpt_path`` are set, or ``resume`` names nothing.
        CheckpointError: nothing loadable was found.
    """
    resume = cfg.get("resume")
    if not resume:
        return None
    if cfg.get("ckpt_path"):
        raise ConfigError(
            f"resume={resume!r} and ckpt_path={cfg.ckpt_path!r} are both set; give only one"
        )
    point = resolve(
        str(resume), experiment_dir(cfg.paths.log_dir, cfg.task_name, cfg.experiment_name)
    )
    with open_dict(cfg):
        cfg.ckpt_path = str(point.checkpoint)
        if point.run_dir is not None:
            cfg.paths.output_dir = str(point.run_dir)
    if point.run_dir is not None:
        for temporary in stale_temporaries(point.run_dir / CHECKPOINT_FOLDER):
            # Under DDP every rank gets here; only one of them removes each file.
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
                log.info("resume: removed %s, left by an interrupted save", temporary)
        log.info("resume: writing into the resumed run's directory %s", point.run_dir)
    return point
