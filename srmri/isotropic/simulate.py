"""Thick-slice volumes simulated from isotropic ones, for tests, benchmarks and figures.

Along the chosen axis the isotropic volume is integrated over a slice profile and sampled every
``spacing`` voxels by the one definition of thick slices, :class:`srmri.degradation.SliceProfile`
(slab ``j`` covers voxels ``[j * spacing, (j + 1) * spacing)``). The thick image keeps the in-plane
grid; its slice axis has voxel size ``spacing`` x the in-plane voxel size, and its affine puts
thick slice ``j`` at the centre of its slab. Spacing and thickness are given in voxels of the
isotropic volume, and the volume's voxels are taken as isotropic with the in-plane size (so the
header's ``k`` is exactly ``spacing``). For a spacing ``k`` with ``n * k`` a whole number, the
isotropic output of :mod:`srmri.isotropic` lies exactly on the first ``n * k`` voxels of the
original grid: the truth to score against.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
import torch

from srmri.degradation import SliceProfile


def thick_slices(
    image: nib.Nifti1Image,
    axis: int,
    spacing: float,
    thickness: float | None = None,
    profile: str = "gaussian",
    slices: int | None = None,
) -> nib.Nifti1Image:
    """A thick-slice float32 image of the isotropic 3-D ``image`` along voxel ``axis``.

    Args:
        image: an isotropic 3-D NIfTI image.
        axis: the slice axis (0, 1, 2).
        spacing: slice spacing in voxels of ``image`` (non-integer allowed).
        thickness: slice thickness (FWHM for ``gaussian``) in voxels; None means ``spacing``.
        profile: ``gaussian`` or ``rect``.
        slices: how many thick slices (at most ``floor(N / spacing)``, the default).

    Returns:
        The thick image: ``slices`` voxels along ``axis``, voxel size ``spacing`` x the in-plane
        size there, sform and qform (code 1, scanner) the input's grid composed with the slab
        geometry.
    """
    volume = torch.from_numpy(np.asarray(image.dataobj, dtype=np.float32))
    degradation = SliceProfile(float(thickness or spacing), float(spacing), profile, axis=-2)
    other = [a for a in range(3) if a != axis]
    # (A, 1, N, B): planes through the slice axis, which becomes the degraded rows.
    planes = volume.permute(other[0], axis, other[1]).unsqueeze(1)
    thick = degradation(planes.to(torch.float64)).squeeze(1).to(torch.float32)
    if slices is not None:
        thick = thick[:, :slices]
    thick = thick.permute(*np.argsort([other[0], axis, other[1]]).tolist()).numpy()
    in_plane = float(np.mean([image.header.get_zooms()[a] for a in other]))
    # Thick voxel j -> original voxel (j + 0.5) * spacing - 0.5 along the axis.
    to_original = np.eye(4)
    to_original[axis, axis] = spacing
    to_original[axis, 3] = 0.5 * spacing - 0.5
    affine = image.affine.copy()
    directions = affine[:3, :3] / np.linalg.norm(affine[:3, :3], axis=0)
    affine[:3, :3] = directions * in_plane
    affine = affine @ to_original
    out = nib.Nifti1Image(np.ascontiguousarray(thick), affine)
    out.set_qform(affine, code=1)
    out.set_sform(affine, code=1)
    return out
