"""Output geometry: the view's plane in any storage order, voxel centres and field of view in
world coordinates for axis-aligned and oblique affines, zooms, qform / sform and their codes."""

import itertools

import nibabel as nib
import numpy as np
import pytest
import torch
from nibabel.orientations import axcodes2ornt, io_orientation, ornt_transform

from srmri.inference import predict_volume
from srmri.inference.geometry import Plane
from tests.helpers import SCALE
from tests.volumes import affine_for, nifti, smooth_volume

# The letters of the axis each view holds fixed (its normal).
NORMAL = {"axial": "SI", "coronal": "AP", "sagittal": "LR"}
GRIDS = [
    ("RAS", (0.0, 0.0, 0.0)),
    ("LPS", (0.0, 0.0, 0.0)),
    ("ASL", (0.0, 0.0, 0.0)),
    ("PIR", (0.0, 0.0, 0.0)),
    ("RAS", (12.0, -8.0, 15.0)),
    ("SLP", (-10.0, 14.0, 7.0)),
]
SHAPE = (6, 7, 5)


def through_axis(codes: str, view: str) -> int:
    return next(i for i, code in enumerate(codes) if code in NORMAL[view])


def world(affine: np.ndarray, voxel) -> np.ndarray:
    return (affine @ np.append(np.asarray(voxel, dtype=float), 1.0))[:3]


@pytest.mark.parametrize("view", ["axial", "coronal", "sagittal"])
@pytest.mark.parametrize(("codes", "angles"), GRIDS)
def test_plane_holds_the_view_normal_fixed_in_any_storage_order(codes, angles, view):
    plane = Plane.from_affine(affine_for(codes, angles=angles), view)
    assert plane.through == through_axis(codes, view)
    assert sorted((plane.through, *plane.in_plane)) == [0, 1, 2]
    assert plane.rows < plane.cols


@pytest.mark.parametrize("view", ["axial", "coronal", "sagittal"])
@pytest.mark.parametrize(("codes", "angles"), GRIDS)
def test_voxel_centres_and_field_of_view_in_world_coordinates(bicubic_module, codes, angles, view):
    affine = affine_for(codes, zooms=(1.0, 1.2, 2.0), angles=angles)
    image = nifti(smooth_volume(SHAPE, seed=1), affine, qform_code=1, sform_code=4)
    out = predict_volume(image, bicubic_module, view=view, progress=False)

    through = through_axis(codes, view)
    upsampled = [axis for axis in range(3) if axis != through]
    expected_shape = tuple(n * SCALE if axis in upsampled else n for axis, n in enumerate(SHAPE))
    assert out.shape == expected_shape

    # An output voxel is 1/s input voxels wide on an upsampled axis; the grids share the outer
    # faces of the field of view at input voxel coordinates -0.5 and n - 0.5.
    half = 0.5 / SCALE
    first = [-0.5 + half if axis in upsampled else 0.0 for axis in range(3)]
    last = [n - 0.5 - half if axis in upsampled else n - 1 for axis, n in enumerate(SHAPE)]
    for matrix in (out.affine, out.header.get_qform(), out.header.get_sform()):
        np.testing.assert_allclose(world(matrix, (0, 0, 0)), world(affine, first), atol=1e-4)
        np.testing.assert_allclose(
            world(matrix, np.array(expected_shape) - 1), world(affine, last), atol=1e-4
        )
        for corner in itertools.product((0, 1), repeat=3):
            out_corner = [-0.5 + c * n for c, n in zip(corner, expected_shape, strict=True)]
            in_corner = [-0.5 + c * n for c, n in zip(corner, SHAPE, strict=True)]
            np.testing.assert_allclose(
                world(matrix, out_corner), world(affine, in_corner), atol=1e-4
            )

    zooms = np.array([1.0, 1.2, 2.0])
    expected_zooms = [z / SCALE if axis in upsampled else z for axis, z in enumerate(zooms)]
    np.testing.assert_allclose(out.header.get_zooms(), expected_zooms, rtol=1e-6)
    assert (int(out.header["qform_code"]), int(out.header["sform_code"])) == (1, 4)


