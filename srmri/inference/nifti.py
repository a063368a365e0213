"""NIfTI in: checked input volumes; and the output header.

The output header is the input's (NIfTI-1 or NIfTI-2, extensions and qform / sform codes kept)
with the upsampled shape, the recomputed qform and sform (each the input's composed with
:func:`srmri.inference.geometry.upsampling_matrix`), zooms divided by the scale on the upsampled
axes and the output data type. :mod:`srmri.inference.writer` writes the file.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from srmri.data import DataError
from srmri.data.sources.folder import NIFTI_SUFFIXES
from srmri.inference.geometry import Plane, axis_upsampling_matrix, upsampled_shape
from srmri.io.errors import MissingFileError

IN_MEMORY = "<in-memory image>"


def is_nifti_name(path: str | os.PathLike) -> bool:
    return str(path).endswith(NIFTI_SUFFIXES)


@dataclass
class InputImage:
    """A NIfTI image to super-resolve, checked, its voxels not yet read.

    Attributes:
        name: the file, for messages.
        image: the nibabel image (NIfTI-1 or NIfTI-2, single file or pair, or in memory).
    """

    name: str
    image: nib.Nifti1Pair

    @property
    def spatial_shape(self) -> tuple[int, int, int]:
        return tuple(int(n) for n in self.image.shape[:3])

    @property
    def affine(self) -> np.ndarray:
        """Voxel -> world (mm): the sform, else the qform, else the header's default grid."""
        return self.image.header.get_best_affine()

    @property
    def scaling(self) -> tuple[float, float]:
        """``(scl_slope, scl_inter)`` of the stored voxels; (1, 0) for voxels held in memory.

        nibabel moves a file's scaling from the header to the voxel proxy when it loads the file.
        """
        proxy = self.image.dataobj
        return float(getattr(proxy, "slope", 1.0)), float(getattr(proxy, "inter", 0.0))

    @property
    def volumes(self) -> list[tuple[int, ...]]:
        """Index of each 3-D volume along the axes after the third: ``[()]`` for a 3-D image."""
        return list(np.ndindex(*self.image.shape[3:]))


def open_input(source: str | os.PathLike | nib.Nifti1Pair) -> InputImage:
    """Open a NIfTI file (or take an in-memory NIfTI image) and check its header.

    Raises:
        MissingFileError: the file does not exist.
        DataError: it is not NIfTI, has fewer than 3 axes or voxels that are not real numbers.
    """
    if isinstance(source, nib.Nifti1Pair):
        # A new image on the same voxels brings the header up to date with the image's affine.
        image = type(source)(source.dataobj, source.affine, source.header)
        name = str(source.get_filename() or IN_MEMORY)
    else:
        path = Path(source)
        if not path.is_file():
            raise MissingFileError(f"{path}: input file not found")
        try:
            image = nib.load(path)
        except Exception as error:
            raise DataError(f"{path}: cannot read as NIfTI ({error})") from error
        name = str(path)
        if not isinstance(image, nib.Nifti1Pair):
            raise DataError(f"{path}: a {type(image).__name__}; expected a NIfTI-1 or NIfTI-2 file")
    if len(image.shape) < 3:
        raise DataError(
            f"{name}: a {len(image.shape)}-D image of shape {image.shape}; expected a 3-D volume "
            "(or a 4-D series of them)"
        )
    dtype = image.get_data_dtype()
    if dtype.kind not in "biuf":
        raise DataError(f"{name}: voxel type {dtype}; expected real numbers (integers or floats)")
    return InputImage(name, image)


def read_volume(source: InputImage, index: tuple[int, ...]) -> np.ndarray:
    """The 3-D volume ``index`` of ``source`` in its scaled units, float32 ``(X, Y, Z)``.

    Raises:
        DataError: the voxels cannot be read (a truncated or damaged file) or are not finite.
    """
    key = (slice(None),) * 3 + index
    try:
        volume = np.asarray(source.image.dataobj[key], dtype=np.float32)
    except (OSError, EOFError, ValueError, zlib.error) as error:
        raise DataError(
            f"{source.name}: cannot read the voxels ({error}); the file may be truncated or damaged"
        ) from error
    bad = volume.size - int(np.count_nonzero(np.isfinite(volume)))
    if bad:
        where = f" (volume {index})" if index else ""
        raise DataError(f"{source.name}{where}: {bad} NaN/Inf voxels; expected finite intensities")
    return volume


def output_header(
    header: nib.Nifti1Header,
    plane: Plane,
    scale: int,
    dtype: np.dtype,
    scaling: tuple[float, float],
) -> nib.Nifti1Header:
    """The header of the SR output of an image with ``header`` (see the module docstring);
    an integer ``dtype`` is stored with ``scaling`` ``(scl_slope, scl_inter)``."""
    shape = upsampled_shape(header.get_data_shape(), plane, scale)
    return resampled_header(header, shape, {axis: scale for axis in plane.in_plane}, dtype, scaling)


def resampled_header(
    header: nib.Nifti1Header,
    shape: tuple[int, ...],
    factors: dict[int, float],
    dtype: np.dtype,
    scaling: tuple[float, float],
) -> nib.Nifti1Header:
    """The input's ``header`` for a grid of ``shape`` on which voxel axis ``a`` holds ``factors[a]``
    times as many voxels over the same field of view (:func:`axis_upsampling_matrix`): qform and
    sform recomputed with their codes kept, zooms divided by the factors, ``dtype`` stored with
    ``scaling`` ``(scl_slope, scl_inter)`` when it is an integer type."""
    header_class = nib.Nifti2Header if isinstance(header, nib.Nifti2Header) else nib.Nifti1Header
    out = header_class.from_header(header)
    out.set_data_shape(shape)
    out.set_data_dtype(dtype)
    matrix = axis_upsampling_matrix(factors)
    out.set_qform(header.get_qform() @ matrix, code=int(header["qform_code"]))
    out.set_sform(header.get_sform() @ matrix, code=int(header["sform_code"]))
    zooms = [z / factors.get(axis, 1.0) for axis, z in enumerate(header.get_zooms())]
    out.set_zooms(zooms)
    if np.issubdtype(dtype, np.integer):
        out.set_slope_inter(*scaling)
    else:
        out.set_slope_inter(None, None)
    # Slice timing counts slices along the acquisition's slice axis; resampled, it no longer fits.
    if header.get_dim_info()[2] in factors:
        for key in ("slice_code", "slice_start", "slice_end", "slice_duration"):
            out[key] = 0
    # Recomputed from the extensions when the header is written.
    out["vox_offset"] = 0
    return out
