"""Intensities: the checkpoint's normalisation on the input, undone on the output, against an
independent bicubic computation; masks; output data types and scaling."""

import gzip

import nibabel as nib
import numpy as np
import pytest

from srmri.data import DataError
from srmri.inference import predict_file, predict_volume
from tests import helpers, reference
from tests.helpers import SCALE
from tests.volumes import (
    affine_for,
    nifti,
    smooth_volume,
)


def expected_bicubic(volume: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Axial slices normalised to [0, 1] by ``(lo, hi)``, bicubic x2 (a = -0.75), clamped, and
    mapped back: what a bicubic "network" must give through the whole prediction path."""
    out = np.empty((volume.shape[0] * SCALE, volume.shape[1] * SCALE, volume.shape[2]))
    for k in range(volume.shape[2]):
        lr = np.clip((volume[:, :, k].astype(np.float64) - lo) / (hi - lo), 0, 1)
        sr = reference.resize(lr, (lr.shape[0] * SCALE, lr.shape[1] * SCALE), -0.75, False)
        out[:, :, k] = np.clip(sr, 0, 1) * (hi - lo) + lo
    return out


def test_intensities_come_back_in_the_input_units(bicubic_module):
    volume = smooth_volume((14, 11, 4), seed=0)
    out = predict_volume(nifti(volume, affine_for("RAS")), bicubic_module, progress=False)
    # No mask given: the window is measured on the whole volume, background included.
    lo, hi = np.percentile(volume, [0.5, 99.5])
    assert out.get_data_dtype() == np.float32
    np.testing.assert_allclose(out.get_fdata(), expected_bicubic(volume, lo, hi), atol=1e-4 * hi)
    assert out.get_fdata().min() >= lo - 1e-3 and out.get_fdata().max() <= hi + 1e-3


def test_missing_mask_is_pointed_out_when_the_checkpoint_used_one(bicubic_module, caplog):
    image = nifti(smooth_volume((8, 8, 3), seed=0), affine_for("RAS"))
    predict_volume(image, bicubic_module, progress=False)
    assert "measured its intensity windows inside brain masks" in caplog.text
    caplog.clear()
    predict_volume(image, bicubic_module, mask="nonzero", progress=False)
    assert "brain masks" not in caplog.text


def test_nonzero_mask_measures_the_window_inside_the_head(bicubic_module):
    volume = smooth_volume((14, 11, 4), seed=1)
    out = predict_volume(
        nifti(volume, affine_for("RAS")), bicubic_module, mask="nonzero", progress=False
    )
    lo, hi = np.percentile(volume[volume > 0], [0.5, 99.5])
    assert lo > 0
    np.testing.assert_allclose(out.get_fdata(), expected_bicubic(volume, lo, hi), atol=1e-4 * hi)


def test_mask_file_measures_the_window_inside_it(bicubic_module, tmp_path):
    volume = smooth_volume((14, 11, 4), seed=2, background=False)
    affine = affine_for("RAS")
    mask = np.zeros(volume.shape, dtype=np.uint8)
    mask[3:10, 2:8, :] = 1
    nib.save(nib.Nifti1Image(mask, affine), tmp_path / "mask.nii.gz")
    out = predict_volume(
        nifti(volume, affine), bicubic_module, mask=tmp_path / "mask.nii.gz", progress=False
    )
    lo, hi = np.percentile(volume[mask > 0], [0.5, 99.5])
    np.testing.assert_allclose(out.get_fdata(), expected_bicubic(volume, lo, hi), atol=1e-4 * hi)


def test_mask_is_ignored_when_the_checkpoint_did_not_use_one():
    module = helpers.tiny_module(
        kind="bicubic",
        normalisation={"method": "minmax", "lower": 0.0, "upper": 100.0, "use_mask": False},
    )
    volume = smooth_volume((14, 11, 4), seed=3)
    out = predict_volume(nifti(volume, affine_for("RAS")), module, mask="nonzero", progress=False)
    lo, hi = float(volume.min()), float(volume.max())
    np.testing.assert_allclose(out.get_fdata(), expected_bicubic(volume, lo, hi), atol=1e-4 * hi)


def test_mask_on_another_grid_or_empty_is_refused(bicubic_module, tmp_path):
    volume = smooth_volume((14, 11, 4), seed=4)
    image = nifti(volume, affine_for("RAS"))
    nib.save(nib.Nifti1Image(np.ones((14, 11, 5), np.uint8), affine_for("RAS")), tmp_path / "a.nii")
    nib.save(
        nib.Nifti1Image(np.zeros((14, 11, 4), np.uint8), affine_for("RAS")), tmp_path / "b.nii"
    )
    with pytest.raises(DataError, match=r"a\.nii: mask shape"):
        predict_volume(image, bicubic_module, mask=tmp_path / "a.nii", progress=False)
    with pytest.raises(DataError, match=r"b\.nii: brain mask is empty"):
        predict_volume(image, bicubic_module, mask=tmp_path / "b.nii", progress=False)


def save_scaled(path, volume: np.ndarray, slope: float, inter: float) -> None:
    """Store ``volume`` as int16 with the given scl_slope / scl_inter, as a scanner would (nibabel
    would choose its own scaling when saving an in-memory image)."""
    header = nib.Nifti1Header()
    header.set_data_shape(volume.shape)
    header.set_data_dtype(np.int16)
    header.set_slope_inter(slope, inter)
    header.set_qform(affine_for("RAS"), code=1)
    header.set_sform(affine_for("RAS"), code=1)
    stored = np.rint((volume - inter) / slope).astype(np.int16)
    with gzip.open(path, "wb") as handle:
        header.write_to(handle)
        handle.write(stored.tobytes(order="F"))


def test_integer_input_is_written_as_float32_by_default(bicubic_module, tmp_path):
    save_scaled(tmp_path / "in.nii.gz", smooth_volume((12, 10, 3), seed=5), 0.5, -20.0)
    image = nib.load(tmp_path / "in.nii.gz")
    # nibabel moves a file's scaling from the header to the voxel proxy on load.
    assert image.get_data_dtype() == np.int16
    assert (image.dataobj.slope, image.dataobj.inter) == (0.5, -20.0)
    scaled = image.get_fdata()
    out = predict_volume(image, bicubic_module, progress=False)
    assert out.get_data_dtype() == np.float32
    assert out.header.get_slope_inter() == (None, None)
    lo, hi = np.percentile(scaled, [0.5, 99.5])
    np.testing.assert_allclose(out.get_fdata(), expected_bicubic(scaled, lo, hi), atol=1e-4 * hi)


def test_integer_output_keeps_the_type_and_scaling_and_rounds(bicubic_module, tmp_path):
    volume = smooth_volume((12, 10, 3), seed=6)
    slope, inter = 0.5, -20.0
    save_scaled(tmp_path / "in.nii.gz", volume, slope, inter)
    as_float = predict_volume(tmp_path / "in.nii.gz", bicubic_module, progress=False).get_fdata()
    path = predict_file(
        tmp_path / "in.nii.gz",
        tmp_path / "out.nii.gz",
        bicubic_module,
        dtype="input",
        progress=False,
    )
    out = nib.load(path)
    assert out.get_data_dtype() == np.int16
    assert (out.dataobj.slope, out.dataobj.inter) == (slope, inter)
    stored = np.asanyarray(out.dataobj.get_unscaled())
    np.testing.assert_array_equal(stored, np.rint((as_float - inter) / slope))
    assert np.abs(out.get_fdata() - as_float).max() <= slope / 2 + 1e-4


def test_integer_output_in_memory_is_rounded_by_nibabel_on_save(bicubic_module, tmp_path):
    save_scaled(tmp_path / "in.nii.gz", smooth_volume((12, 10, 3), seed=6), 0.5, -20.0)
    image = nib.load(tmp_path / "in.nii.gz")
    as_float = predict_volume(image, bicubic_module, progress=False)
    out = predict_volume(image, bicubic_module, dtype="input", progress=False)
    assert out.get_data_dtype() == np.int16
    np.testing.assert_array_equal(out.get_fdata(), as_float.get_fdata())
    saved = nib.Nifti1Image.from_bytes(out.to_bytes())
    assert saved.get_data_dtype() == np.int16
    step = saved.dataobj.slope
    assert np.abs(saved.get_fdata() - as_float.get_fdata()).max() <= step / 2 + 1e-4


def test_integer_output_clips_to_the_type_range(bicubic_module, tmp_path):
    volume = np.zeros((8, 8, 2), np.uint8)
    volume[2:6, 2:6] = 250
    nib.save(nifti(volume, affine_for("RAS")), tmp_path / "in.nii")
    # Bicubic overshoots next to the edge; the window clamps it to 250 and the type to 0..255.
    path = predict_file(
        tmp_path / "in.nii", tmp_path / "out.nii", bicubic_module, dtype="input", progress=False
    )
    values = np.asanyarray(nib.load(path).dataobj)
    assert values.dtype == np.uint8
    assert values.min() == 0 and values.max() == 250


def test_float64_input_is_written_as_float32(bicubic_module):
    volume = smooth_volume((8, 8, 2), seed=7, background=False).astype(np.float64)
    out = predict_volume(
        nifti(volume, affine_for("RAS")), bicubic_module, dtype="input", progress=False
    )
    assert out.get_data_dtype() == np.float32
