"""srmri's own errors: each message names the file, key or value and what was expected.

They derive from the built-in error a caller would otherwise catch (``ValueError``, ``OSError``,
``FloatingPointError``), so code written against those keeps working.
"""

from __future__ import annotations


class SrmriError(Exception):
    """Base of the errors srmri raises on purpose (as opposed to a bug).

    The entry points print such an error as one line and exit with :attr:`exit_code`
    (see :mod:`srmri.tasks.cli`); anything else is a bug and keeps its traceback.
    """

    exit_code = 2


class ConfigError(SrmriError, ValueError):
    """A config key or value that cannot work; raised before any data is read or step is taken."""


class CheckpointError(SrmriError, ValueError):
    """A checkpoint that is missing, corrupt, truncated, of the wrong kind, or carries code."""


class CheckpointSaveError(SrmriError, OSError):
    """A checkpoint could not be written (e.g. a full disk); the previous file is unchanged."""


class NonFiniteError(SrmriError, FloatingPointError):
    """NaN or Inf in the training loss or in weights about to be checkpointed."""


class MissingFileError(SrmriError, FileNotFoundError):
    """A file or folder the user named (input, checkpoint, data folder) does not exist."""


class OutputExistsError(SrmriError, FileExistsError):
    """An output is already there and ``overwrite`` was not asked for."""


class BatchError(SrmriError):
    """Some inputs of a batch failed under ``on_error=skip``; the others were written.

    Attributes:
        failures: ``(input, error)`` of every input that failed, in input order.
    """

    def __init__(self, message: str, failures: list[tuple[object, BaseException]]) -> None:
        super().__init__(message)
        self.failures = failures

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        """2 when every failure was an expected error, 1 when any was a bug."""
        return 2 if all(isinstance(e, SrmriError) for _, e in self.failures) else 1
