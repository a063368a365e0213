"""Loading one volume into the normalised, RAS-oriented grid, and slicing it along a view.

Axis convention: after loading, a volume is ``(X, Y, Z)`` in RAS orientation, i.e. X runs left ->
right, Y posterior -> anterior, Z inferior -> superior, whatever orientation the file was stored in.
A view names the axis that is held fixed:

========  ==========  ==================  =====================
view      fixed axis  slice_of(...)       2-D slice ``(H, W)``
========  ==========  ==================  =====================
axial     Z (2)       ``image[:, :, k]``  ``(X, Y)``
coronal   Y (1)       ``image[:, k, :]``  ``(X, Z)``
sagittal  X (0)       ``image[k, :, :]``  ``(Y, Z)``
========  ==========  ==================  =====================
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
from monai.data import MetaTensor
from monai.transforms import EnsureChannelFirstd, LoadImaged, Orientationd
from torch import Tensor

from srmri.data.normalisation import intensity_window, lr_window, normalisation_config, normalise
from srmri.data.records import NONZERO, DataError, VolumeRecord
from srmri.degradation import BaseDegradation
from srmri.io.errors import MissingFileError

VIEWS = ("axial", "coronal", "sagittal")
VIEW_AXIS = {"axial": 2, "coronal": 1, "sagittal": 0}
AFFINE_TOLERANCE_MM = 1e-2
GZIP_MAGIC = b"\x1f\x8b"
# Deflate never expands data more than about 1032-fold, which bounds what a .gz file can hold.
MAX_DEFLATE_RATIO = 1032


@dataclass
class Volume:
    """A loaded volume, ready to slice.

    Attributes:
        record: where it came from.
        image: ``(X, Y, Z)`` float32, RAS-oriented, normalised: the window maps to [0, 1];
            clipped to it when the window is measured on HR (``measured_on: hr``), not clipped
            when it is measured on LR (the degradation sees the volume's own intensities; the
            module and the evaluation clip the HR target).
        mask: ``(X, Y, Z)`` bool brain mask on the same grid, or None.
        affine: 4x4 voxel -> world (mm) matrix of the RAS-oriented grid (of the slab, if any).
        window: ``(lo, hi)`` given to :func:`normalise`; :func:`denormalise` restores intensities.
    """

    record: VolumeRecord
    image: Tensor
    mask: Tensor | None
    affine: np.ndarray
    window: tuple[float, float]


def view_axis(view: str) -> int:
    """The axis of ``(X, Y, Z)`` that a view holds fixed."""
    if view not in VIEW_AXIS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    return VIEW_AXIS[view]


def num_slices(shape: tuple[int, int, int], view: str) -> int:
    """Number of slices of a volume of ``shape`` ``(X, Y, Z)`` along ``view``."""
    return int(shape[view_axis(view)])


def slice_shape(shape: tuple[int, int, int], view: str) -> tuple[int, int]:
    """``(H, W)`` of the slices of a volume of ``shape`` along ``view``."""
    axis = view_axis(view)
    height, width = (size for i, size in enumerate(shape) if i != axis)
    return height, width


def slice_of(image: Tensor | np.ndarray, view: str, index: int) -> Tensor | np.ndarray:
    """The 2-D slice ``(H, W)`` of an ``(X, Y, Z)`` volume (see the module table); a view, no copy."""
    axis = view_axis(view)
    if not 0 <= index < image.shape[axis]:
        raise IndexError(
            f"{view} slice {index} is outside 0..{image.shape[axis] - 1} of a volume {tuple(image.shape)}"
        )
    key = [slice(None)] * 3
    key[axis] = index
    return image[tuple(key)]


def load_volume(
    record: VolumeRecord,
    normalisation: Mapping | None = None,
    degradation: BaseDegradation | None = None,
    views: Sequence[str] = ("axial",),
) -> Volume:
    """Load, orient to RAS, check and normalise one record (MONAI dictionary transforms).

    The intensity window is computed on the whole volume (inside the mask when the config asks for
    it and a mask exists) before any slab is cut out, so every block of one volume shares one window.
    With ``measured_on: lr`` it is measured on the volume degraded by ``degradation`` along
    ``views`` (see :func:`srmri.data.normalisation.lr_window`), and the volume is not clipped.

    Raises:
        MissingFileError: the image or mask file does not exist.
        DataError: the file is not a 3-D volume (or lacks the record's channel), has NaN/Inf voxels,
            a mask of another shape or grid, an empty mask, or a constant image.
        ValueError: ``measured_on: lr`` without a degradation.
    """
    config = normalisation_config(normalisation)
    on_lr = config["measured_on"] == "lr"
    if on_lr and degradation is None:
        raise ValueError(
            f"{record.name}: normalisation.measured_on=lr measures the window on the LR image, "
            "so it needs the run's degradation"
        )
    _check_header(record)
    raw = read_nifti(record.image)
    image = raw.as_tensor()[record.channel if record.channel is not None else 0]
    bad = int((~torch.isfinite(image)).sum())
    if bad:
        raise DataError(f"{record.name}: {bad} NaN/Inf voxels; expected finite intensities")
    affine = raw.affine.numpy()
    mask = _load_mask(record, image, affine)
    measured_in = mask if config["use_mask"] else None
    try:
        if on_lr:
            # A nonzero mask is taken on the LR images themselves, as prediction takes it.
            where = NONZERO if record.mask == NONZERO else measured_in
            axes = [view_axis(view) for view in views]
            lo, hi = lr_window(image, where, config, degradation, axes)
        else:
            lo, hi = intensity_window(
                image, measured_in, config["method"], config["lower"], config["upper"]
            )
        image = normalise(image, lo, hi, clip=not on_lr)
    except ValueError as error:
        raise DataError(f"{record.name}: cannot normalise intensities: {error}") from error
    return _crop_slab(Volume(record, image.float().contiguous(), mask, affine, (lo, hi)))


def _check_header(record: VolumeRecord) -> None:
    """Cheap checks on the NIfTI headers before any voxel is read."""
    shape = _header_shape(record.image, "image")
    if record.channel is None and len(shape) != 3:
        raise DataError(
            f"{record.image}: expected a 3-D volume, got shape {shape}; 4-D files are read only by "
            "sources that name a channel (msd_brain)"
        )
    if record.channel is not None and (len(shape) != 4 or not 0 <= record.channel < shape[3]):
        raise DataError(
            f"{record.image}: expected a 4-D volume with channel {record.channel}, got shape {shape}"
        )
    if record.mask is not None and record.mask != NONZERO:
        mask_shape = _header_shape(record.mask, "mask")
        if mask_shape != shape[:3]:
            raise DataError(
                f"{record.mask}: mask shape {mask_shape} differs from image {record.image} "
                f"shape {shape[:3]}; expected the same voxel grid"
            )


def _header_shape(path: Path, role: str) -> tuple[int, ...]:
    """The shape a NIfTI header declares, after checking that the file can hold its voxels."""
    if not path.is_file():
        raise MissingFileError(f"{path}: {role} file not found")
    try:
        header = nib.load(path).header
        shape = tuple(int(n) for n in header.get_data_shape())
        dtype = header.get_data_dtype()
        offset = int(header.get_data_offset())
        if getattr(header, "is_single", False):
            # A .nii file's voxels never start inside its header, whatever vox_offset says (0 is
            # common: nibabel then reads them right after the header).
            offset = max(offset, int(header.single_vox_offset))
    except Exception as error:
        raise DataError(f"{path}: cannot read {role} as NIfTI ({error})") from error
    if dtype.kind not in "biuf":
        raise DataError(
            f"{path}: {role} voxels are of type {dtype}; expected real numbers (int or float)"
        )
    declared = offset + math.prod(shape) * dtype.itemsize
    available = _max_content_size(path, declared)
    if declared > available:
        # Checked before reading: nibabel allocates what the header declares.
        raise DataError(
            f"{path}: the {role} header declares {declared} bytes of header and voxels "
            f"({shape} of {dtype}) but the file holds at most {available}; expected a complete "
            "file (truncated download or copy?)"
        )
    # Trailing singleton axes (X, Y, Z, 1) are common in exported 3-D volumes.
    while len(shape) > 3 and shape[-1] == 1:
        shape = shape[:-1]
    return shape


def _max_content_size(path: Path, declared: int) -> int:
    """Bytes the file can hold once decompressed: its size, or a bound for a gzip file."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        if handle.read(2) != GZIP_MAGIC:
            return size
        handle.seek(max(size - 4, 0))
        # gzip's last 4 bytes: the decompressed size modulo 2**32.
        trailer = int.from_bytes(handle.read(4), "little")
    bound = MAX_DEFLATE_RATIO * size
    return min(trailer, bound) if declared < 2**32 else bound


def read_nifti(path: str | Path, role: str = "image") -> MetaTensor:
    """``(C, X, Y, Z)`` float32 MetaTensor in RAS orientation (C: the 4th axis, 1 for 3-D files).

    The NIfTI reader of training and evaluation (prediction keeps the stored voxel order and
    reads through :mod:`srmri.inference.nifti`). The header is checked first (readable, real voxel type, a
    file large enough for the voxels it declares), then MONAI loads and reorients the data.

    Raises:
        MissingFileError: the file does not exist.
        DataError: anything else; the message names the file.
    """
    path = Path(path)
    _header_shape(path, role)
    data = {"image": str(path)}
    try:
        data = LoadImaged("image", image_only=True, dtype=np.float32)(data)
        data = EnsureChannelFirstd("image")(data)
        data = Orientationd("image", axcodes="RAS", labels=None)(data)
    except Exception as error:
        raise DataError(f"{path}: cannot read {role} as a NIfTI volume ({error})") from error
    return data["image"]


def _load_mask(record: VolumeRecord, image: Tensor, affine: np.ndarray) -> Tensor | None:
    if record.mask is None:
        return None
    if record.mask == NONZERO:
        mask = image > 0
        if not mask.any():
            raise DataError(f"{record.name}: mask 'nonzero' is empty; the image has no voxel > 0")
        return mask
    raw = read_nifti(record.mask, "mask")
    if not np.allclose(raw.affine.numpy(), affine, atol=AFFINE_TOLERANCE_MM):
        raise DataError(
            f"{record.mask}: mask grid (affine) differs from image {record.image}; "
            "expected a mask on the image's voxel grid"
        )
    mask = raw[0].as_tensor() > 0
    if not mask.any():
        raise DataError(f"{record.mask}: brain mask is empty; expected some voxels > 0")
    return mask


def _crop_slab(volume: Volume) -> Volume:
    slab, image = volume.record.slab, volume.image
    if slab is None:
        return volume
    if slab.stop > image.shape[slab.axis]:
        raise DataError(
            f"{volume.record.name}: slab ends beyond the volume's {image.shape[slab.axis]} voxels"
        )
    block = [slice(None)] * 3
    block[slab.axis] = slice(slab.start, slab.stop)
    affine = volume.affine.copy()
    # The block's voxel 0 sits `start` voxels along the axis from the volume's voxel 0.
    affine[:3, 3] += affine[:3, slab.axis] * slab.start
    mask = volume.mask[tuple(block)].contiguous() if volume.mask is not None else None
    return Volume(volume.record, image[tuple(block)].contiguous(), mask, affine, volume.window)
