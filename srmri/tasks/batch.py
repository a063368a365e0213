"""Run one task over many inputs: stop at the first bad one, or skip it and go on.

:func:`run_batch` is the loop behind ``predict.py`` (and any entry point that maps input files to
output files): it calls ``work(input, output)`` for every planned pair, and with
``on_error="skip"`` reports a failing input on one line, goes on with the others, prints a summary
of what was written and what failed and why, and raises :class:`~srmri.io.errors.BatchError` at
the end, so the command exits non-zero (:mod:`srmri.tasks.cli`).
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TextIO

from srmri.io.errors import BatchError, ConfigError, SrmriError
from srmri.tasks.cli import log_to_file, one_line

log = logging.getLogger(__name__)

OnError = Literal["stop", "skip"]
ON_ERROR: tuple[str, ...] = typing.get_args(OnError)


def run_batch(
    jobs: Sequence[tuple[Path, Path]],
    work: Callable[[Path, Path], Path],
    on_error: str = "stop",
    out: TextIO | None = None,
) -> list[Path]:
    """Call ``work(input, output)`` for each pair of ``jobs``, in order; return the outputs.

    Args:
        jobs: ``(input, output)`` pairs, checked beforehand (e.g. by
            :func:`srmri.inference.paths.plan_outputs`).
        work: makes one output from one input and returns its path; it must write nothing when
            it fails (srmri's writers are atomic).
        on_error: ``stop``: the first failure is raised as it is (after the summary, when there
            were several inputs). ``skip``: a failure is reported on stderr (an unexpected one
            with its traceback) and the next input is processed.
        out: where the summary goes (default: stdout); one line per input, paths whole.

    Raises:
        ConfigError: ``on_error`` is not one of :data:`ON_ERROR`.
        BatchError: under ``skip``, when any input failed (it lists them).
    """
    if on_error not in ON_ERROR:
        raise ConfigError(f"on_error={on_error!r}: expected one of {ON_ERROR}")
    written: list[tuple[Path, Path]] = []
    failed: list[tuple[Path, BaseException]] = []
    for position, (source, target) in enumerate(jobs):
        try:
            written.append((source, work(source, target)))
        except Exception as error:
            failed.append((source, error))
            if on_error == "stop":
                if len(jobs) > 1:
                    _summary(written, failed, jobs[position + 1 :], out)
                raise
            _report(source, error)
            continue
        log.info("%s -> %s", source, target)
    if len(jobs) > 1:
        _summary(written, failed, [], out)
    if failed:
        names = ", ".join(str(source) for source, _ in failed)
        raise BatchError(
            f"{len(failed)} of {len(jobs)} inputs failed ({names}); the other "
            f"{len(written)} were written (summary above)",
            failed,
        )
    return [output for _, output in written]


def _report(source: Path, error: Exception) -> None:
    """One line on stderr for a skipped input; a bug's traceback as well (and in the log file)."""
    expected = isinstance(error, SrmriError)
    print(f"skipped {source}: {one_line(error)}", file=sys.stderr, flush=True)
    if not expected:
        log.error("%s failed unexpectedly", source, exc_info=error)
    else:
        log_to_file(f"skipped {source}", error)


def _summary(
    written: list[tuple[Path, Path]],
    failed: list[tuple[Path, BaseException]],
    not_run: Sequence[tuple[Path, Path]],
    out: TextIO | None,
) -> None:
    lines = [f"{len(written)} written, {len(failed)} failed, {len(not_run)} not run"]
    lines += [f"  written  {source} -> {target}" for source, target in written]
    lines += [f"  failed   {source}: {one_line(error)}" for source, error in failed]
    lines += [f"  not run  {source}" for source, _ in not_run]
    text = "\n".join(lines)
    print(text, file=out or sys.stdout, flush=True)
    log_to_file(text)


def batch_keys(options: type, ckpt_path: Any) -> dict[str, Any]:
    """The top-level keys of a file-by-file command's config (predict, isotropic) and their types:
    the run's own, ``input``/``output``/``on_error``, and every field of its ``options`` dataclass."""
    from srmri.tasks.config_check import COMMON_KEYS

    hints = typing.get_type_hints(options)
    return {
        **COMMON_KEYS,
        "ckpt_path": ckpt_path,
        "input": str,
        "output": str,
        "on_error": OnError,
        **{field.name: hints[field.name] for field in dataclasses.fields(options)},
    }


def options_from_config(options: type, cfg: Any) -> Any:
    """The ``options`` dataclass filled from the keys of ``cfg`` named like its fields."""
    return options(**{field.name: cfg[field.name] for field in dataclasses.fields(options)})
