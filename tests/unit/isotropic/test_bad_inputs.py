"""isotropic.py refuses what it cannot make isotropic, each time naming the file."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from srmri.data import DataError
from srmri.isotropic import isotropic_file, isotropic_files
from srmri.isotropic.grid import find_acquisition


def _save(path: Path, data: np.ndarray, zooms) -> Path:
    affine = np.diag([*zooms, 1.0])
    nib.save(nib.Nifti1Image(data.astype(np.float32), affine), path)
    return path


def _volume(shape=(10, 9, 4)) -> np.ndarray:
    return np.random.default_rng(0).random(shape).astype(np.float32)


@pytest.mark.parametrize(
    ("zooms", "axis", "message"),
    [
        ((1.0, 1.0, 1.0), None, "isotropic; nothing to do"),
        ((4.0, 1.0, 4.0), None, r"tied for the largest spacing; give axis="),
        ((1.0, 1.0, 1.15), None, "no spacing is clearly the largest"),
        ((1.0, 1.0, 1.4), 2, "only 1.40 x the in-plane spacing"),
        ((1.0, 1.0, 1.0), 2, "only 1.00 x the in-plane spacing"),
        ((1.0, 2.0, 4.0), None, "in-plane voxel sizes 1 x 2 mm differ"),
    ],
)
def test_refused_geometries_name_the_file(tmp_path, zooms, axis, message):
    source = _save(tmp_path / "scan.nii.gz", _volume(), zooms)
    with pytest.raises(DataError, match=message) as caught:
        isotropic_file(source, tmp_path / "out.nii.gz", method="cubic", axis=axis)
    assert str(source) in str(caught.value)
    assert not (tmp_path / "out.nii.gz").exists()


def test_axis_forces_the_slice_axis():
    acquisition = find_acquisition((4.0, 1.0, 1.0), (5, 20, 6), "scan")
    assert (acquisition.axis, acquisition.factor, acquisition.slices) == (0, 4.0, 5)
    assert acquisition.thin_slices == 20 and acquisition.thickness == 4.0
    # A spacing not clearly the largest becomes the slice axis when forced.
    forced = find_acquisition((1.0, 1.0, 1.6), (8, 8, 4), "scan", axis=2, thickness=1.2)
    assert (forced.axis, forced.factor, forced.thickness) == (2, 1.6, 1.2)
    assert find_acquisition((1.0, 1.0, 3.0), (8, 8, 4), "scan").axis == 2
    assert find_acquisition((1, 1, 3), (8, 8, 4), "scan", axis=-1).axis == 2


def test_two_d_four_d_nan_and_existing_outputs(tmp_path):
    flat = tmp_path / "flat.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((8, 8), np.float32), np.eye(4)), flat)
    with pytest.raises(DataError, match=r"flat\.nii\.gz: a 2-D image"):
        isotropic_file(flat, tmp_path / "o1.nii.gz", method="cubic")

    series = _save(tmp_path / "series.nii.gz", np.stack([_volume()] * 2, -1), (1, 1, 4))
    with pytest.raises(DataError, match=r"series\.nii\.gz: shape \(10, 9, 4, 2\) holds 2 volumes"):
        isotropic_file(series, tmp_path / "o2.nii.gz", method="cubic", volumes_4d="error")
    # volume by volume: each volume interpolated alone
    report = isotropic_file(series, tmp_path / "o2.nii.gz", method="cubic")
    out = nib.load(report.output)
    assert out.shape == (10, 9, 16, 2)
    np.testing.assert_allclose(out.dataobj[..., 0], out.dataobj[..., 1], atol=1e-6)

    broken = _volume()
    broken[2, 3, 1] = np.nan
    bad = _save(tmp_path / "nan.nii.gz", broken, (1, 1, 4))
    with pytest.raises(DataError, match=r"nan\.nii\.gz: 1 NaN/Inf voxels"):
        isotropic_file(bad, tmp_path / "o3.nii.gz", method="cubic")
    assert not (tmp_path / "o3.nii.gz").exists()

    good = _save(tmp_path / "good.nii.gz", _volume(), (1, 1, 4))
    existing = tmp_path / "exists.nii.gz"
    existing.write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match=r"exists\.nii\.gz: output exists; pass overwrite"):
        isotropic_file(good, existing, method="cubic")
    with pytest.raises(FileExistsError, match=r"exists\.nii\.gz: output exists"):
        isotropic_files(good, existing, method="cubic")
    assert existing.read_bytes() == b"keep me"
    isotropic_file(good, existing, method="cubic", overwrite=True)
    assert nib.load(existing).shape == (10, 9, 16)
