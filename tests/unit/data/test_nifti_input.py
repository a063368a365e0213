"""Bad input on both NIfTI reading paths: training / evaluation's ``load_volume`` and prediction's
``open_input`` + ``read_volume``. Valid files load with the values written; each kind of damage
fails with its own DataError naming the file.

The fuzz tests draw 100 valid files and 12 of each of nine kinds of damage (half of the examples
are valid, so the steps after the header checks are exercised too). CI runs them derandomised
(the ``ci`` Hypothesis profile of tests/conftest.py).
"""

from __future__ import annotations

import gzip
import struct
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srmri.data import DataError, VolumeRecord, load_volume
from srmri.data.records import NONZERO
from srmri.inference.intensity import measure_window
from srmri.inference.nifti import open_input, read_volume

REAL_DTYPES = ("uint8", "int8", "int16", "uint16", "int32", "float32", "float64")
# Byte offset and struct format of header fields in a NIfTI-1 file (little endian).
HEADER_FIELDS = {
    "dim1": (42, "<h"),
    "dim3": (46, "<h"),
    "datatype": (70, "<h"),
    "magic": (344, "<i"),
}
MINMAX = {"method": "minmax", "use_mask": False}
# Kind of file -> (error of load_volume, error of the prediction reader); None: it loads.
EXPECTED = {
    "valid": (None, None),
    "complex": (
        r"voxels are of type complex64; expected real numbers",
        r"voxel type complex64; expected real numbers",
    ),
    "nonfinite": (r"NaN/Inf voxels", r"NaN/Inf voxels"),
    "constant": (
        r"cannot normalise intensities: .*empty intensity window",
        r"empty intensity window",
    ),
    "flat": (r"expected a 3-D volume, got shape", r"expected a 3-D volume \(or a 4-D series"),
    "series": (r"expected a 3-D volume, got shape", None),
    "truncated": (r"header declares|cannot read", r"cannot read"),
    "declares_more": (r"header declares", r"cannot read the voxels"),
    "bad_magic": (r"cannot read image as NIfTI", r"cannot read as NIfTI"),
    "bad_datatype": (r"cannot read image as NIfTI", r"cannot read as NIfTI"),
}
DAMAGE = [kind for kind in EXPECTED if kind != "valid"]
FUZZ = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}


