"""Super-resolve NIfTI volumes with a checkpoint: in memory, file to file, or many files at once.

- :func:`predict_volume`: a nibabel image (or a file) in, the SR nibabel image out, in memory.
- :func:`predict_file`: one file to one file, streamed (memory bounded by a batch of slices and the
  input volume, not by the output) and written atomically.
- :func:`predict_files`: a file, a folder or a glob pattern to an output file or folder.

Every slice of the chosen view is super-resolved in-plane (see :mod:`srmri.inference.geometry`)
on intensities normalised by the checkpoint's own normalisation, which is undone on the output
(see :mod:`srmri.inference.intensity`). 4-D inputs are super-resolved volume by volume. A 3-D
checkpoint (``spatial_dims == 3``) super-resolves the whole volume along all three axes instead,
window by window (see :mod:`srmri.inference.volumes`); ``view`` then plays no part.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from srmri.data import DataError, normalisation_config
from srmri.inference.geometry import Plane
from srmri.inference.intensity import encoder, measure_window, output_dtype, read_mask
from srmri.inference.nifti import (
    InputImage,
    open_input,
    output_header,
    read_volume,
    resampled_header,
)
from srmri.inference.options import PredictOptions
from srmri.inference.paths import check_output, plan_outputs
from srmri.inference.slices import SliceResolver, super_resolve_volume
from srmri.inference.volumes import VolumeResolver, super_resolve_whole_volume, volume_factors
from srmri.inference.writer import NiftiWriter
from srmri.io.checkpoints import check_grey
from srmri.lightning.module import SRModule

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Plan:
    """What one input turns into: the plane of its slices and the output header."""

    source: InputImage
    plane: Plane | None  # None for a 3-D checkpoint: every axis is upsampled
    header: nib.Nifti1Header


def _plan(source: InputImage, module: SRModule, options: PredictOptions) -> _Plan:
    if len(source.volumes) > 1 and options.volumes_4d == "error":
        raise DataError(
            f"{source.name}: shape {source.image.shape} holds {len(source.volumes)} volumes; "
            "expected a 3-D volume (volumes_4d=each super-resolves every volume)"
        )
    header = source.image.header
    dtype = output_dtype(header, options.dtype)
    if module.spatial_dims == 3:
        factors = volume_factors(module.scale)
        shape = tuple(
            n * module.scale if axis in factors else n
            for axis, n in enumerate(header.get_data_shape())
        )
        return _Plan(source, None, resampled_header(header, shape, factors, dtype, source.scaling))
    try:
        plane = Plane.from_affine(source.affine, options.view)
    except ValueError as error:
        raise DataError(f"{source.name}: {error}") from error
    return _Plan(source, plane, output_header(header, plane, module.scale, dtype, source.scaling))


def _options(options: PredictOptions | None, overrides: dict[str, Any]) -> PredictOptions:
    return replace(options or PredictOptions(), **overrides)


@contextlib.contextmanager
def progress_bar(
    enabled: bool, name: str, total: int, unit: str = "slices"
) -> Iterator[Callable[[int], None]]:
    """A progress bar over ``total`` items (``unit``) on stderr; yields ``advance(n)``."""
    console = Console(stderr=True)
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeRemainingColumn(),
        console=console,
        # On a pipe or in a log file a bar is one stale line (its last state): terminals only.
        disable=not enabled or not console.is_terminal,
    )
    with bar:
        task = bar.add_task(Path(name).name, total=total)
        yield lambda done: bar.advance(task, done)


def _super_resolve(
    plan: _Plan,
    module: SRModule,
    options: PredictOptions,
    out: np.ndarray,
    release: Callable[[], None] | None = None,
) -> None:
    """Fill ``out`` (the output grid) volume by volume; ``release`` runs after every batch."""
    source = plan.source
    check_grey(module, f"model {module.hparams.name!r}")
    mask = options.mask
    if mask is None and normalisation_config(module.hparams.normalisation)["use_mask"]:
        log.warning(
            "%s: the checkpoint measured its intensity windows inside brain masks; without "
            "mask=nonzero or mask=<brain mask file> this volume's window covers all its voxels",
            source.name,
        )
    if isinstance(mask, Path):
        mask = read_mask(mask, source.spatial_shape, source.affine)
    encode = encoder(out.dtype, source.scaling)
    if plan.plane is None:
        _super_resolve_volumes(plan, module, options, out, mask, encode, release)
        return
    resolver = SliceResolver(module, plan.plane, options)
    slices = source.spatial_shape[plan.plane.through]
    with progress_bar(options.progress, source.name, slices * len(source.volumes)) as advance:

        def after_batch(done: int) -> None:
            advance(done)
            if release is not None:
                release()

        for index in source.volumes:
            volume = read_volume(source, index)
            window = measure_window(volume, module.hparams.normalisation, mask, source.name)
            log.info(
                "%s%s: intensity window [%.6g, %.6g]",
                source.name,
                f" {index}" if index else "",
                *window,
            )
            target = out[(slice(None),) * 3 + index]
            super_resolve_volume(
                volume, window, resolver, target, encode, options.batch_size, after_batch
            )
            # Free this volume before the next one is read, so a series holds one at a time.
            del volume, target


def _super_resolve_volumes(
    plan: _Plan,
    module: SRModule,
    options: PredictOptions,
    out: np.ndarray,
    mask: np.ndarray | str | None,
    encode: Callable[[np.ndarray], np.ndarray],
    release: Callable[[], None] | None,
) -> None:
    """:func:`_super_resolve` of a 3-D checkpoint: each volume whole, along all three axes."""
    source = plan.source
    resolver = VolumeResolver(module, options)
    with progress_bar(options.progress, source.name, len(source.volumes), "volumes") as advance:
        for index in source.volumes:
            volume = read_volume(source, index)
            window = measure_window(volume, module.hparams.normalisation, mask, source.name)
            target = out[(slice(None),) * 3 + index]
            super_resolve_whole_volume(volume, window, resolver, target, encode)
            advance(1)
            if release is not None:
                release()
            del volume, target


def predict_volume(
    image: nib.Nifti1Pair | str | os.PathLike,
    module: SRModule,
    options: PredictOptions | None = None,
    **overrides: Any,
) -> nib.Nifti1Image:
    """Super-resolve a NIfTI image in memory.

    Args:
        image: a nibabel NIfTI image or the path of a NIfTI file (any orientation, data type,
            3-D or 4-D).
        module: a restored :class:`srmri.lightning.module.SRModule` (e.g. :func:`load_module`); it is not
            changed or moved.
        options: a :class:`PredictOptions`; keyword ``overrides`` replace its fields, e.g.
            ``predict_volume(image, module, view="coronal", tile=128)``.

    Returns:
        The SR image: the input's header with the upsampled shape, zooms, qform and sform, and
        float32 voxels in the input's intensity units. With ``dtype="input"`` an integer input's
        type becomes the header's on-disk type, which nibabel rounds and scales to when the
        image is saved (:func:`predict_file` writes the input's own scl_slope / scl_inter).

    Raises:
        FileNotFoundError, DataError: see :func:`open_input`, :func:`read_volume`.
        ValueError: a checkpoint that is not 1-channel or an invalid option.
    """
    options = _options(options, overrides)
    plan = _plan(open_input(image), module, options)
    header = plan.header
    data = np.empty(header.get_data_shape(), np.float32, order="F")
    _super_resolve(plan, module, options, data)
    image_class = nib.Nifti2Image if isinstance(header, nib.Nifti2Header) else nib.Nifti1Image
    return image_class(data, header.get_best_affine(), header)


def predict_file(
    input: str | os.PathLike,
    output: str | os.PathLike,
    module: SRModule,
    options: PredictOptions | None = None,
    **overrides: Any,
) -> Path:
    """Super-resolve the NIfTI file ``input`` into the file ``output`` (``.nii`` or ``.nii.gz``).

    The output is written under a temporary name in its folder and renamed when complete; the
    voxels stream to disk batch by batch. See :func:`predict_volume` for the arguments.

    Raises:
        FileNotFoundError, FileExistsError, DataError, ValueError: see :func:`check_output`,
            :func:`open_input`, :func:`read_volume`, :func:`srmri.io.checkpoints.check_grey`.
    """
    options = _options(options, overrides)
    source_path, output = Path(input), Path(output)
    check_output(output, source_path, options.overwrite)
    plan = _plan(open_input(source_path), module, options)
    with NiftiWriter(output, plan.header, options.compresslevel) as writer:
        _super_resolve(plan, module, options, writer.data, writer.release)
    return output


def predict_files(
    input: str | os.PathLike,
    output: str | os.PathLike,
    module: SRModule,
    options: PredictOptions | None = None,
    **overrides: Any,
) -> list[Path]:
    """Super-resolve a file, a folder or a glob pattern of NIfTI files (see :func:`plan_outputs`).

    Returns:
        The output files, in input order.
    """
    options = _options(options, overrides)
    jobs = plan_outputs(input, output, options)
    return [predict_file(source, target, module, options) for source, target in jobs]
