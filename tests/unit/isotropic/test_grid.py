"""World coordinates of the isotropic output grid, against a hand computation.

For a thick image of ``n`` slices (spacing ``s`` mm along voxel axis ``a``, in-plane pixels ``p``
mm), ``k = s / p``, the output has ``m = round(n k)`` thin slices of spacing ``n s / m`` tiling the
same field of view; for an integer ``k`` the first thin centre lies ``(k - 1) / 2`` thin spacings
below the first thick centre. Written here from the affine's columns alone, not from srmri's
matrices.
"""

from __future__ import annotations

import math

import nibabel as nib
import numpy as np
import pytest

from srmri.isotropic import isotropic_volume


def _rotation(angles: tuple[float, float, float]) -> np.ndarray:
    ax, ay, az = angles
    rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
    ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
    rz = np.array([[math.cos(az), -math.sin(az), 0], [math.sin(az), math.cos(az), 0], [0, 0, 1]])
    return rx @ ry @ rz


def _thick_image(axis: int, spacing: float, in_plane: float, n: int, oblique: bool):
    shape = [12, 11, 10]
    shape[axis] = n
    zooms = np.full(3, in_plane)
    zooms[axis] = spacing
    rotation = _rotation((0.3, -0.2, 0.5)) if oblique else np.diag([-1.0, 1.0, 1.0])
    affine = np.eye(4)
    affine[:3, :3] = rotation * zooms
    affine[:3, 3] = [12.5, -31.0, 7.25]
    data = np.random.default_rng(0).random(shape).astype(np.float32)
    image = nib.Nifti1Image(data, affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=2)
    return image


@pytest.mark.parametrize("oblique", [False, True])
@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize(
    ("spacing", "in_plane", "n"), [(4.0, 1.0, 7), (4.0, 0.9, 9), (3.0, 1.5, 5)]
)
def test_output_voxel_centres(axis, oblique, spacing, in_plane, n):
    image = _thick_image(axis, spacing, in_plane, n, oblique)
    out = isotropic_volume(image, method="cubic", progress=False)
    k = spacing / in_plane
    m = round(n * k)
    thin = n * spacing / m
    assert out.shape[axis] == m
    assert out.header.get_zooms()[axis] == pytest.approx(thin, rel=1e-5)
    for codes in ("qform_code", "sform_code"):
        assert int(out.header[codes]) == int(image.header[codes])
    # The in-plane grid is untouched: same columns and the same origin of the in-plane axes.
    for other in (a for a in range(3) if a != axis):
        np.testing.assert_allclose(out.affine[:3, other], image.affine[:3, other], atol=1e-5)
    direction = image.affine[:3, axis] / np.linalg.norm(image.affine[:3, axis])
    first_thick = image.affine[:3, 3]
    last_thick = first_thick + (n - 1) * image.affine[:3, axis]
    # Thick slab edges: half a thick spacing outside the first and last thick centres.
    start = first_thick - spacing / 2 * direction
    end = last_thick + spacing / 2 * direction
    first_thin = out.affine[:3, 3]
    last_thin = first_thin + (m - 1) * out.affine[:3, axis]
    np.testing.assert_allclose(first_thin, start + thin / 2 * direction, atol=1e-4)
    np.testing.assert_allclose(last_thin, end - thin / 2 * direction, atol=1e-4)
    # Field of view along the slice axis kept: m thin spacings = n thick spacings.
    assert m * thin == pytest.approx(n * spacing)
    if float(k).is_integer():
        np.testing.assert_allclose(
            first_thin, first_thick - (k - 1) / 2 * thin * direction, atol=1e-4
        )
    # The qform (stored as quaternions) gives the same grid as the sform.
    np.testing.assert_allclose(out.header.get_qform(), out.header.get_sform(), atol=1e-4)
