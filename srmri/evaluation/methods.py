"""The methods an evaluation compares: learned models and interpolation baselines.

A :class:`Method` is a name and a function from an LR batch ``(B, 1, h, w)`` to an SR batch
``(B, 1, h * scale, w * scale)``. Every baseline is a mode of :func:`srmri.models.upsample`, the one
definition the LightningModule also scores against, so all share one pixel-centre convention and
no method is shifted.

Volumes (a report with a 3-D checkpoint) are scored whole: every method maps the same LR volume
``(1, 1, x, y, z)`` to ``(1, 1, x s, y s, z s)``. The baselines are their 3-D modes (``tricubic``,
the cubic B-spline along every axis, is the reference in place of bicubic); a 3-D model runs as
``predict.py`` runs it (sliding windows, :class:`srmri.inference.volumes.VolumeResolver`); a slice
model super-resolves the LR volume's slices of one view and the cubic B-spline upsamples the axis
across them (a slice model cannot).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from srmri.data.volume import view_axis
from srmri.inference.options import PredictOptions
from srmri.inference.volumes import VolumeResolver
from srmri.lightning.module import SRModule
from srmri.models import bspline_resample, upsample
from srmri.models.interpolation import MODES

BASELINES = MODES
# Baselines of a volume report -> the 3-D mode of srmri.models.upsample they run.
VOLUME_BASELINES = {
    "tricubic": "bspline",
    "trilinear": "linear",
    "nearest": "nearest",
    "zero_fill": "zero_fill",
}
# A slice baseline asked for in a volume report -> its 3-D counterpart (None: it has none).
VOLUME_COUNTERPARTS = {
    "bicubic": "tricubic",
    "bspline": "tricubic",
    "linear": "trilinear",
    "nearest": "nearest",
    "zero_fill": "zero_fill",
    "lanczos": None,
}


@dataclass(frozen=True)
class Method:
    """One column of the comparison.

    Attributes:
        name: its name in ``metrics.csv`` and the figures.
        upscale: ``lr`` ``(B, 1, h, w)`` -> ``sr`` ``(B, 1, h * scale, w * scale)`` (volumes:
            ``(1, 1, x, y, z)`` -> ``(1, 1, x s, y s, z s)``).
        is_model: a learned model (scored against the reference baseline), not an interpolation.
    """

    name: str
    upscale: Callable[[Tensor], Tensor]
    is_model: bool


def baseline(name: str, scale: int) -> Method:
    """The interpolation baseline ``name`` (one of :data:`BASELINES`) at ``scale``."""
    if name not in BASELINES:
        raise ValueError(f"baseline must be one of {BASELINES}, got {name!r}")
    return Method(name, lambda lr: upsample(lr, scale, name), is_model=False)


def volume_baseline(name: str, scale: int) -> Method:
    """The 3-D interpolation baseline ``name`` (one of :data:`VOLUME_BASELINES`) at ``scale``."""
    if name not in VOLUME_BASELINES:
        raise ValueError(f"volume baseline must be one of {tuple(VOLUME_BASELINES)}, got {name!r}")
    mode = VOLUME_BASELINES[name]
    return Method(name, lambda lr: upsample(lr, scale, mode), is_model=False)


def volume_model(name: str, module: SRModule, options: PredictOptions) -> Method:
    """A 3-D checkpoint as ``predict.py`` applies it (``options``: windows, overlap, blend)."""
    resolver = VolumeResolver(module, options)

    def upscale(lr: Tensor) -> Tensor:
        return resolver(lr[0, 0]).to(lr.device)[None, None]

    return Method(name, upscale, is_model=True)


def slice_model_in_volume(
    name: str, module: SRModule, view: str, scale: int, batch_size: int
) -> Method:
    """A slice checkpoint on a volume: its ``view`` slices of the LR volume super-resolved in
    plane, then the cubic B-spline along the axis across them (LR plane ``j`` sits at HR
    coordinate ``(j + 0.5) s - 0.5`` like every srmri baseline)."""
    axis = 2 + view_axis(view)

    def upscale(lr: Tensor) -> Tensor:
        planes = lr[0, 0].movedim(axis - 2, 0)[:, None]  # (n, 1, h, w): the view's slices
        sr = torch.cat(
            [module(planes[i : i + batch_size]) for i in range(0, len(planes), batch_size)]
        )
        volume = sr[:, 0].movedim(0, axis - 2)[None, None]
        n = lr.shape[axis] * scale
        coordinates = (torch.arange(n, dtype=torch.float64) + 0.5) / scale - 0.5
        return bspline_resample(volume, coordinates, axis=axis)

    return Method(name, upscale, is_model=True)
