"""The one intensity normalisation of srmri: a per-volume window ``(lo, hi)`` mapped to [0, 1].

Training, evaluation and prediction all go through :func:`intensity_window` and :func:`normalise`,
so HR, LR, bicubic and SR images share one intensity scale and one fixed data range of 1.0.
:func:`denormalise` maps [0, 1] back to the scanner's units with the same window.

Config form (a mapping, e.g. ``data.normalisation``)::

    {"method": "percentile" | "minmax", "lower": 0.5, "upper": 99.5, "use_mask": True}

``percentile`` clips at the ``lower`` / ``upper`` percentiles (robust to a few hot voxels);
``minmax`` uses the extreme values. With ``use_mask`` the statistics come from voxels inside the
brain mask only, when the volume has one, so a large dark background does not set the window.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import numpy as np
import torch
from torch import Tensor

METHODS = ("percentile", "minmax")
DEFAULT_NORMALISATION = {"method": "percentile", "lower": 0.5, "upper": 99.5, "use_mask": True}

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
    return {
        "method": config["method"],
        "lower": lower,
        "upper": upper,
        "use_mask": bool(config["use_mask"]),
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


def normalise(image: Image, lo: float, hi: float) -> Image:
    """Map ``[lo, hi]`` to [0, 1] and clip; same type (array or tensor) and shape as ``image``.

    Raises:
        ValueError: if ``hi <= lo`` (an empty window, e.g. a constant image).
    """
    if not hi > lo:
        raise ValueError(f"normalise: empty intensity window lo={lo}, hi={hi}; expected hi > lo")
    scaled = (image - lo) / (hi - lo)
    if isinstance(scaled, Tensor):
        return torch.clamp(scaled, 0.0, 1.0)
    return np.clip(scaled, 0.0, 1.0)


def denormalise(image: Image, lo: float, hi: float) -> Image:
    """Map [0, 1] back to the window ``[lo, hi]`` (the inverse of :func:`normalise` inside it)."""
    return image * (hi - lo) + lo
