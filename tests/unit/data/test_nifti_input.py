"""Bad input on the NIfTI reading path: every failure is a DataError naming the file."""

from __future__ import annotations

import gzip
import struct
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from srmri.data import DataError, VolumeRecord, load_volume
from srmri.data.records import NONZERO

DTYPES = ("uint8", "int8", "int16", "uint16", "int32", "float32", "float64", "complex64")
# Byte offset and struct format of header fields in a NIfTI-1 file (little endian).
HEADER_FIELDS = {
    "sizeof_hdr": (0, "<i"),
    "dim0": (40, "<h"),
    "dim1": (42, "<h"),
    "dim3": (46, "<h"),
    "dim4": (48, "<h"),
    "datatype": (70, "<h"),
    "bitpix": (72, "<h"),
    "pixdim1": (80, "<f"),
    "pixdim3": (88, "<f"),
    "vox_offset": (108, "<f"),
    "scl_slope": (112, "<f"),
    "scl_inter": (116, "<f"),
    "qform_code": (252, "<h"),
    "sform_code": (254, "<h"),
    "quatern_b": (256, "<f"),
    "srow_x0": (280, "<f"),
    "srow_z2": (320, "<f"),
    "magic": (344, "<i"),
}
MINMAX = {"method": "minmax", "use_mask": False}

finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=32)
header_edits = st.lists(
    st.tuples(
        st.sampled_from(sorted(HEADER_FIELDS)),
        st.one_of(st.integers(-(2**15), 2**15 - 1), finite_or_not),
    ),
    max_size=3,
)


@st.composite
def nifti_bytes(draw) -> bytes:
    """A NIfTI-1 file (uncompressed bytes) of random shape, type, values and affine."""
    # Half the files are 3-D, so that the loading steps after the header checks are reached too.
    dims = draw(st.one_of(st.just(3), st.integers(1, 5)))
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=dims, max_size=dims)))
    dtype = draw(st.sampled_from(DTYPES))
    fill = draw(st.sampled_from(("random", "constant", "zero", "nan", "inf")))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    data = (rng.random(shape) * 200).astype(dtype)
    if fill == "constant":
        data[...] = 7
    elif fill == "zero":
        data[...] = 0
    elif fill in ("nan", "inf") and np.issubdtype(data.dtype, np.floating):
        data.flat[0] = np.nan if fill == "nan" else np.inf
    # Broken geometry comes from the header edits (pixdim, quaternion, srow, codes).
    zooms = draw(st.lists(st.floats(0.1, 5.0), min_size=3, max_size=3))
    affine = np.diag([*zooms, 1.0])
    if draw(st.booleans()):
        affine[:3, :3] = affine[:3, :3][:, [1, 0, 2]]
    image = nib.Nifti1Image(data, affine)
    image.header.set_data_dtype(dtype)
    image.header["scl_slope"] = draw(st.sampled_from([np.nan, 1.0, 0.0, 2.5, np.inf]))
    return image.to_bytes()


def edit_header(raw: bytes, edits: list[tuple[str, float]]) -> bytes:
    raw = bytearray(raw)
    for name, value in edits:
        offset, fmt = HEADER_FIELDS[name]
        if fmt == "<h":
            value = int(np.clip(np.nan_to_num(value), -(2**15), 2**15 - 1))
        elif fmt == "<i":
            value = int(np.clip(np.nan_to_num(value), -(2**31), 2**31 - 1))
        struct.pack_into(fmt, raw, offset, value)
    return bytes(raw)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    raw=nifti_bytes(),
    edits=header_edits,
    keep=st.one_of(st.none(), st.floats(0.0, 1.0)),
    compressed=st.booleans(),
    mask=st.sampled_from([None, NONZERO]),
)
def test_any_file_loads_or_fails_with_a_data_error_naming_it(raw, edits, keep, compressed, mask):
    raw = edit_header(raw, edits)
    if compressed:
        raw = gzip.compress(raw)
    if keep is not None:
        raw = raw[: int(len(raw) * keep)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("scan.nii.gz" if compressed else "scan.nii")
        path.write_bytes(raw)
        try:
            volume = load_volume(VolumeRecord("s", "T1", path, mask), MINMAX)
        except DataError as error:
            event(str(error).split(": ")[1][:40])
            assert str(path) in str(error)
            return
    event("loaded")
    assert volume.image.ndim == 3
    assert volume.image.dtype == torch.float32
    assert torch.isfinite(volume.image).all()
    assert 0.0 <= float(volume.image.min()) <= float(volume.image.max()) <= 1.0


@pytest.mark.parametrize("declared", [400, 30000])
def test_a_header_declaring_more_voxels_than_the_file_holds_is_refused_before_reading(
    tmp_path, declared
):
    image = nib.Nifti1Image(np.ones((4, 4, 4), np.float32), np.eye(4))
    raw = edit_header(image.to_bytes(), [("dim1", declared), ("dim3", declared)])
    for name, content in (("big.nii", raw), ("big.nii.gz", gzip.compress(raw))):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(DataError, match=rf"{path}: .*header declares"):
            load_volume(VolumeRecord("s", "T1", path), MINMAX)
