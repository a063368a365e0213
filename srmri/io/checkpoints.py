"""Checkpoint files that survive kills and full disks and never run code when loaded.

Writing: :class:`AtomicCheckpointIO`, the trainer's checkpoint plugin (``conf/trainer/default.yaml``),
writes every checkpoint to a temporary file in the same folder, flushes it to disk and renames it
over the target, so a process killed mid-save leaves the previous file whole. A failed write (e.g.
``ENOSPC``) removes the temporary file, keeps every existing checkpoint and stops the run, or,
with ``on_error: continue``, logs the failure and lets training go on.

Reading: :func:`load_checkpoint` is the one way srmri opens a checkpoint (Lightning's ``ckpt_path``
goes through the plugin, evaluation and prediction through :func:`load_module`). It checks the
file's zip CRCs, so truncated or damaged files are refused with their name, and unpickles with
``torch.load(weights_only=True)``, so a file carrying Python objects is refused instead of run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any

import torch
from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO

from srmri.io.errors import CheckpointError, CheckpointSaveError, MissingFileError
from srmri.lightning.module import SRModule

log = logging.getLogger(__name__)

ON_ERROR = ("stop", "continue")
TEMP_SUFFIX = ".tmp"


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """The contents of a Lightning checkpoint, read without executing any code.

    Raises:
        MissingFileError: ``path`` does not exist.
        CheckpointError: the file is truncated or damaged, is not a checkpoint (a dict with a
            ``state_dict``), or carries pickled Python objects (refused: unpickling runs code).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"checkpoint {path} does not exist")
    _check_integrity(path)
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"GLOBAL (\S+)", str(error))
        if found:
            raise CheckpointError(
                f"refused to load {path}: it carries a pickled Python object ({found.group(1)}) "
                "and unpickling it could run arbitrary code; a checkpoint must hold only tensors "
                "and plain values"
            ) from None
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt file?)") from None
    except MemoryError:
        raise
    except Exception as error:
        # On damaged bytes the unpickler fails in many ways (EOFError, IndexError, RuntimeError ...).
        raise CheckpointError(f"{path} is corrupt or truncated: {_reason(error)}") from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CheckpointError(
            f"{path} holds a {type(checkpoint).__name__} without a 'state_dict'; expected a "
            "checkpoint written by srmri (Lightning)"
        )
    return checkpoint


def _check_integrity(path: Path) -> None:
    """Refuse a zip-format checkpoint with a missing end or a member that fails its CRC.

    ``torch.load`` reads neither the CRCs nor the whole file, so a damaged tensor would load as
    wrong numbers. Files in PyTorch's legacy (non-zip) format are left to ``torch.load``.
    """
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as handle:
            starts_as_zip = handle.read(4) == b"PK\x03\x04"
        if starts_as_zip:
            raise CheckpointError(f"{path} is truncated: its zip directory is missing")
        return
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except MemoryError:
        raise
    except Exception as error:
        raise CheckpointError(f"{path} is corrupt or truncated: {_reason(error)}") from None
    if damaged is not None:
        raise CheckpointError(f"{path} is corrupt: {damaged} fails its CRC check")


def _reason(error: Exception) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


def describe(checkpoint: dict[str, Any]) -> str:
    """``epoch E, global step S`` of a loaded checkpoint, for messages."""
    return f"epoch {checkpoint.get('epoch', '?')}, global step {checkpoint.get('global_step', '?')}"


REQUIRED_HPARAMS = ("network", "degradation", "normalisation")


