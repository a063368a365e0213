"""Thick-slice NIfTI volumes to isotropic ones: in memory, file to file, or many files at once.

- :func:`isotropic_volume`: a nibabel image (or a file) in, the isotropic nibabel image out.
- :func:`isotropic_file`: one file to one file, written atomically.
- :func:`isotropic_files`: a file, a folder or a glob pattern to an output file or folder.

Each input's slice axis and factor ``k`` come from its header (:mod:`srmri.isotropic.grid`); a
network is trained on its own in-plane slices (:mod:`srmri.isotropic.training`) unless a trained
module is given, and applied along the slice axis (:mod:`srmri.isotropic.apply`) on intensities
normalised to [0, 1], which is undone on the output. ``method="cubic"`` writes the cubic B-spline
interpolation on the same grid instead. A 4-D file is treated volume by volume (one network,
trained on its first volume) or refused (``volumes_4d="error"``).
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import torch

from srmri.data import DataError, denormalise, normalise
from srmri.inference.intensity import measure_window
from srmri.inference.nifti import InputImage, open_input, read_volume, resampled_header
from srmri.inference.paths import check_output, plan_outputs
from srmri.inference.predict import progress_bar
from srmri.inference.writer import NiftiWriter
from srmri.io.errors import CheckpointError
from srmri.isotropic.apply import interpolate, super_resolve
from srmri.isotropic.grid import Acquisition, find_acquisition
from srmri.isotropic.options import IsotropicOptions
from srmri.isotropic.training import NORMALISATION, train_module
from srmri.lightning.module import SRModule
from srmri.tasks.self_training import torch_threads

log = logging.getLogger(__name__)

# A trained network upsamples by its own factor; it fits a scan whose k differs by at most this.
FACTOR_TOLERANCE = 0.01


@dataclass
class Report:
    """What one input became: the output, its acquisition, and where the time went."""

    input: str
    output: str | None
    acquisition: Acquisition
    method: str
    train_seconds: float = 0.0
    apply_seconds: float = 0.0
    steps: int = 0


def _options(options: IsotropicOptions | None, overrides: dict[str, Any]) -> IsotropicOptions:
    return replace(options or IsotropicOptions(), **overrides)


def plan(source: InputImage, options: IsotropicOptions) -> Acquisition:
    """The acquisition of ``source`` under ``options`` (refusing what cannot be made isotropic).

    Raises:
        DataError: a 4-D file with ``volumes_4d="error"``, or see :func:`find_acquisition`.
    """
    if len(source.volumes) > 1 and options.volumes_4d == "error":
        raise DataError(
            f"{source.name}: shape {source.image.shape} holds {len(source.volumes)} volumes; "
            "expected a 3-D volume (volumes_4d=each treats every volume alike)"
        )
    zooms = source.image.header.get_zooms()[:3]
    return find_acquisition(
        zooms, source.spatial_shape, source.name, options.axis, options.thickness
    )


def check_module(module: SRModule, acquisition: Acquisition, name: str) -> None:
    """Refuse a trained module whose network's factor is not this scan's ``k``."""
    factor = getattr(module.network, "factor", None)
    if factor is None:
        raise CheckpointError(
            f"{name}: the checkpoint's network ({module.hparams.name}) does not upsample one axis; "
            "expected a checkpoint written by isotropic.py"
        )
    if not math.isclose(factor, acquisition.factor, rel_tol=FACTOR_TOLERANCE):
        raise DataError(
            f"{name}: the checkpoint upsamples by k={factor:.4g} but this scan needs "
            f"k={acquisition.factor:.4g} ({acquisition.spacing:g} mm slices, "
            f"{acquisition.in_plane:g} mm pixels); train on this scan instead"
        )


def _make_isotropic(
    source: InputImage,
    acquisition: Acquisition,
    options: IsotropicOptions,
    out: np.ndarray,
    module: SRModule | None,
    run_dir: Path | None,
) -> Report:
    """Fill ``out`` (the output grid, 3-D or 4-D) volume by volume."""
    report = Report(source.name, None, acquisition, options.method)
    axis, rows = acquisition.axis, acquisition.thin_slices
    if module is not None:
        check_module(module, acquisition, source.name)
    with torch_threads(options.threads):
        for index in source.volumes:
            volume = read_volume(source, index)
            target = (slice(None),) * 3 + index
            if options.method == "cubic":
                started = time.perf_counter()
                out[target] = interpolate(torch.from_numpy(volume), axis, rows).numpy()
                report.apply_seconds += time.perf_counter() - started
                continue
            lo, hi = measure_window(volume, NORMALISATION, None, source.name)
            normalised = normalise(torch.from_numpy(volume), lo, hi)
            if module is None:
                started = time.perf_counter()
                slices = normalised.movedim(axis, 0).numpy()
                module = train_module(slices, acquisition, options, run_dir, Path(source.name).name)
                report.train_seconds = time.perf_counter() - started
                report.steps = int(getattr(module, "trained_steps", 0))
            started = time.perf_counter()
            planes = sum(source.spatial_shape) - source.spatial_shape[axis]
            with progress_bar(options.progress, source.name, planes, "planes") as advance:
                thin = super_resolve(
                    normalised,
                    axis,
                    module.inference_network,
                    options.batch_size,
                    advance,
                    options.flips,
                    options.amp_dtype,
                )
            out[target] = denormalise(thin.clamp(0.0, 1.0), lo, hi).numpy()
            report.apply_seconds += time.perf_counter() - started
            del volume, normalised, thin
    return report


def _header(source: InputImage, acquisition: Acquisition) -> nib.Nifti1Header:
    header = source.image.header
    shape = acquisition.output_shape(header.get_data_shape())
    factors = {acquisition.axis: acquisition.grid_factor}
    return resampled_header(header, shape, factors, np.dtype(np.float32), (1.0, 0.0))


def isotropic_volume(
    image: nib.Nifti1Pair | str | os.PathLike,
    options: IsotropicOptions | None = None,
    module: SRModule | None = None,
    run_dir: str | os.PathLike | None = None,
    **overrides: Any,
) -> nib.Nifti1Image:
    """Make a thick-slice NIfTI image isotropic, in memory.

    Args:
        image: a nibabel NIfTI image or the path of a NIfTI file (3-D, or 4-D volume by volume).
        options: an :class:`IsotropicOptions`; keyword ``overrides`` replace its fields, e.g.
            ``isotropic_volume(image, budget=200, profile="rect")``.
        module: a trained module (:func:`srmri.io.checkpoints.load_module` of a checkpoint
            written by ``isotropic.py``) to apply instead of training one.
        run_dir: where training writes its checkpoint and W&B run; None writes nothing.

    Returns:
        The isotropic image: the input's in-plane grid, ``round(n * k)`` thin slices over the
        thick slices' field of view, qform / sform recomputed (codes kept), float32 voxels in the
        input's units.

    Raises:
        FileNotFoundError, DataError: see :func:`open_input`, :func:`read_volume`, :func:`plan`.
        CheckpointError: ``module`` does not upsample one axis.
    """
    options = _options(options, overrides)
    source = open_input(image)
    acquisition = plan(source, options)
    header = _header(source, acquisition)
    data = np.empty(header.get_data_shape(), np.float32, order="F")
    run = Path(run_dir) if run_dir is not None else None
    _make_isotropic(source, acquisition, options, data, module, run)
    image_class = nib.Nifti2Image if isinstance(header, nib.Nifti2Header) else nib.Nifti1Image
    return image_class(data, header.get_best_affine(), header)


def isotropic_file(
    input: str | os.PathLike,
    output: str | os.PathLike,
    options: IsotropicOptions | None = None,
    module: SRModule | None = None,
    run_dir: str | os.PathLike | None = None,
    **overrides: Any,
) -> Report:
    """Make the NIfTI file ``input`` isotropic into ``output`` (``.nii`` / ``.nii.gz``), written
    under a temporary name and renamed when complete. See :func:`isotropic_volume`.

    Raises:
        FileExistsError: ``output`` exists and ``overwrite`` is false; and see
            :func:`isotropic_volume`, :func:`srmri.inference.paths.check_output`.
    """
    options = _options(options, overrides)
    source_path, output = Path(input), Path(output)
    check_output(output, source_path, options.overwrite)
    source = open_input(source_path)
    acquisition = plan(source, options)
    header = _header(source, acquisition)
    run = Path(run_dir) if run_dir is not None else None
    with NiftiWriter(output, header, options.compresslevel) as writer:
        report = _make_isotropic(source, acquisition, options, writer.data, module, run)
    report.output = str(output)
    return report


def isotropic_files(
    input: str | os.PathLike,
    output: str | os.PathLike,
    options: IsotropicOptions | None = None,
    module: SRModule | None = None,
    run_dir: str | os.PathLike | None = None,
    **overrides: Any,
) -> list[Report]:
    """Make a file, a folder or a glob pattern of NIfTI files isotropic (see :func:`srmri.inference.paths.plan_outputs`).

    Every input trains its own network (unless ``module`` is given); with several inputs each
    run writes under ``run_dir/<input name>/``.
    """
    options = _options(options, overrides)
    jobs = plan_outputs(input, output, options)
    reports = []
    for source, target in jobs:
        run = None
        if run_dir is not None:
            run = Path(run_dir) / source.name if len(jobs) > 1 else Path(run_dir)
        reports.append(isotropic_file(source, target, options, module, run))
        log.info("%s -> %s", source, target)
    return reports
