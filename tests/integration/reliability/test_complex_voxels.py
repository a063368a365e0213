"""Complex voxels (e.g. raw k-space reconstructions) are refused by both NIfTI readers, by name.

Read as real numbers they would lose their imaginary part without a word.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from srmri.data import DataError, VolumeRecord, load_volume
from srmri.data.volume import read_nifti
from srmri.inference.nifti import open_input
from srmri.inference.predict import predict_volume
from tests.helpers import tiny_module


@pytest.fixture
def complex_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    voxels = (rng.random((12, 12, 6)) + 1j * rng.random((12, 12, 6))).astype(np.complex64)
    path = tmp_path / "complex_T1.nii.gz"
    nib.save(nib.Nifti1Image(voxels, np.eye(4)), path)
    assert nib.load(path).get_data_dtype() == np.complex64
    return path


def test_training_and_evaluation_reader_refuses_complex_voxels(complex_file: Path):
    message = rf"{complex_file.name}.*complex64.*expected real numbers"
    with pytest.raises(DataError, match=message):
        load_volume(VolumeRecord("s", "T1", complex_file), {"method": "minmax"})
    with pytest.raises(DataError, match=message):
        read_nifti(complex_file)


def test_prediction_reader_refuses_complex_voxels(complex_file: Path):
    message = rf"{complex_file.name}.*complex64.*expected real numbers"
    with pytest.raises(DataError, match=message):
        open_input(complex_file)
    with pytest.raises(DataError, match=message):
        predict_volume(complex_file, tiny_module().eval(), progress=False)
    # An image held in memory has no file name; it is refused all the same.
    in_memory = nib.Nifti1Image(np.asarray(nib.load(complex_file).dataobj), np.eye(4))
    with pytest.raises(DataError, match=r"in-memory image.*complex64.*expected real numbers"):
        open_input(in_memory)
