"""Export a trained checkpoint as a shipped, weights-only model and register its SHA-256.

``python -m srmri.pretrained.export <checkpoint.ckpt> <name> [--description TEXT] [--overwrite]``

The file written (``weights/<name>.pt``) is a ``torch.save``d dict of plain values and tensors,
shaped like a Lightning checkpoint so that :func:`srmri.io.checkpoints.load_module` restores it as
it restores any checkpoint:

- ``state_dict``: the network's inference weights (the EMA average when the module has one, as
  :attr:`SRModule.inference_network` uses for validation and prediction), as ``network.*``;
- ``hyper_parameters``: the module's config (network, degradation, normalisation, loss, optimiser,
  ...) as plain dicts, with the EMA off (its average *is* the network now) and no imported weights;
- ``scale``, ``srmri_version``, ``name`` and ``source`` (the checkpoint's file name, epoch, step).

No optimiser state, no callbacks, no Python objects: ``torch.load(..., weights_only=True)`` reads it.
An existing weights file is never replaced unless ``--overwrite`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

import srmri
from srmri.io.atomic import write_text_atomic
from srmri.io.checkpoints import load_checkpoint, load_module, save_atomic
from srmri.io.errors import CheckpointError, OutputExistsError, SrmriError
from srmri.lightning.module import SRModule
from srmri.pretrained.registry import (
    REGISTRY,
    WEIGHTS,
    pretrained_dir,
    read_registry,
    sha256_of,
)


def weights_only(module: SRModule, name: str, source: dict[str, Any]) -> dict[str, Any]:
    """The shipped file's content for ``module``: inference weights and plain configs only."""
    hparams = dict(module.hparams)
    hparams.update(ema={"enabled": False}, pretrained=None, compile=False)
    state = {
        f"network.{key}": value.detach().to("cpu", copy=True).contiguous()
        for key, value in module.inference_network.state_dict().items()
    }
    return {
        "state_dict": state,
        "hyper_parameters": hparams,
        "pytorch-lightning_version": pl.__version__,
        "srmri_version": srmri.__version__,
        "scale": module.scale,
        "name": name,
        "source": source,
    }


def export(
    checkpoint: str | os.PathLike,
    name: str,
    folder: Path | None = None,
    description: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``<folder>/weights/<name>.pt`` from ``checkpoint`` and record it in the registry.

    A name the registry does not know is added (its file ``<name>.pt``, the module's scale,
    ``description``); a known name keeps its entry, whose scale must be the module's. The file
    is written atomically, reloaded and checked to give the
    checkpoint's own outputs before the registry is updated.

    Returns:
        The weights file.

    Raises:
        MissingFileError, CheckpointError: see :func:`load_module`; or the scales differ, or the
            reloaded file does not reproduce the checkpoint.
        OutputExistsError: the weights file exists and ``overwrite`` is False.
    """
    folder = folder or pretrained_dir()
    checkpoint = Path(checkpoint)
    module = load_module(checkpoint)
    registry = read_registry(folder)
    models = registry["models"]
    known = models.get(name)
    if known is not None and int(known["scale"]) != module.scale:
        raise CheckpointError(
            f"{checkpoint}: a x{module.scale} network, but the registry's {name!r} is "
            f"x{known['scale']}; choose the name of a x{module.scale} model"
        )
    file_name = known["file"] if known else f"{name}.pt"
    target = folder / WEIGHTS / file_name
    if target.exists() and not overwrite:
        raise OutputExistsError(f"{target}: weights file exists; pass --overwrite to replace it")
    contents = load_checkpoint(checkpoint)
    source = {
        "file": checkpoint.name,
        "epoch": int(contents.get("epoch", -1)),
        "global_step": int(contents.get("global_step", -1)),
        "weights": "ema" if module.ema is not None else "network",
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    save_atomic(weights_only(module, name, source), target)
    _check_round_trip(module, load_module(target), target)
    entry = {
        "file": file_name,
        "sha256": sha256_of(target),
        "scale": module.scale,
        "description": description
        or (known or {}).get("description")
        or f"{module.hparams.name} x{module.scale}",
    }
    registry["models"][name] = entry
    registry["defaults"].setdefault(str(module.scale), name)
    write_text_atomic(folder / REGISTRY, json.dumps(registry, indent=2) + "\n")
    return target


def _check_round_trip(original: SRModule, shipped: SRModule, path: Path) -> None:
    """Refuse an export whose reloaded network does not reproduce the checkpoint's outputs."""
    generator = torch.Generator().manual_seed(0)
    lr = torch.rand(2, original.channels, 24, 24, generator=generator)
    with torch.no_grad():
        if not torch.equal(original(lr), shipped(lr)):
            path.unlink()
            raise CheckpointError(f"{path}: the exported network does not reproduce the checkpoint")


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``python -m srmri.pretrained.export <checkpoint> <name>``."""
    parser = argparse.ArgumentParser(
        prog="python -m srmri.pretrained.export",
        description="Export a train.py checkpoint as a shipped weights-only model and register "
        "its SHA-256 (srmri/pretrained/registry.json).",
    )
    parser.add_argument("checkpoint", help="a .ckpt written by train.py")
    parser.add_argument("name", help="the registry name, e.g. any_contrast_x2")
    parser.add_argument("--description", help="one line for the registry (new names)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing file")
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="the folder holding registry.json and weights/ (default: the package's, or "
        "$SRMRI_PRETRAINED_DIR)",
    )
    args = parser.parse_args(argv)
    try:
        path = export(args.checkpoint, args.name, args.dir, args.description, args.overwrite)
    except SrmriError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    print(f"{path} (sha256 {sha256_of(path)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
