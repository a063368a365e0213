"""NIfTI in and out: bad files are refused naming the file; headers carry over; output files
appear complete or not at all."""

import gzip
import re

import nibabel as nib
import numpy as np
import pytest

from srmri.data import DataError
from srmri.inference import predict_file, predict_volume
from srmri.inference.geometry import Plane
from srmri.inference.nifti import open_input, output_header, read_volume
from srmri.inference.writer import NiftiWriter
from tests.volumes import affine_for, nifti, smooth_volume


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.nii\.gz"):
        open_input(tmp_path / "nothing.nii.gz")


def test_file_that_is_not_nifti_is_refused(tmp_path):
    path = tmp_path / "notes.nii.gz"
    path.write_text("not an image")
    with pytest.raises(DataError, match=r"notes\.nii\.gz: cannot read as NIfTI"):
        open_input(path)


def test_other_image_formats_are_refused(tmp_path):
    path = tmp_path / "brain.mgz"
    nib.save(nib.MGHImage(smooth_volume((6, 6, 6), 0), np.eye(4)), path)
    with pytest.raises(DataError, match=r"brain\.mgz: a MGHImage; expected a NIfTI"):
        open_input(path)


@pytest.mark.parametrize("name", ["cut.nii", "cut.nii.gz"])
def test_truncated_file_is_refused_when_its_voxels_are_read(tmp_path, name):
    path = tmp_path / name
    nib.save(nifti(smooth_volume((12, 12, 12), 0), np.eye(4)), path)
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) * 2 // 3])
    source = open_input(path)
    with pytest.raises(DataError, match=f"{re.escape(name)}: cannot read the voxels"):
        read_volume(source, ())


def test_two_dimensional_image_is_refused(tmp_path):
    path = tmp_path / "flat.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((8, 8), np.float32), np.eye(4)), path)
    with pytest.raises(DataError, match=r"flat\.nii\.gz: a 2-D image"):
        open_input(path)


def test_complex_voxels_are_refused(tmp_path):
    path = tmp_path / "phase.nii"
    nib.save(nib.Nifti1Image(np.ones((4, 4, 4), np.complex64), np.eye(4)), path)
    with pytest.raises(DataError, match=r"phase\.nii: voxel type complex64; expected real"):
        open_input(path)


def test_nan_voxels_are_counted_and_refused(tmp_path):
    volume = smooth_volume((8, 8, 4), 0)
    volume[1, 2, 3] = np.nan
    volume[0, 0, 0] = np.inf
    path = tmp_path / "holes.nii"
    nib.save(nifti(volume, np.eye(4)), path)
    with pytest.raises(DataError, match=r"holes\.nii: 2 NaN/Inf voxels"):
        read_volume(open_input(path), ())


def test_constant_volume_is_refused(tiny_module):
    image = nifti(np.full((8, 8, 4), 7.0, np.float32), np.eye(4))
    with pytest.raises(DataError, match="empty intensity window"):
        predict_volume(image, tiny_module, progress=False)


def test_nifti2_big_endian_input_with_extensions_and_slice_timing(tmp_path, bicubic_module):
    volume = smooth_volume((8, 10, 6), 1)
    header = nib.Nifti2Header(endianness=">")
    image = nib.Nifti2Image(volume.astype(">f4"), affine_for("LPS"), header=header)
    image.header.extensions.append(nib.nifti1.Nifti1Extension("comment", b"acquired on a scanner"))
    image.header.set_dim_info(freq=0, phase=1, slice=2)
    image.header.set_slice_duration(0.1)
    image.header["slice_end"] = 5
    image.header["slice_code"] = 1
    nib.save(image, tmp_path / "in.nii")
    assert nib.load(tmp_path / "in.nii").header.endianness == ">"

    sagittal = predict_file(
        tmp_path / "in.nii", tmp_path / "sag.nii", bicubic_module, view="sagittal", progress=False
    )
    out = nib.load(sagittal)
    assert isinstance(out, nib.Nifti2Image)
    assert out.shape == (8, 20, 12)
    assert [e.get_content() for e in out.header.extensions] == [b"acquired on a scanner"]
    # The slice axis (2) was upsampled: its slice timing no longer describes the grid.
    assert int(out.header["slice_end"]) == 0 and int(out.header["slice_code"]) == 0

    axial = nib.load(
        predict_file(tmp_path / "in.nii", tmp_path / "ax.nii", bicubic_module, progress=False)
    )
    assert axial.shape == (16, 20, 6)
    assert int(axial.header["slice_end"]) == 5 and int(axial.header["slice_code"]) == 1
    expected = predict_volume(
        nib.Nifti1Image(volume, affine_for("LPS")), bicubic_module, progress=False
    )
    np.testing.assert_allclose(axial.get_fdata(), expected.get_fdata(), atol=1e-4)


def writer_header(shape, dtype=np.float32) -> nib.Nifti1Header:
    plane = Plane.from_affine(np.eye(4), "axial")
    header = nib.Nifti1Header()
    header.set_data_shape(shape)
    return output_header(header, plane, 1, np.dtype(dtype), (1.0, 0.0))


@pytest.mark.parametrize("name", ["out.nii", "out.nii.gz"])
def test_writer_output_is_complete_after_pages_are_released(tmp_path, name):
    values = np.random.default_rng(0).normal(size=(7, 9, 5)).astype(np.float32)
    with NiftiWriter(tmp_path / name, writer_header(values.shape), 1) as writer:
        for k in range(values.shape[2]):
            writer.data[:, :, k] = values[:, :, k]
            writer.release()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    np.testing.assert_array_equal(nib.load(tmp_path / name).get_fdata(), values)
    if name.endswith(".gz"):
        with gzip.open(tmp_path / name) as handle:
            assert len(handle.read()) == 352 + values.nbytes


def test_writer_leaves_nothing_behind_on_failure(tmp_path):
    old = tmp_path / "out.nii.gz"
    old.write_bytes(b"the previous result")
    with (
        pytest.raises(RuntimeError, match="crash"),
        NiftiWriter(old, writer_header((4, 4, 4)), 1) as writer,
    ):
        writer.data[:] = 1.0
        raise RuntimeError("crash")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nii.gz"]
    assert old.read_bytes() == b"the previous result"
