"""srmri's own errors: each message names the file, key or value and what was expected.

They derive from the built-in error a caller would otherwise catch (``ValueError``, ``OSError``,
``FloatingPointError``), so code written against those keeps working.
"""

from __future__ import annotations


class SrmriError(Exception):
    """Base of the errors srmri raises on purpose (as opposed to a bug)."""


class ConfigError(SrmriError, ValueError):
    """A config key or value that cannot work; raised before any data is read or step is taken."""


class CheckpointError(SrmriError, ValueError):
    """A checkpoint that is missing, corrupt, truncated, of the wrong kind, or carries code."""


class CheckpointSaveError(SrmriError, OSError):
    """A checkpoint could not be written (e.g. a full disk); the previous file is unchanged."""


class NonFiniteError(SrmriError, FloatingPointError):
    """NaN or Inf in the training loss or in weights about to be checkpointed."""