def load_module(path: str | os.PathLike, map_location: Any = "cpu", **overrides: Any) -> SRModule:
    """The :class:`~srmri.lightning.module.SRModule` of a checkpoint, loaded safely, for inference.

    The one loader evaluation, prediction and the benchmarks use: the file is checked and read
    without executing code (:func:`load_checkpoint`), must hold srmri's hyperparameters and
    weights, and its network must take grey (1-channel) slices, as every MRI use of srmri does.
    The module comes back in eval mode, without gradients and uncompiled (``compile=True`` in
    ``overrides`` asks for ``torch.compile``).

    Args:
        path: a ``.ckpt`` file written by ``train.py``.
        map_location: where tensors go (``"cpu"``, a device, ...).
        overrides: hyperparameters to replace.

    Raises:
        MissingFileError: no file at ``path``.
        CheckpointError: as :func:`load_checkpoint`; or the file lacks srmri's hyperparameters or
            weights, cannot be restored, or holds a network for other than 1-channel images.
    """
    checkpoint = load_checkpoint(path)
    hparams = checkpoint.get("hyper_parameters")
    if not isinstance(hparams, dict):
        raise CheckpointError(
            f"{path}: no 'hyper_parameters'; expected a checkpoint saved by srmri's SRModule"
        )
    missing = [f"hyper_parameters.{key}" for key in REQUIRED_HPARAMS if key not in hparams]
    if missing:
        raise CheckpointError(
            f"{path}: lacks {', '.join(missing)}; expected a checkpoint saved by srmri's SRModule"
        )
    overrides = {"compile": False, **overrides}
    try:
        module = SRModule.load_from_checkpoint(
            path, map_location=map_location, weights_only=True, **overrides
        )
    except Exception as error:
        raise CheckpointError(f"{path}: cannot restore the model ({error})") from error
    check_grey(module, str(path), CheckpointError)
    return module.eval().requires_grad_(False)


def check_grey(module: SRModule, name: str, error: type[Exception] = ValueError) -> None:
    """Refuse a network that does not map 1-channel slices to 1-channel slices.

    Raises:
        ``error`` naming ``name``: the network takes other than 1-channel images.
    """
    if module.channels != 1:
        raise error(
            f"{name}: the network takes {module.channels}-channel images; srmri scores and "
            "super-resolves grey (1-channel) slices, so a checkpoint with channels=1 is expected"
        )


def save_atomic(checkpoint: dict[str, Any], path: Path) -> None:
    """Write ``checkpoint`` to ``path`` via a temporary file in the same folder, fsync and rename.

    On any failure or interruption the temporary file is removed (when the process survives)
    and ``path`` is untouched.
    """
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}")
    try:
        with open(temp, "xb") as handle:
            torch.save(checkpoint, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    # The rename is durable only once the folder entry is on disk; not every platform allows it.
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def stale_temporaries(folder: Path) -> list[Path]:
    """Temporary files that killed saves left in a checkpoint folder."""
    return sorted(folder.glob(f".*.ckpt.*{TEMP_SUFFIX}"))


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoint plugin: atomic, durable saves and code-free loads.

    Args:
        on_error: what a failed save does (e.g. a full disk): ``stop`` raises
            :class:`~srmri.io.errors.CheckpointSaveError`; ``continue`` logs it and training goes on.
            Either way the existing checkpoints are kept, and while saves fail none is deleted
            (Lightning would otherwise remove the previous best after a "new best" it could not write).
    """

    def __init__(self, on_error: str = "stop") -> None:
        if on_error not in ON_ERROR:
            raise ValueError(f"checkpoint on_error must be one of {ON_ERROR}, got {on_error!r}")
        self.on_error = on_error
        self.failed_saves = 0
        self._last_save_failed = False

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any = None
    ) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} does not take storage_options")
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_atomic(checkpoint, path)
        except OSError as error:
            self._last_save_failed = True
            self.failed_saves += 1
            message = (
                f"could not write checkpoint {path}: {error.strerror or error}; the existing "
                f"checkpoints in {path.parent} are unchanged"
            )
            if self.on_error == "stop":
                raise CheckpointSaveError(
                    f"{message}. Training stopped; free space and resume with resume=latest "
                    "(or set trainer.plugins.on_error=continue to train on without saving)"
                ) from error
            log.error("%s; training continues (on_error=continue)", message)
            return
        self._last_save_failed = False

    def load_checkpoint(
        self,
        path: str | os.PathLike,
        map_location: Any = "cpu",
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        """Load through :func:`load_checkpoint`: always ``weights_only``, whatever is asked."""
        return load_checkpoint(path, map_location=map_location)

    def remove_checkpoint(self, path: str | os.PathLike) -> None:
        if self._last_save_failed:
            log.warning("keeping %s: the latest checkpoint save failed", path)
            return
        super().remove_checkpoint(path)
