"""Adapt a super-resolution model to the scan at hand (zero-shot SR in the style of ZSSR).

A scan is self-similar across scales: its own slices, degraded once more by the model's own
degradation, are LR/HR pairs of the kind the model must undo, and they need no high-resolution
data. :func:`adapt_to_input` normalises the input volume exactly as prediction will (the model's
normalisation, window measured on the input), cuts square HR patches of its slices in the view
being predicted (optionally all three; :class:`srmri.isotropic.data.InPlanePatches`: centred on
structure, random transposes and flips) and fine-tunes a copy of the model on them through the
same :class:`~srmri.lightning.module.SRModule` (which degrades every batch on the device) and
Lightning ``Trainer`` as ``train.py`` and ``isotropic.py`` (:func:`srmri.tasks.self_training.fit_on_scan`)
for the options' budget. The input is the only data it sees.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import nibabel as nib
import numpy as np
import pytorch_lightning as pl
import torch
from torch import Tensor

from srmri.adapt.options import AdaptOptions
from srmri.data import DataError, normalise
from srmri.inference.geometry import Plane
from srmri.inference.intensity import measure_window, read_mask
from srmri.inference.nifti import open_input, read_volume
from srmri.inference.options import PredictOptions
from srmri.io.checkpoints import save_atomic
from srmri.io.errors import OutputExistsError
from srmri.isotropic.data import BatchedPatches, InPlanePatches, PatchDataModule
from srmri.lightning.module import SRModule
from srmri.tasks.self_training import fit_on_scan, schedule_config, torch_threads

log = logging.getLogger(__name__)

# Optimiser steps per Lightning epoch (a unit of logging only: samples never run out).
STEPS_PER_EPOCH = 50


class ScanPatches(BatchedPatches):
    """HR patches ``(1, P, P)`` of a volume's slices along one or more voxel axes.

    Args:
        volume: ``(X, Y, Z)`` float32, normalised by the model's normalisation (not clipped: the
            module clips the target and its degradation clips the LR, as in training).
        axes: the voxel axes whose slices are used (the through axis of each view).
        patch: the patch side; a view whose slices are smaller is left out.
        seed: sampling seed (samples are a pure function of ``(seed, key)``).
        samples_per_epoch: patches per epoch.

    Sample ``key`` comes from view ``key % n_views`` (its sample ``key // n_views``), so every
    batch mixes the views evenly.

    Raises:
        DataError: no view has slices of at least ``patch`` x ``patch``.
    """

    def __init__(
        self,
        volume: np.ndarray,
        axes: Sequence[int],
        patch: int,
        seed: int,
        samples_per_epoch: int,
    ) -> None:
        self.views = [
            InPlanePatches(
                np.moveaxis(volume, axis, 0), patch, patch, seed + axis, samples_per_epoch
            )
            for axis in axes
            if min(s for i, s in enumerate(volume.shape) if i != axis) >= patch
        ]
        if not self.views:
            raise DataError(
                f"adapt: the slices of shape {volume.shape} are smaller than a {patch} x {patch} "
                "training patch; lower adapt.patch_size"
            )
        self.samples_per_epoch = samples_per_epoch

    def __getitems__(self, keys: Sequence[int]) -> dict[str, Tensor]:
        n = len(self.views)
        parts = [self.views[key % n].__getitems__([key // n])["hr"] for key in keys]
        return {"hr": torch.cat(parts)}


def patch_side(options: AdaptOptions, scale: int, volume_shape: Sequence[int], axis: int) -> int:
    """The HR patch side: ``options.patch_size``, at most the view's smaller in-plane side,
    rounded down to a multiple of ``scale`` (so the LR patch is whole)."""
    side = min(options.patch_size, *(s for i, s in enumerate(volume_shape) if i != axis))
    return max(scale, side - side % scale)


def adaptable(module: SRModule, options: AdaptOptions) -> SRModule:
    """A trainable copy of ``module``: its inference weights (random ones with ``from_scratch``),
    network, degradation, normalisation and loss, with Adam at ``options.rate``, a cosine decay
    over the budget and no EMA (the fine-tuned weights themselves predict)."""
    hparams = dict(module.hparams)
    hparams.update(
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True, "lr": options.rate},
        scheduler=schedule_config(options.parsed_budget),
        ema={"enabled": False},
        pretrained=None,
        compile=False,
        images={"every_n_epochs": 0},
    )
    torch.manual_seed(options.seed)
    adapted = SRModule(**hparams)
    if not options.from_scratch:
        adapted.network.load_state_dict(module.inference_network.state_dict())
    return adapted


def adapt_to_volume(
    volume: np.ndarray,
    module: SRModule,
    axes: Sequence[int],
    options: AdaptOptions,
    run_dir: Path | None = None,
    name: str = "scan",
    progress: bool = True,
) -> SRModule:
    """Fine-tune a copy of ``module`` on the slices of ``volume`` along ``axes``.

    Args:
        volume: ``(X, Y, Z)`` float32, normalised by the module's normalisation.
        module: the model to start from (not changed).
        axes: voxel axes whose slices train it; the first is the predicted view's.
        options: budget, rate, patches, seed, logger.
        run_dir: where a W&B run goes (``options.logger="wandb"``); None writes nothing.
        name: the run's name.
        progress: Lightning's progress bar.

    Returns:
        The adapted module, in eval mode (``trained_steps``: the optimiser steps taken).
    """
    pl.seed_everything(options.seed, workers=True, verbose=False)
    patch = patch_side(options, module.scale, volume.shape, axes[0])
    samples = STEPS_PER_EPOCH * options.batch_size
    dataset = ScanPatches(volume, axes, patch, options.seed, samples)
    adapted = adaptable(module, options)
    logging_dir = run_dir if options.logger == "wandb" else None
    with torch_threads(options.threads):
        return fit_on_scan(
            adapted,
            PatchDataModule(dataset, options.batch_size),
            options.parsed_budget,
            logging_dir,
            name,
            logger=options.logger,
            progress=progress,
            job_type="adapt",
            keep_last=False,
            amp_dtype=options.amp_dtype,
        )


def check_save(options: AdaptOptions, overwrite: bool) -> None:
    """Refuse, before any work, an ``adapt.save`` file that exists (unless ``overwrite``)."""
    path = options.save_path
    if path is not None and path.exists() and not overwrite:
        raise OutputExistsError(f"{path}: adapt.save exists; pass overwrite=true to replace it")


def save_adapted(module: SRModule, path: Path, overwrite: bool, source: str) -> Path:
    """Write the adapted module to ``path`` as a weights-only checkpoint (atomically).

    Raises:
        OutputExistsError: ``path`` exists and ``overwrite`` is False.
    """
    from srmri.pretrained.export import weights_only

    check_save(AdaptOptions(save=str(path)), overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    steps = int(getattr(module, "trained_steps", -1))
    save_atomic(weights_only(module, path.stem, {"file": source, "adapted_steps": steps}), path)
    return path


def adapt_to_input(
    source: str | os.PathLike | nib.Nifti1Pair,
    module: SRModule,
    options: AdaptOptions,
    predict_options: PredictOptions,
    run_dir: Path | None = None,
    overwrite: bool = False,
) -> SRModule:
    """Fine-tune ``module`` on the NIfTI ``source`` itself, as prediction will see it.

    The volume (the first of a 4-D series) is normalised by the module's normalisation with the
    window measured on it (inside ``predict_options.mask`` when the module uses masks), exactly
    as :func:`srmri.inference.predict_file` will; the slices of ``predict_options.view`` (and of
    the other two views with ``options.all_views``) train the copy. With ``options.save`` the
    adapted module is written there.

    Raises:
        MissingFileError, DataError: see :func:`open_input`, :func:`read_volume`.
        OutputExistsError: ``options.save`` exists and ``overwrite`` is False.
    """
    check_save(options, overwrite)
    image = open_input(source)
    plane = Plane.from_affine(image.affine, predict_options.view)
    volume = read_volume(image, image.volumes[0])
    mask = predict_options.mask
    if isinstance(mask, Path):
        mask = read_mask(mask, image.spatial_shape, image.affine)
    lo, hi = measure_window(volume, module.hparams.normalisation, mask, image.name)
    normalised = normalise(volume, lo, hi, clip=False).astype(np.float32)
    axes = [plane.through, *(a for a in range(3) if a != plane.through and options.all_views)]
    adapted = adapt_to_volume(
        normalised,
        module,
        axes,
        options,
        run_dir,
        f"adapt-{Path(image.name).name}",
        predict_options.progress,
    )
    log.info("%s: adapted for %d steps", image.name, adapted.trained_steps)
    if options.save_path is not None:
        save_adapted(adapted, options.save_path, overwrite, Path(image.name).name)
        log.info("adapted model saved to %s", options.save_path)
    return adapted
