"""Intensities of a prediction: the checkpoint's normalisation window and the output data type.

The window comes from :func:`srmri.data.intensity_window` with the checkpoint's
``hparams.normalisation``, measured on each LR input volume (inside a brain mask when the config
says ``use_mask`` and a mask is given). A checkpoint with ``measured_on: lr`` measured its training
windows the same way, on the LR images of its HR volumes, so the network sees the intensities it
was trained on; with ``mask=nonzero`` both take the voxels > 0 less a thin rim
(:func:`srmri.data.normalisation.interior_nonzero`). A checkpoint of srmri 0.1.0 (``measured_on:
hr``) measured on HR volumes; its inputs are measured as before, on the LR input with every voxel
> 0. The network works on [0, 1]; its output, clamped to [0, 1], is mapped back with
:func:`srmri.data.denormalise`, so the output is in the input's units and inside ``[lo, hi]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import nibabel as nib
import numpy as np

from srmri.data import NONZERO, DataError, intensity_window, normalisation_config
from srmri.data.normalisation import interior_nonzero
from srmri.data.volume import AFFINE_TOLERANCE_MM
from srmri.io.errors import MissingFileError

Encoder = Callable[[np.ndarray], np.ndarray]


def read_mask(path: Path, shape: tuple[int, int, int], affine: np.ndarray) -> np.ndarray:
    """A brain mask NIfTI (voxels > 0) on the grid ``shape`` / ``affine`` of the input.

    Raises:
        MissingFileError: the file does not exist.
        DataError: the file cannot be read, lies on another grid or selects no voxel.
    """
    try:
        image = nib.load(path)
        mask = np.asanyarray(image.dataobj) > 0
    except FileNotFoundError:
        raise MissingFileError(f"{path}: brain mask file not found (mask=...)") from None
    except Exception as error:
        raise DataError(f"{path}: cannot read the brain mask as NIfTI ({error})") from error
    if mask.shape[:3] != shape or mask.size != np.prod(shape):
        raise DataError(f"{path}: mask shape {mask.shape} differs from the input's {shape}")
    if not np.allclose(image.affine, affine, atol=AFFINE_TOLERANCE_MM):
        raise DataError(f"{path}: mask affine differs from the input's; expected the same grid")
    if not mask.any():
        raise DataError(f"{path}: brain mask is empty; expected some voxels > 0")
    return mask.reshape(shape)


def measure_window(
    volume: np.ndarray,
    normalisation: Mapping,
    mask: np.ndarray | str | None,
    name: str,
) -> tuple[float, float]:
    """``(lo, hi)`` of the checkpoint's normalisation on ``volume`` ``(X, Y, Z)``.

    Args:
        volume: input intensities.
        normalisation: the checkpoint's ``hparams.normalisation``.
        mask: a boolean mask of ``volume``'s shape, ``"nonzero"`` or None; used only when the
            normalisation has ``use_mask``.
        name: the input, for messages.

    Raises:
        DataError: an empty window (a constant volume) or a ``nonzero`` mask with no voxel > 0.
    """
    config = normalisation_config(normalisation)
    if not config["use_mask"]:
        mask = None
    elif isinstance(mask, str) and mask == NONZERO:
        mask = interior_nonzero(volume) if config["measured_on"] == "lr" else volume > 0
        if not mask.any():
            raise DataError(f"{name}: mask 'nonzero' is empty; the volume has no voxel > 0")
    lo, hi = intensity_window(volume, mask, config["method"], config["lower"], config["upper"])
    if not hi > lo:
        raise DataError(
            f"{name}: empty intensity window lo={lo}, hi={hi} (a constant volume?); "
            "expected varying intensities"
        )
    return lo, hi


def output_dtype(header: nib.Nifti1Header, mode: str) -> np.dtype:
    """float32, or with ``mode="input"`` an integer input's own on-disk type."""
    stored = header.get_data_dtype()
    if mode == "input" and np.issubdtype(stored, np.integer):
        return stored.newbyteorder("=")
    return np.dtype(np.float32)


def encoder(dtype: np.dtype, scaling: tuple[float, float]) -> Encoder:
    """float32 intensities -> values to store as ``dtype`` with ``scaling`` (slope, inter).

    Integers are stored as ``round((value - scl_inter) / scl_slope)``, clipped to the type's range,
    so a reader that applies the scaling gets the values back to within half a step.
    """
    if not np.issubdtype(dtype, np.integer):
        return lambda values: values.astype(dtype, copy=False)
    slope, inter = scaling
    limits = np.iinfo(dtype)

    def encode(values: np.ndarray) -> np.ndarray:
        stored = np.rint((values.astype(np.float64) - inter) / slope)
        return np.clip(stored, limits.min, limits.max).astype(dtype)

    return encode
