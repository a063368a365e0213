"""The acquisition of a thick-slice volume and the grid of its isotropic output.

A thick-slice scan has one voxel axis (the slice axis) whose spacing is clearly the largest; the
other two are in-plane. The output keeps the in-plane grid untouched and the field of view along
the slice axis: the ``n`` thick slices become ``m = round(n * k)`` thin slices (``k`` = slice spacing
/ in-plane spacing) of spacing ``n * spacing / m`` that tile the thick slices' slabs. Thin slice
``j`` sits at thick-slice voxel coordinate ``(j + 0.5) * n / m - 0.5``
(:func:`srmri.inference.geometry.axis_upsampling_matrix`); for an integer ``k`` the first thin
centre lies ``(k - 1) / 2`` thin spacings below the first thick centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from srmri.data import DataError

# The slice spacing must exceed every other spacing by this factor to count as "clearly largest".
CLEARLY_LARGER = 1.2
# Below this factor there is nothing worth super-resolving (and one-axis sub-pixel layers degenerate).
MIN_FACTOR = 1.5


@dataclass(frozen=True)
class Acquisition:
    """The slice geometry of one volume.

    Attributes:
        axis: the slice axis (0, 1 or 2).
        spacing: slice spacing in mm (the voxel size along ``axis``).
        in_plane: in-plane pixel size in mm (the mean of the two in-plane voxel sizes).
        thickness: slice thickness in mm (FWHM of the profile; smaller than ``spacing``: a gap).
        slices: the number of thick slices ``n``.
    """

    axis: int
    spacing: float
    in_plane: float
    thickness: float
    slices: int

    @property
    def in_plane_axes(self) -> tuple[int, int]:
        return tuple(a for a in range(3) if a != self.axis)

    @property
    def factor(self) -> float:
        """``k`` = slice spacing / in-plane spacing."""
        return self.spacing / self.in_plane

    @property
    def thin_slices(self) -> int:
        """``m = round(n * k)``."""
        return round(self.slices * self.factor)

    @property
    def thin_spacing(self) -> float:
        """``n * spacing / m`` in mm."""
        return self.slices * self.spacing / self.thin_slices

    @property
    def grid_factor(self) -> float:
        """``m / n``: thin slices per thick slice on the output grid (``k`` up to rounding)."""
        return self.thin_slices / self.slices

    @property
    def thickness_pixels(self) -> float:
        return self.thickness / self.in_plane

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """``shape`` with the slice axis replaced by ``m`` (other axes, and a 4th, unchanged)."""
        return tuple(self.thin_slices if a == self.axis else n for a, n in enumerate(shape))


def find_acquisition(
    zooms: tuple[float, ...],
    shape: tuple[int, ...],
    name: str,
    axis: int | None = None,
    thickness: float | None = None,
) -> Acquisition:
    """The slice axis, spacing and thickness of a volume from its voxel sizes.

    Args:
        zooms: voxel sizes in mm of the three spatial axes (more are ignored).
        shape: the voxel grid (the three spatial axes first).
        name: the file, for messages.
        axis: force the slice axis (0, 1, 2 or -3..-1); None finds it.
        thickness: slice thickness in mm; None means the slice spacing (no gap).

    Raises:
        DataError: an isotropic volume without ``axis``, two axes tied for the largest spacing,
            a factor ``k`` below 1.5, a thickness <= 0, or an in-plane grid that is not square.
    """
    sizes = [float(z) for z in zooms[:3]]
    if axis is None:
        order = np.argsort(sizes)[::-1]
        largest, second = sizes[order[0]], sizes[order[1]]
        if largest <= second * CLEARLY_LARGER:
            if np.isclose(largest, min(sizes), rtol=0.05):
                raise DataError(
                    f"{name}: voxel sizes {_mm(sizes)} are isotropic; nothing to do "
                    "(give axis= to super-resolve one axis anyway)"
                )
            if np.isclose(largest, second, rtol=0.05):
                raise DataError(
                    f"{name}: voxel sizes {_mm(sizes)}: axes {sorted(order[:2].tolist())} are tied "
                    "for the largest spacing; give axis= to choose the slice axis"
                )
            raise DataError(
                f"{name}: voxel sizes {_mm(sizes)}: no spacing is clearly the largest "
                f"(>{CLEARLY_LARGER} x the others); give axis= to choose the slice axis"
            )
        axis = int(order[0])
    elif not -3 <= int(axis) <= 2:
        raise DataError(f"{name}: axis={axis} is not a spatial axis; expected 0, 1 or 2")
    axis = int(axis) % 3
    in_plane_sizes = [sizes[a] for a in range(3) if a != axis]
    if not np.isclose(in_plane_sizes[0], in_plane_sizes[1], rtol=0.05):
        raise DataError(
            f"{name}: in-plane voxel sizes {_mm(in_plane_sizes)} differ; expected square in-plane "
            "pixels (resample the slices first)"
        )
    in_plane = float(np.mean(in_plane_sizes))
    spacing = sizes[axis]
    factor = spacing / in_plane
    if factor < MIN_FACTOR:
        raise DataError(
            f"{name}: slice spacing {spacing:g} mm along axis {axis} is only {factor:.2f} x the "
            f"in-plane spacing {in_plane:g} mm; expected at least {MIN_FACTOR}"
        )
    thickness = spacing if thickness is None else float(thickness)
    if not thickness > 0:
        raise DataError(f"{name}: thickness={thickness} mm; expected a positive slice thickness")
    return Acquisition(axis, spacing, in_plane, thickness, int(shape[axis]))


def _mm(values: list[float]) -> str:
    return " x ".join(f"{v:g}" for v in values) + " mm"