def test_qform_and_sform_are_each_carried_with_their_own_codes(bicubic_module):
    qform = affine_for("RAS", origin=(1.0, 2.0, 3.0))
    sform = affine_for("RAS", origin=(-4.0, 0.5, 9.0), angles=(5.0, 0.0, 0.0))
    image = nib.Nifti1Image(smooth_volume(SHAPE, seed=2), None)
    image.header.set_qform(qform, code=2)
    image.header.set_sform(sform, code=0)
    out = predict_volume(image, bicubic_module, progress=False)
    half = 0.5 / SCALE
    first = (-0.5 + half, -0.5 + half, 0.0)
    assert (int(out.header["qform_code"]), int(out.header["sform_code"])) == (2, 0)
    np.testing.assert_allclose(
        world(out.header.get_qform(), (0, 0, 0)), world(qform, first), atol=1e-4
    )
    np.testing.assert_allclose(
        world(out.header.get_sform(), (0, 0, 0)), world(sform, first), atol=1e-4
    )
    # The sform code is 0, so the qform is the image's geometry.
    np.testing.assert_allclose(out.affine, out.header.get_qform(), atol=1e-5)


def test_header_without_codes_keeps_the_field_of_view_of_its_default_grid(bicubic_module):
    image = nib.Nifti1Image(smooth_volume(SHAPE, seed=3), None)
    image.header.set_zooms((1.0, 1.2, 2.0))
    image.header.set_qform(None, code=0)
    image.header.set_sform(None, code=0)
    out = predict_volume(image, bicubic_module, progress=False)
    assert (int(out.header["qform_code"]), int(out.header["sform_code"])) == (0, 0)
    reread = nib.Nifti1Image.from_bytes(out.to_bytes())
    corner_in = world(image.header.get_best_affine(), (-0.5, -0.5, -0.5))
    corner_out = world(reread.affine, (-0.5, -0.5, -0.5))
    np.testing.assert_allclose(corner_out, corner_in, atol=1e-4)


@pytest.mark.parametrize("view", ["axial", "coronal", "sagittal"])
@pytest.mark.parametrize("codes", ["LPS", "PIR", "SLA"])
def test_storage_order_does_not_change_the_result(tiny_module, codes, view):
    """The same scan stored in another voxel order gives the same SR scan: the network sees every
    slice in the training orientation, and the output keeps each input's own voxel order."""
    ras = nifti(smooth_volume((10, 12, 8), seed=4), affine_for("RAS", angles=(8.0, -5.0, 3.0)))
    change = ornt_transform(io_orientation(ras.affine), axcodes2ornt(tuple(codes)))
    stored = ras.as_reoriented(change)
    assert nib.aff2axcodes(stored.affine) == tuple(codes)

    sr_ras = predict_volume(ras, tiny_module, view=view, progress=False)
    sr_stored = predict_volume(stored, tiny_module, view=view, progress=False)
    assert nib.aff2axcodes(sr_stored.affine) == tuple(codes)
    back = sr_stored.as_reoriented(
        ornt_transform(io_orientation(sr_stored.affine), axcodes2ornt("RAS"))
    )
    np.testing.assert_allclose(back.affine, sr_ras.affine, atol=1e-4)
    np.testing.assert_allclose(back.get_fdata(), sr_ras.get_fdata(), rtol=0, atol=1e-3)
    # The control: a network that is not symmetric under flips gives another result when the
    # in-plane storage order is flipped but the affine does not say so.
    axis = 1 if view == "sagittal" else 0
    mirrored = nifti(np.flip(ras.get_fdata(dtype=np.float32), axis).copy(), ras.affine)
    sr_mirrored = predict_volume(mirrored, tiny_module, view=view, progress=False)
    assert np.abs(np.flip(sr_mirrored.get_fdata(), axis) - sr_ras.get_fdata()).max() > 1e-2


def test_network_orientation_round_trip():
    plane = Plane.from_affine(affine_for("PSL"), "coronal")
    lr = torch.arange(12.0).reshape(1, 3, 4)
    assert torch.equal(plane.from_network(plane.to_network(lr)), lr)


def test_affine_without_anatomical_axes_is_refused():
    degenerate = np.diag([1.0, 0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="no anatomical"):
        Plane.from_affine(degenerate, "axial")
