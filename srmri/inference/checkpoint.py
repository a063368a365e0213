"""Restoring a checkpoint for prediction, and the one check a volume needs of its network."""

from __future__ import annotations

import os
from pathlib import Path

from srmri.module import SRModule


def load_module(ckpt_path: str | os.PathLike) -> SRModule:
    """Restore a checkpoint for prediction (on the CPU; the options choose the device later).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: it is not an srmri checkpoint, or its network is not 1-channel.
    """
    path = Path(ckpt_path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint file not found")
    try:
        module = SRModule.load_from_checkpoint(
            path, map_location="cpu", weights_only=True, compile=False
        )
    except Exception as error:
        raise ValueError(f"{path}: cannot restore an srmri checkpoint ({error})") from error
    check_channels(module, str(path))
    return module.eval()


def check_channels(module: SRModule, name: str) -> None:
    """Refuse a network that does not map 1-channel slices to 1-channel slices."""
    if module.channels != 1:
        raise ValueError(
            f"{name}: the network takes {module.channels} channels; volumes are super-resolved "
            "as 1-channel grey slices, so a checkpoint with channels=1 is expected"
        )
