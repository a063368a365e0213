"""Which files a prediction reads and writes: inputs from a file, a folder or a glob pattern,
outputs planned and checked before any work starts."""

from __future__ import annotations

import os
from glob import glob
from pathlib import Path
from typing import Protocol

from srmri.inference.nifti import is_nifti_name
from srmri.inference.options import PredictOptions
from srmri.io.errors import ConfigError, MissingFileError, OutputExistsError

GLOB_CHARACTERS = "*?["


class OutputOptions(Protocol):
    """What :func:`plan_outputs` reads of a run's options."""

    overwrite: bool


def check_output(output: Path, source: Path | None, overwrite: bool) -> None:
    """Refuse an output that cannot or must not be written.

    Raises:
        ConfigError: the name does not end in ``.nii`` / ``.nii.gz``, or it is the input itself.
        MissingFileError: its folder does not exist.
        OutputExistsError: it exists and ``overwrite`` is false.
    """
    if not is_nifti_name(output):
        raise ConfigError(f"{output}: output name must end in .nii or .nii.gz")
    if not output.parent.is_dir():
        raise MissingFileError(f"{output.parent}: output folder does not exist; create it first")
    if source is not None and output.exists() and output.resolve() == source.resolve():
        raise ConfigError(f"{output}: output is the input file itself; choose another name")
    if output.exists() and not overwrite:
        raise OutputExistsError(f"{output}: output exists; pass overwrite=true to replace it")


def find_inputs(input: str | os.PathLike) -> list[Path]:
    """The NIfTI files named by ``input``: a file, a folder (its ``.nii`` / ``.nii.gz`` files) or
    a glob pattern, sorted.

    Raises:
        MissingFileError: nothing exists there, or no NIfTI file matches.
    """
    text = str(input)
    path = Path(text)
    if path.is_file():
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and is_nifti_name(p))
    elif any(character in text for character in GLOB_CHARACTERS):
        found = sorted(p for p in map(Path, glob(text)) if p.is_file() and is_nifti_name(p))
    else:
        raise MissingFileError(f"{text}: input not found; expected a file, a folder or a pattern")
    if not found:
        raise MissingFileError(f"{text}: no .nii or .nii.gz file found there")
    return found


def plan_outputs(
    input: str | os.PathLike, output: str | os.PathLike, options: PredictOptions | OutputOptions
) -> list[tuple[Path, Path]]:
    """``(input file, output file)`` pairs, all checked before any work starts.

    ``options`` needs ``overwrite`` (and ``mask`` when it names one brain-mask file), as
    :class:`PredictOptions` and :class:`srmri.isotropic.options.IsotropicOptions` have.

    One input file goes to ``output`` (a file name, or an existing folder to keep the input's
    name); several (a folder or a pattern) go to the existing folder ``output`` under their own
    names.

    Raises:
        MissingFileError, OutputExistsError, ConfigError: a missing input or output folder, an
            existing output without ``overwrite``, two inputs with one name, a bad output name,
            one brain-mask file for several inputs.
    """
    inputs = find_inputs(input)
    target = Path(output)
    several = len(inputs) > 1 or not Path(input).is_file()
    if several and not target.is_dir():
        raise MissingFileError(
            f"{target}: output folder does not exist; several inputs ({input}) need an existing "
            "output folder"
        )
    outputs = [target / path.name for path in inputs] if target.is_dir() else [target]
    names = [path.name for path in outputs]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise ConfigError(f"{input}: several inputs share the output name(s) {clashes}")
    mask = getattr(options, "mask", None)
    if isinstance(mask, Path) and len(inputs) > 1:
        raise ConfigError(
            f"mask={mask} is one brain mask but {len(inputs)} inputs were given; use "
            "mask=nonzero or one input at a time"
        )
    for source, destination in zip(inputs, outputs, strict=True):
        check_output(destination, source, options.overwrite)
    return list(zip(inputs, outputs, strict=True))
