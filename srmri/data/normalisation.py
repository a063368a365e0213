"""The one intensity normalisation of srmri: a per-volume window ``(lo, hi)`` mapped to [0, 1].

Training, evaluation and prediction all measure the window with :func:`intensity_window` and apply
it with :func:`normalise`, so HR, LR, bicubic and SR images share one intensity scale and one fixed
data range of 1.0. :func:`denormalise` maps [0, 1] back to the scanner's units with the same window.

Config form (a mapping, e.g. ``data.normalisation``)::

    {"method": "percentile" | "minmax", "lower": 0.5, "upper": 99.5, "use_mask": True,
     "measured_on": "lr" | "hr"}

``percentile`` clips at the ``lower`` / ``upper`` percentiles (robust to a few hot voxels);
``minmax`` uses the extreme values. With ``use_mask`` the statistics come from voxels inside the
brain mask only, when the volume has one, so a large dark background does not set the window.

``measured_on`` says which image the window is measured on:

``lr`` (every config in ``conf/data/``)
    The LR image, in training as in prediction. Prediction measures it on its LR input; training
    and evaluation on the HR volume degraded slice by slice by the run's degradation
    (:func:`lr_window`, without noise, pooled over the data's views), with the brain mask taken to
    the LR grid. The window is applied to the HR volume WITHOUT clipping: the degradation then acts
    on the volume's own intensities, as the scanner's does, and the LR image (clamped to [0, 1] by
    the degradation) equals the input prediction normalises and clips. Every image a network sees
    or is scored against is clipped to [0, 1]: the LR by the degradation, the HR target by the
    module and the evaluation. A ``nonzero`` mask (skull-stripped data) is the voxels > 0 less a
    rim of :data:`RIM` voxels, so the dark rim that the blur spreads around the brain does not
    pull the lower bound towards 0.
``hr`` (srmri 0.1.0; a mapping without the key)
    The HR volume, which is normalised and clipped before it is degraded. Checkpoints written
    before the key existed keep this rule, so they evaluate as they did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch import Tensor

from srmri.degradation import BaseDegradation, crop_to_scale

METHODS = ("percentile", "minmax")
MEASURED_ON = ("lr", "hr")
# A mapping without ``measured_on`` was written before the key existed: it keeps the old rule.
DEFAULT_NORMALISATION = {
    "method": "percentile",
    "lower": 0.5,
    "upper": 99.5,
    "use_mask": True,
    "measured_on": "hr",
}
RIM = 2
"""Voxels removed from the surface of a ``nonzero`` mask when the window is measured on LR images."""
# Slices degraded per call while measuring a window: bounds the memory of the LR copy's pieces.
CHUNK = 32

Image = TypeVar("Image", np.ndarray, Tensor)


def normalisation_config(config: Mapping | None) -> dict:
    """Validate a normalisation mapping and fill in the defaults.

    Raises:
        ValueError: on an unknown key, an unknown method or percentiles outside ``0 <= lower < upper <= 100``.
    """
    config = dict(config or {})
    unknown = sorted(set(config) - set(DEFAULT_NORMALISATION))
    if unknown:
        raise ValueError(
            f"normalisation: unknown key(s) {unknown}; expected {sorted(DEFAULT_NORMALISATION)}"
        )
    config = {**DEFAULT_NORMALISATION, **config}
    if config["method"] not in METHODS:
        raise ValueError(f"normalisation.method must be one of {METHODS}, got {config['method']!r}")
    lower, upper = float(config["lower"]), float(config["upper"])
    if not 0.0 <= lower < upper <= 100.0:
        raise ValueError(
            f"normalisation.lower / upper must satisfy 0 <= lower < upper <= 100, got {lower}, {upper}"
        )
    if config["measured_on"] not in MEASURED_ON:
        raise ValueError(
            f"normalisation.measured_on must be one of {MEASURED_ON}, got {config['measured_on']!r}"
        )
    return {
        "method": config["method"],
        "lower": lower,
        "upper": upper,
        "use_mask": bool(config["use_mask"]),
        "measured_on": config["measured_on"],
    }


def intensity_window(
    image: np.ndarray | Tensor,
    mask: np.ndarray | Tensor | None = None,
    method: str = "percentile",
    lower: float = 0.5,
    upper: float = 99.5,
) -> tuple[float, float]:
    """Intensity window ``(lo, hi)`` of an image of any shape, from the voxels inside ``mask`` if given.

    Raises:
        ValueError: on an unknown method or a mask that selects no voxel.
    """
    values = image.detach().cpu().numpy() if isinstance(image, Tensor) else np.asarray(image)
    if mask is not None:
        keep = mask.detach().cpu().numpy() if isinstance(mask, Tensor) else np.asarray(mask)
        values = values[keep.astype(bool)]
    # Memory order: no copy of a Fortran-ordered (NIfTI) volume; the window ignores the order.
    values = values.ravel(order="K")
    if values.size == 0:
        raise ValueError("intensity_window: the mask selects no voxel")
    if method == "percentile":
        lo, hi = np.percentile(values, [lower, upper])
    elif method == "minmax":
        lo, hi = values.min(), values.max()
    else:
        raise ValueError(f"intensity_window: method must be one of {METHODS}, got {method!r}")
    return float(lo), float(hi)


def normalise(image: Image, lo: float, hi: float, clip: bool = True) -> Image:
    """Map ``[lo, hi]`` to [0, 1] and clip (unless ``clip`` is False); same type (array or
    tensor) and shape as ``image``.

    Raises:
        ValueError: if ``hi <= lo`` (an empty window, e.g. a constant image).
    """
    if not hi > lo:
        raise ValueError(f"normalise: empty intensity window lo={lo}, hi={hi}; expected hi > lo")
    scaled = (image - lo) / (hi - lo)
    if not clip:
        return scaled
    if isinstance(scaled, Tensor):
        return torch.clamp(scaled, 0.0, 1.0)
    return np.clip(scaled, 0.0, 1.0)


def denormalise(image: Image, lo: float, hi: float) -> Image:
    """Map [0, 1] back to the window ``[lo, hi]`` (the inverse of :func:`normalise` inside it)."""
    return image * (hi - lo) + lo


def interior_nonzero(image: np.ndarray | Tensor) -> np.ndarray:
    """Voxels > 0 of a 3-D image less a rim of :data:`RIM` voxels (all of them if none would stay).

    The ``nonzero`` mask of skull-stripped data when the window is measured on an LR image: the
    degradation's blur spreads a dark rim just outside the brain, which would otherwise count.
    """
    values = image.detach().cpu().numpy() if isinstance(image, Tensor) else np.asarray(image)
    nonzero = values > 0
    interior = ndimage.binary_erosion(nonzero, iterations=RIM)
    # Tiny or thin volumes: better the whole nonzero mask than no voxel at all.
    return interior if interior.any() else nonzero


def lr_window(
    image: Tensor,
    mask: Tensor | str | None,
    config: Mapping,
    degradation: BaseDegradation,
    axes: Sequence[int],
) -> tuple[float, float]:
    """The window of ``config`` measured on the LR images of an HR volume ``(X, Y, Z)``.

    The volume is degraded slice by slice along each of ``axes`` (the views' fixed axes) by
    ``degradation`` (noise left out: its level is defined in the units this window sets), and the
    window is measured on the LR voxels of all views together, inside ``mask`` taken to the LR
    grid when ``use_mask`` is set: a ``(X, Y, Z)`` bool brain mask by majority over each
    ``scale x scale`` block, ``"nonzero"`` by :func:`interior_nonzero` of each LR stack, as
    prediction takes it on an LR input.

    Raises:
        ValueError: a constant volume, or a mask that selects no LR voxel.
    """
    config = normalisation_config(config)
    low, high = float(image.min()), float(image.max())
    if not high > low:
        raise ValueError(f"the volume is constant ({low}); expected varying intensities")
    # The degradation works on [0, 1] and clamps to it: the volume's own range is mapped there
    # (min-max, so nothing is cut) and the measured window mapped back.
    unit = (image.float() - low) / (high - low)
    noiseless = degradation.noiseless()
    scale = degradation.scale
    if degradation.spatial_dims == 3:
        return _volume_lr_window(unit, mask, config, noiseless, (low, high))
    values, masks = [], []
    for axis in axes:
        stack = crop_to_scale(unit.movedim(axis, 0), scale)
        lr = torch.cat(
            [
                noiseless(stack[start : start + CHUNK, None])[:, 0]
                for start in range(0, stack.shape[0], CHUNK)
            ]
        )
        values.append(lr.flatten())
        if not config["use_mask"] or mask is None:
            continue
        if isinstance(mask, str):
            # "> 0" in the volume's own units, as prediction reads it on its input.
            masks.append(torch.from_numpy(interior_nonzero(lr * (high - low) + low)).flatten())
        else:
            block = crop_to_scale(mask.movedim(axis, 0), scale)[:, None].float()
            masks.append((F.avg_pool2d(block, scale)[:, 0] >= 0.5).flatten())
    pooled = torch.cat(values)
    measured = torch.cat(masks) if masks else None
    lo, hi = intensity_window(pooled, measured, config["method"], config["lower"], config["upper"])
    return low + lo * (high - low), low + hi * (high - low)


def _volume_lr_window(
    unit: Tensor,
    mask: Tensor | str | None,
    config: Mapping,
    noiseless: BaseDegradation,
    span: tuple[float, float],
) -> tuple[float, float]:
    """:func:`lr_window` of a 3-D degradation: the whole volume ``unit`` (min-max mapped to
    [0, 1]) degraded at once, a brain mask taken to the LR grid by majority over each
    ``scale^3`` block."""
    low, high = span
    scale = noiseless.scale
    hr = crop_to_scale(unit, scale, 3)[None, None]
    lr = noiseless(hr)[0, 0]
    measured = None
    if config["use_mask"] and mask is not None:
        if isinstance(mask, str):
            measured = torch.from_numpy(interior_nonzero(lr * (high - low) + low)).flatten()
        else:
            block = crop_to_scale(mask, scale, 3)[None, None].float()
            measured = (F.avg_pool3d(block, scale)[0, 0] >= 0.5).flatten()
    lo, hi = intensity_window(
        lr.flatten(), measured, config["method"], config["lower"], config["upper"]
    )
    return low + lo * (high - low), low + hi * (high - low)
