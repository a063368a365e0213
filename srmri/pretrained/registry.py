"""The shipped models: name -> weights file, SHA-256, scale and description (``registry.json``).

The registry and the weights live in the package (``srmri/pretrained/registry.json`` and
``srmri/pretrained/weights/<name>.pt``); the environment variable ``SRMRI_PRETRAINED_DIR`` points
srmri at another folder of the same layout (tests, or models of your own). A weights file is
trusted only when its SHA-256 is the registry's: :func:`verified_path` refuses a missing file, a
registry entry without a SHA-256 (not exported yet) and a file whose SHA-256 differs, each with an
error naming the file.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srmri.io.errors import CheckpointError, ConfigError, MissingFileError

ENVIRONMENT = "SRMRI_PRETRAINED_DIR"
REGISTRY = "registry.json"
WEIGHTS = "weights"
EXPORT_HINT = "python -m srmri.pretrained.export <checkpoint.ckpt> {name}"


@dataclass(frozen=True)
class Entry:
    """One shipped model.

    Attributes:
        name: its registry name (``any_contrast_x2``).
        file: the weights file name inside ``weights/``.
        sha256: the file's SHA-256 (hex), or None while it has not been exported.
        scale: the network's upscaling factor.
        description: one line for listings.
    """

    name: str
    file: str
    sha256: str | None
    scale: int
    description: str


def pretrained_dir() -> Path:
    """The folder holding ``registry.json`` and ``weights/``: ``$SRMRI_PRETRAINED_DIR`` or the
    package's own."""
    override = os.environ.get(ENVIRONMENT)
    return Path(override).expanduser() if override else Path(__file__).parent


def read_registry(folder: Path | None = None) -> dict[str, Any]:
    """The registry of ``folder`` (default :func:`pretrained_dir`) as plain values.

    Raises:
        MissingFileError: no ``registry.json`` there.
        ConfigError: the file is not valid JSON or lacks ``models``.
    """
    path = (folder or pretrained_dir()) / REGISTRY
    if not path.is_file():
        raise MissingFileError(f"{path}: registry of pretrained models not found")
    try:
        registry = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(registry, dict) or not isinstance(registry.get("models"), dict):
        raise ConfigError(f"{path}: expected an object with 'models' (name -> entry)")
    registry.setdefault("defaults", {})
    return registry


def entries(folder: Path | None = None) -> dict[str, Entry]:
    """Every registered model by name."""
    return {
        name: Entry(
            name=name,
            file=str(value["file"]),
            sha256=value.get("sha256"),
            scale=int(value["scale"]),
            description=str(value.get("description", "")),
        )
        for name, value in read_registry(folder)["models"].items()
    }


def entry(name: str, folder: Path | None = None) -> Entry:
    """The registered model ``name``.

    Raises:
        ConfigError: no model of that name (the message lists the names).
    """
    known = entries(folder)
    if name not in known:
        raise ConfigError(
            f"pretrained={name!r}: no such shipped model; expected one of {sorted(known)}"
        )
    return known[name]


def default_for_scale(scale: int, folder: Path | None = None) -> str:
    """The name of the shipped model used for ``scale`` when no checkpoint is named.

    Raises:
        ConfigError: no shipped model for that scale.
    """
    defaults = read_registry(folder)["defaults"]
    name = defaults.get(str(scale))
    if name is None:
        raise ConfigError(
            f"scale={scale}: no shipped model for this scale (shipped: x"
            f"{', x'.join(sorted(defaults))}); pass ckpt_path= a checkpoint of your own"
        )
    return str(name)


def sha256_of(path: Path) -> str:
    """The SHA-256 of the file at ``path`` (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_path(name: str, folder: Path | None = None) -> Path:
    """Where the weights file of ``name`` lives (it may not exist yet)."""
    return (folder or pretrained_dir()) / WEIGHTS / entry(name, folder).file


def verified_path(name: str, folder: Path | None = None) -> Path:
    """The weights file of the shipped model ``name``, after checking it is the registered one.

    Raises:
        ConfigError: unknown ``name``.
        MissingFileError: the file is not there (not exported yet, or a damaged install).
        CheckpointError: the registry has no SHA-256 for it, or the file's SHA-256 differs.
    """
    registered = entry(name, folder)
    path = weights_path(name, folder)
    if not path.is_file():
        raise MissingFileError(
            f"{path}: weights of the shipped model {name!r} not found (not exported yet? "
            f"{EXPORT_HINT.format(name=name)} writes it); pass ckpt_path= to use a checkpoint"
        )
    if not registered.sha256:
        raise CheckpointError(
            f"{path}: the registry has no SHA-256 for {name!r}, so the file cannot be trusted; "
            f"export it with {EXPORT_HINT.format(name=name)}"
        )
    found = sha256_of(path)
    if found != registered.sha256:
        raise CheckpointError(
            f"{path}: SHA-256 {found} differs from the registry's {registered.sha256} for "
            f"{name!r}; the file is damaged or was replaced (reinstall srmri or re-export it)"
        )
    return path
