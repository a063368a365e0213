"""Restoring a checkpoint for prediction, and the one check a volume needs of its network."""

from __future__ import annotations

import os

from srmri import checkpointing
from srmri.module import SRModule


def load_module(ckpt_path: str | os.PathLike) -> SRModule:
    """Restore a checkpoint for prediction (on the CPU; the options choose the device later).

    Raises:
        FileNotFoundError, CheckpointError: as :func:`srmri.checkpointing.load_module`.
    """
    return checkpointing.load_module(ckpt_path, map_location="cpu", compile=False)


def check_channels(module: SRModule, name: str) -> None:
    """Refuse a network that does not map 1-channel slices to 1-channel slices."""
    if module.channels != 1:
        raise ValueError(
            f"{name}: the network takes {module.channels} channels; volumes are super-resolved "
            "as 1-channel grey slices, so a checkpoint with channels=1 is expected"
        )
