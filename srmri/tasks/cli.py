"""How srmri's entry points run, fail and exit: ``@command("predict")`` over a task function.

Every entry point (``train.py``, ``evaluate.py``, ``predict.py``, ...) is::

    @command("predict")              # conf/predict.yaml beside the script
    def main(cfg: DictConfig) -> None:
        predict(cfg)

    if __name__ == "__main__":
        main()

Exit codes:

- 0: done.
- 2 (:data:`EXIT_ERROR`): an error srmri expects and explains: bad input or config, a missing,
  unreadable or corrupt file, an output that exists, a NaN loss, a failed checkpoint save
  (:class:`~srmri.io.errors.SrmriError` and its kin ``DataError``, ``ConfigError``,
  ``CheckpointError``, ...; and Hydra's own config errors: an unknown key, a missing group
  option). It prints ONE line on stderr, ``error: <what, which file or key, what to do>``.
- 1 (:data:`EXIT_FAILURE`): anything else, i.e. a bug or a failure srmri does not know (out of
  memory, ...): Python's traceback on stderr, as usual.

The traceback of an expected error is printed too with ``HYDRA_FULL_ERROR=1``, and the traceback
of any error raised by the task is always written to the run's log file (``<run dir>/<script>.log``;
errors of composing the config come before the run has a directory). A task over many files
(``predict.py``) runs them through :func:`srmri.tasks.batch.run_batch`, whose ``on_error=skip``
ends in a :class:`~srmri.io.errors.BatchError`: exit 2, or 1 when a bug was among the failures.
A task checks its own config first with :func:`srmri.tasks.config_check.check_config` and its
key list (e.g. :data:`srmri.tasks.predict.PREDICT_KEYS`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException
from rich.console import Console

from srmri.io.errors import SrmriError

EXIT_FAILURE = 1
EXIT_ERROR = 2
FULL_ERROR = "HYDRA_FULL_ERROR"
# Set beside HYDRA_FULL_ERROR when srmri (not the user) set it, so processes started by the
# run (DDP ranks re-running the command) still know whether the user asked for tracebacks.
FORCED = "SRMRI_FULL_ERROR_FORCED"

log = logging.getLogger(__name__)


def command(
    config_name: str, config_path: str = "conf", shorthands: Mapping[str, str] | None = None
) -> Callable[[Callable[[DictConfig], Any]], Callable[[], Any]]:
    """Make a task function an entry point: Hydra's ``main`` with srmri's errors and exit codes.

    Args:
        config_name: the entry config, e.g. ``"predict"`` for ``conf/predict.yaml``.
        config_path: the config folder, relative to the file that defines the task function.
        shorthands: command-line keys that stand for a nested key (``{"adapt":
            "adapt.enabled"}``: ``adapt=true`` means ``adapt.enabled=true``; see
            :func:`expand_shorthands`).

    The task runs as a Hydra job (run directory, log file, multirun) and returns what it
    returns (a sweeper's objective); see the module doc for what happens when it raises.
    """

    def decorate(task: Callable[[DictConfig], Any]) -> Callable[[], Any]:
        failures: list[Exception] = []

        # functools.wraps keeps the task's module and file: Hydra names the job (and its log
        # file) after them and finds config_path beside them.
        @functools.wraps(task)
        def job(cfg: DictConfig) -> Any:
            try:
                return task(cfg)
            except Exception as error:
                log_to_file(f"{config_name} failed", error)
                if HydraConfig.get().mode == RunMode.MULTIRUN:
                    # The sweep records the failed job and goes on with the others.
                    raise
                # A single run: raised once Hydra is done, without Hydra's own report.
                failures.append(error)
                return None

        hydra_main = hydra.main(
            version_base="1.3", config_path=config_path, config_name=config_name
        )(job)

        def hydra_then_raise() -> Any:
            result = hydra_main()
            if failures:
                raise failures.pop()
            return result

        @functools.wraps(task)
        def main() -> Any:
            if shorthands:
                sys.argv[1:] = expand_shorthands(sys.argv[1:], shorthands)
            return run(hydra_then_raise)

        return main

    return decorate


def expand_shorthands(arguments: Sequence[str], shorthands: Mapping[str, str]) -> list[str]:
    """``arguments`` with each ``key=value`` of a shorthand key written as its nested key.

    A config node (``adapt: {enabled: false, budget: ...}``) cannot also be a flag for Hydra:
    ``adapt=true`` would replace the node by ``true`` and ``adapt.budget=...`` would then fail.
    """
    expanded = []
    for argument in arguments:
        key, equals, value = argument.partition("=")
        expanded.append(f"{shorthands[key]}={value}" if equals and key in shorthands else argument)
    return expanded


def run(hydra_main: Callable[[], Any]) -> Any:
    """Call a ``hydra.main`` function; turn what it raises into a message and an exit code."""
    with _hydra_raises():
        try:
            return hydra_main()
        except BrokenPipeError:
            # The reader of stdout went away (`--help | head`): nothing left to say.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_FAILURE)
        except Exception as error:
            if not expected(error):
                traceback.print_exc()
                sys.exit(EXIT_FAILURE)
            if traceback_requested():
                traceback.print_exc()
            print(f"error: {one_line(error)}", file=sys.stderr, flush=True)
            sys.exit(exit_code(error))


def expected(error: BaseException) -> bool:
    """An error srmri raises on purpose, or one of Hydra's config errors (not a bug)."""
    return isinstance(error, SrmriError | CompactHydraException)


def exit_code(error: BaseException) -> int:
    """:data:`EXIT_ERROR` for an expected error (a batch with a failed bug: :data:`EXIT_FAILURE`),
    :data:`EXIT_FAILURE` for anything else."""
    if isinstance(error, SrmriError):
        return error.exit_code
    return EXIT_ERROR if expected(error) else EXIT_FAILURE


def one_line(error: BaseException) -> str:
    """The message of ``error`` on one line (Hydra's config errors made readable)."""
    cause = error.__cause__
    if isinstance(error, CompactHydraException) and isinstance(
        cause, ConfigKeyError | ConfigAttributeError
    ):
        key = cause.full_key or cause.key
        if key and "not in struct" in str(cause):
            # Hydra suggests +key=...; the config check refuses keys that the command does not read.
            return f"{key}: unknown key; --help lists the options"
    text = str(error) or type(error).__name__
    if "\nOriginal Traceback" in text:
        # Raised in a DataLoader worker: torch puts the worker's traceback in the message; the
        # message proper is its last line, after the error's class name.
        text = text.strip().splitlines()[-1].split(": ", 1)[-1]
    if isinstance(error, CompactHydraException) and isinstance(cause, OmegaConfBaseException):
        text = f"{text} ({str(cause).splitlines()[0]})"
    return " ".join(text.split())


def traceback_requested() -> bool:
    """True when the user asked for full tracebacks (``HYDRA_FULL_ERROR=1``)."""
    return os.environ.get(FULL_ERROR) == "1" and FORCED not in os.environ


def log_to_file(message: str, error: BaseException | None = None) -> None:
    """Write ``message`` (and ``error`` with its traceback) to the run's log files only.

    The console gets one line from :func:`run`; the log file keeps everything. Outside a Hydra
    run (no file handler) this does nothing.
    """
    exc_info = (type(error), error, error.__traceback__) if error is not None else None
    record = logging.LogRecord(
        log.name, logging.ERROR if error else logging.INFO, __file__, 0, message, (), exc_info
    )
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler) and record.levelno >= handler.level:
            handler.handle(record)


@contextlib.contextmanager
def _hydra_raises() -> Iterator[None]:
    """Let errors out of Hydra (it prints its own, longer report and exits 1 otherwise)."""
    if os.environ.get(FULL_ERROR) == "1":
        yield
        return
    os.environ[FULL_ERROR] = os.environ[FORCED] = "1"
    try:
        yield
    finally:
        os.environ.pop(FULL_ERROR, None)
        os.environ.pop(FORCED, None)


def print_lines(console: Console, *lines: str) -> None:
    """Print each line whole, as written: never wrapped at the console's width (a pipe or a log
    file gets 80 columns, and a path cut in two cannot be copied), no markup read in paths."""
    for line in lines:
        console.print(line, soft_wrap=True, markup=False, highlight=False)
