"""Shipped pretrained models: the registry, the verified loader and the exporter.

- :func:`load_pretrained`: the :class:`~srmri.lightning.module.SRModule` of a shipped model, its
  weights file checked against the registry's SHA-256 and read with ``weights_only=True``
  (through :func:`srmri.io.checkpoints.load_module`, like any checkpoint), so prediction and
  evaluation use exactly its training degradation and normalisation.
- :mod:`srmri.pretrained.registry`: names, files, SHA-256, scales (``registry.json``).
- :mod:`srmri.pretrained.export`: ``python -m srmri.pretrained.export <ckpt> <name>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from srmri.io.checkpoints import load_module
from srmri.lightning.module import SRModule
from srmri.pretrained.registry import default_for_scale, entries, entry, verified_path

__all__ = ["default_for_scale", "entries", "entry", "load_pretrained", "verified_path"]


def load_pretrained(
    name: str, map_location: Any = "cpu", folder: Path | None = None, **overrides: Any
) -> SRModule:
    """The shipped model ``name`` in eval mode, after its SHA-256 check (see :func:`verified_path`).

    Raises:
        ConfigError, MissingFileError, CheckpointError: see :func:`verified_path` and
            :func:`srmri.io.checkpoints.load_module`.
    """
    return load_module(verified_path(name, folder), map_location=map_location, **overrides)