@st.composite
def nifti_case(draw, kind: str) -> tuple[bytes, np.ndarray, tuple[float, float]]:
    """A file of ``kind``: ``(its bytes, the voxels written, (scl_slope, scl_inter))``."""
    dims = {"flat": 2, "series": 4}.get(kind, 3)
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=dims, max_size=dims)))
    # At least two voxels, so that a valid volume can hold two different values.
    shape = (max(shape[0], 2), *shape[1:])
    if kind == "series":
        shape = (*shape[:3], max(shape[3], 2))
    dtype = "complex64" if kind == "complex" else draw(st.sampled_from(REAL_DTYPES))
    if kind == "nonfinite":
        dtype = draw(st.sampled_from(["float32", "float64"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    # 1..100 fits every type and keeps every voxel > 0, so a nonzero mask is never empty.
    data = rng.uniform(1.0, 100.0, shape).astype(dtype)
    data.flat[0], data.flat[-1] = 1, 100
    if kind == "constant":
        data[...] = 7
    elif kind == "nonfinite":
        data.flat[draw(st.integers(0, data.size - 1))] = draw(st.sampled_from([np.nan, np.inf]))
    # Positive zooms on the diagonal: the file is already RAS, so loading keeps the voxel order.
    zooms = draw(st.lists(st.floats(0.5, 3.0), min_size=3, max_size=3))
    image = nib.Nifti1Image(data, np.diag([*zooms, 1.0]))
    image.header.set_data_dtype(dtype)
    scaling = (draw(st.sampled_from([1.0, 2.5])), draw(st.sampled_from([0.0, 3.0])))
    image.header.set_slope_inter(*scaling)
    raw = image.to_bytes()
    if kind == "declares_more":
        raw = edit_header(raw, {"dim1": shape[0] * draw(st.integers(2, 4))})
    elif kind == "bad_magic":
        raw = edit_header(raw, {"magic": draw(st.integers(0, 2**20))})
    elif kind == "bad_datatype":
        raw = edit_header(raw, {"datatype": draw(st.sampled_from([3, 999, 4096]))})
    if draw(st.booleans()):
        raw = gzip.compress(raw)
    if kind == "truncated":
        raw = raw[: int(len(raw) * draw(st.floats(0.0, 0.95)))]
    return raw, data, scaling


def edit_header(raw: bytes, edits: dict[str, int]) -> bytes:
    raw = bytearray(raw)
    for name, value in edits.items():
        offset, fmt = HEADER_FIELDS[name]
        struct.pack_into(fmt, raw, offset, value)
    return bytes(raw)


def read_for_prediction(path: Path) -> list[tuple[np.ndarray, tuple[float, float]]]:
    """What predict.py reads of a file: each 3-D volume and its intensity window (min-max)."""
    source = open_input(path)
    volumes = [read_volume(source, index) for index in source.volumes]
    return [(volume, measure_window(volume, MINMAX, None, source.name)) for volume in volumes]


def outcome(read, path: Path, expected: str | None, reader: str):
    """``read(path)``'s result when ``expected`` is None, else check the DataError it raises."""
    if expected is None:
        return read(path)
    with pytest.raises(DataError, match=expected) as caught:
        read(path)
    assert str(path) in str(caught.value), f"{reader}: the message does not name the file"
    return None


def check_both_readers(kind: str, case: tuple, mask: str | None) -> None:
    raw, data, (slope, inter) = case
    data_error, prediction_error = EXPECTED[kind]
    with tempfile.TemporaryDirectory() as folder:
        # The name says .nii.gz only when the bytes are gzip: the readers go by the content.
        path = Path(folder) / ("scan.nii.gz" if raw[:2] == b"\x1f\x8b" else "scan.nii")
        path.write_bytes(raw)
        record = VolumeRecord("s", "T1", path, mask)
        volume = outcome(lambda p: load_volume(record, MINMAX), path, data_error, "load_volume")
        predicted = outcome(read_for_prediction, path, prediction_error, "prediction")
    if volume is not None:
        values = data.astype(np.float64) * slope + inter
        # Min-max normalised, voxel for voxel (the file is RAS: no reorientation).
        expected = (values - values.min()) / (values.max() - values.min())
        np.testing.assert_allclose(volume.image.numpy(), expected, atol=1e-6)
        assert mask is None or bool(volume.mask.all())
    if predicted is not None:
        series = (data.astype(np.float64) * slope + inter).reshape(*data.shape[:3], -1)
        assert len(predicted) == series.shape[3]
        for index, (voxels, window) in enumerate(predicted):
            np.testing.assert_allclose(voxels, series[..., index], rtol=1e-6)
            assert window == pytest.approx((voxels.min(), voxels.max()))


@settings(max_examples=100, **FUZZ)
@given(case=nifti_case("valid"), mask=st.sampled_from([None, NONZERO]))
def test_valid_files_load_with_their_values_in_both_readers(case, mask):
    check_both_readers("valid", case, mask)


@pytest.mark.parametrize("kind", DAMAGE)
@settings(max_examples=12, **FUZZ)
@given(data=st.data(), mask=st.sampled_from([None, NONZERO]))
def test_each_kind_of_damage_fails_with_its_own_error_naming_the_file(kind, data, mask):
    check_both_readers(kind, data.draw(nifti_case(kind)), mask)


@pytest.mark.parametrize("declared", [400, 30000])
def test_a_header_declaring_more_voxels_than_the_file_holds_is_refused_before_reading(
    tmp_path, declared
):
    image = nib.Nifti1Image(np.ones((4, 4, 4), np.float32), np.eye(4))
    raw = edit_header(image.to_bytes(), {"dim1": declared, "dim3": declared})
    for name, content in (("big.nii", raw), ("big.nii.gz", gzip.compress(raw))):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(DataError, match=rf"{path}: .*header declares"):
            load_volume(VolumeRecord("s", "T1", path), MINMAX)
