"""Where a view's slices lie in an input's voxel grid, and the voxel grid of the SR output.

The input is never reoriented: the output keeps the input's voxel order. A view (axial, coronal,
sagittal) names an anatomical plane; :class:`Plane` finds the voxel axis closest to the plane's
normal through the affine (nibabel ``io_orientation``), so "axial" means the same plane whatever
the storage order, and only the two in-plane voxel axes are upsampled.

The network sees every slice in the orientation the training slices had (rows along the lower RAS
axis, both axes running towards R, A or S; see :mod:`srmri.data.volume`): :meth:`Plane.to_network`
transposes and flips the slice into it and :meth:`Plane.from_network` undoes that on the output.

Output grid: output voxel ``j`` on an upsampled axis sits at input voxel coordinate
``(j + 0.5) / scale - 0.5`` (the pixel-centre convention of :mod:`srmri.degradation`): the first
output voxel centre lies half an input voxel minus half an output voxel before the first input
voxel centre, and both grids cover the same field of view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from nibabel.orientations import io_orientation
from torch import Tensor

from srmri.data.volume import view_axis


@dataclass(frozen=True)
class Plane:
    """The voxel axes of one view's slices in a 3-D grid.

    Attributes:
        view: ``axial``, ``coronal`` or ``sagittal``.
        through: the voxel axis held fixed (one slice per voxel along it).
        rows: the lower in-plane voxel axis; a slice is ``(H, W) = (shape[rows], shape[cols])``.
        cols: the higher in-plane voxel axis.
        transpose: the network's rows run along ``cols`` (the training orientation needs it).
        flips: after the transpose, flip the network's (rows, cols) to run towards R, A or S.
    """

    view: str
    through: int
    rows: int
    cols: int
    transpose: bool
    flips: tuple[bool, bool]

    @classmethod
    def from_affine(cls, affine: np.ndarray, view: str) -> Plane:
        """The plane of ``view`` in a grid with voxel -> world matrix ``affine`` (4 x 4).

        Raises:
            ValueError: on an unknown view or an affine whose axes have no anatomical direction.
        """
        world = view_axis(view)
        orientation = io_orientation(np.asarray(affine, dtype=float))
        if np.isnan(orientation).any():
            raise ValueError(
                f"the affine {np.asarray(affine).tolist()} gives some voxel axis no anatomical "
                "direction; expected three independent axes"
            )
        through = int(np.flatnonzero(orientation[:, 0] == world)[0])
        rows, cols = (axis for axis in range(3) if axis != through)
        transpose = bool(orientation[rows, 0] > orientation[cols, 0])
        network_rows, network_cols = (cols, rows) if transpose else (rows, cols)
        flips = (bool(orientation[network_rows, 1] < 0), bool(orientation[network_cols, 1] < 0))
        return cls(view, through, rows, cols, transpose, flips)

    @property
    def in_plane(self) -> tuple[int, int]:
        return self.rows, self.cols

    def _flip_dims(self) -> list[int]:
        return [dim for dim, flip in zip((-2, -1), self.flips, strict=True) if flip]

    def to_network(self, lr: Tensor) -> Tensor:
        """``(..., shape[rows], shape[cols])`` slices -> the training orientation."""
        if self.transpose:
            lr = lr.transpose(-2, -1)
        dims = self._flip_dims()
        return lr.flip(dims) if dims else lr

    def from_network(self, sr: Tensor) -> Tensor:
        """The inverse of :meth:`to_network`, on slices of any in-plane size."""
        dims = self._flip_dims()
        if dims:
            sr = sr.flip(dims)
        return sr.transpose(-2, -1) if self.transpose else sr


def upsampling_matrix(plane: Plane, scale: int) -> np.ndarray:
    """4 x 4 map from output voxel coordinates to input voxel coordinates."""
    return axis_upsampling_matrix({axis: scale for axis in plane.in_plane})


def axis_upsampling_matrix(factors: dict[int, float]) -> np.ndarray:
    """4 x 4 map from output to input voxel coordinates when axis ``a`` gets ``factors[a]`` times
    as many voxels (any positive real factor) tiling the same field of view.

    Output voxel ``j`` sits at input coordinate ``(j + 0.5) / f - 0.5``: the first output centre
    lies half an input voxel minus half an output voxel before the first input centre.
    """
    matrix = np.eye(4)
    for axis, factor in factors.items():
        matrix[axis, axis] = 1.0 / factor
        matrix[axis, 3] = 0.5 / factor - 0.5
    return matrix


def upsampled_shape(shape: tuple[int, ...], plane: Plane, scale: int) -> tuple[int, ...]:
    """The output's shape: the in-plane axes times ``scale``; other axes (and 4-D) unchanged."""
    return tuple(n * scale if axis in plane.in_plane else n for axis, n in enumerate(shape))
