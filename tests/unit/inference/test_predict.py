"""The prediction functions: files match memory, 4-D series, AMP, devices, checkpoints, refused
outputs, and no half-written volume after a crash."""

import re

import nibabel as nib
import numpy as np
import pytest
import torch

from srmri.data import DataError
from srmri.inference import predict_file, predict_volume
from srmri.inference.slices import SliceResolver, resolve_device
from srmri.io.checkpoints import load_module
from srmri.io.errors import ConfigError
from tests import helpers
from tests.helpers import TINY_WDSR
from tests.volumes import (
    affine_for,
    nifti,
    smooth_volume,
)


@pytest.mark.parametrize(("name", "view"), [("out.nii", "axial"), ("out.nii.gz", "coronal")])
def test_file_output_equals_the_in_memory_result(tmp_path, tiny_module, name, view):
    image = nifti(smooth_volume((12, 9, 7), 0), affine_for("PSL", angles=(10, 0, -6)))
    nib.save(image, tmp_path / "in.nii.gz")
    # Batches of 2 over an odd slice count: the last batch is partial; pages released between.
    path = predict_file(
        tmp_path / "in.nii.gz",
        tmp_path / name,
        tiny_module,
        view=view,
        batch_size=2,
        progress=False,
    )
    expected = predict_volume(image, tiny_module, view=view, batch_size=5, progress=False)
    out = nib.load(path)
    assert out.get_data_dtype() == np.float32
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.affine, expected.affine, atol=1e-6)
    np.testing.assert_allclose(out.get_fdata(), expected.get_fdata(), atol=1e-4)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["in.nii.gz", name])


def test_every_volume_of_a_series_gets_its_own_window(tmp_path, tiny_module):
    base = smooth_volume((10, 8, 5), 1)
    series = np.stack([base * (t + 1) for t in range(3)], axis=-1)
    nib.save(nifti(series, affine_for("RAS")), tmp_path / "series.nii.gz")
    out = nib.load(
        predict_file(
            tmp_path / "series.nii.gz", tmp_path / "sr.nii.gz", tiny_module, progress=False
        )
    )
    assert out.shape == (20, 16, 5, 3)
    single = predict_volume(nifti(base, affine_for("RAS")), tiny_module, progress=False).get_fdata()
    for t in range(3):
        # The window scales with the volume, so the normalised slices are the same ones.
        np.testing.assert_allclose(out.get_fdata()[..., t], single * (t + 1), rtol=1e-5, atol=1e-3)


def test_series_are_refused_when_asked(tmp_path, tiny_module):
    nib.save(nifti(np.ones((6, 6, 4, 2), np.float32), np.eye(4)), tmp_path / "series.nii")
    with pytest.raises(DataError, match=r"series\.nii: shape \(6, 6, 4, 2\) holds 2 volumes"):
        predict_file(
            tmp_path / "series.nii",
            tmp_path / "sr.nii",
            tiny_module,
            volumes_4d="error",
            progress=False,
        )
    assert not (tmp_path / "sr.nii").exists()


def test_trailing_singleton_axis_is_one_volume(tiny_module):
    volume = smooth_volume((10, 8, 5), 2)
    out = predict_volume(
        nifti(volume[..., None], np.eye(4)), tiny_module, volumes_4d="error", progress=False
    )
    expected = predict_volume(nifti(volume, np.eye(4)), tiny_module, progress=False)
    assert out.shape == (20, 16, 5, 1)
    np.testing.assert_allclose(out.get_fdata()[..., 0], expected.get_fdata(), atol=1e-5)


def test_bfloat16_is_close_to_float32_but_not_identical(tiny_module):
    image = nifti(smooth_volume((16, 16, 3), 3), np.eye(4))
    full = predict_volume(image, tiny_module, precision="float32", progress=False).get_fdata()
    fast = predict_volume(image, tiny_module, precision="bfloat16", progress=False).get_fdata()
    span = full.max() - full.min()
    assert 0 < np.abs(fast - full).max() < 0.02 * span


@pytest.mark.gpu
def test_auto_device_takes_cuda_when_there_is_one():
    assert resolve_device("auto").type == "cuda"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the fallback without a GPU")
def test_auto_device_is_the_cpu_without_a_gpu():
    assert resolve_device("auto").type == "cpu"


def test_devices_are_read_or_refused():
    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("abacus")


def test_the_callers_module_is_left_as_it_was(tiny_module):
    before = {k: v.clone() for k, v in tiny_module.state_dict().items()}
    predict_volume(
        nifti(smooth_volume((8, 8, 2), 4, background=False), np.eye(4)), tiny_module, progress=False
    )
    after = tiny_module.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.device.type == "cpu" for p in tiny_module.parameters())


def test_progress_bar_counts_slices_on_a_terminal_only(capsys, monkeypatch, tiny_module):
    image = nifti(smooth_volume((8, 8, 6), 5, background=False), np.eye(4))
    predict_volume(image, tiny_module)
    # On a pipe or in a log file the bar would only be a stale line: none is drawn there.
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    predict_volume(image, tiny_module)
    assert "6/6" in capsys.readouterr().err


def test_checkpoint_round_trip_gives_the_same_volume(tmp_path, checkpoint, tiny_module):
    image = nifti(smooth_volume((10, 8, 3), 6), np.eye(4))
    restored = load_module(checkpoint)
    np.testing.assert_array_equal(
        predict_volume(image, restored, progress=False).get_fdata(),
        predict_volume(image, tiny_module, progress=False).get_fdata(),
    )


def test_checkpoint_for_another_channel_count_is_refused(tmp_path):
    rgb = helpers.tiny_module({**TINY_WDSR, "channels": 3}, name="rgb").eval()
    path = helpers.save_checkpoint(rgb, tmp_path / "rgb.ckpt")
    with pytest.raises(ValueError, match=r"rgb\.ckpt: the network takes 3-channel images"):
        load_module(path)
    with pytest.raises(ValueError, match="model 'rgb': the network takes 3-channel images"):
        predict_volume(nifti(np.ones((4, 4, 2), np.float32), np.eye(4)), rgb, progress=False)


def test_missing_or_foreign_checkpoint_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"none\.ckpt does not exist"):
        load_module(tmp_path / "none.ckpt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.ckpt")
    with pytest.raises(ValueError, match=r"other\.ckpt holds a dict without a 'state_dict'"):
        load_module(tmp_path / "other.ckpt")


@pytest.fixture
def scan(tmp_path):
    path = tmp_path / "scan.nii.gz"
    nib.save(nifti(smooth_volume((8, 8, 6), 7), np.eye(4)), path)
    return path


def test_existing_output_is_refused_unless_overwrite(scan, tiny_module):
    output = scan.with_name("sr.nii.gz")
    output.write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match=re.escape(f"{output}: output exists")):
        predict_file(scan, output, tiny_module, progress=False)
    assert output.read_bytes() == b"keep me"
    predict_file(scan, output, tiny_module, overwrite=True, progress=False)
    assert nib.load(output).shape == (16, 16, 6)


def test_output_folder_must_exist(scan, tiny_module):
    missing = scan.parent / "missing"
    with pytest.raises(
        FileNotFoundError, match=re.escape(f"{missing}: output folder does not exist")
    ):
        predict_file(scan, missing / "sr.nii.gz", tiny_module, progress=False)
    assert not missing.exists()


def test_output_name_and_input_itself_are_checked(scan, tiny_module):
    with pytest.raises(ValueError, match=r"sr\.img: output name must end in \.nii or \.nii\.gz"):
        predict_file(scan, scan.with_name("sr.img"), tiny_module, progress=False)
    with pytest.raises(ValueError, match="output is the input file itself"):
        predict_file(scan, scan, tiny_module, overwrite=True, progress=False)


def test_a_crash_leaves_no_half_written_volume(scan, tiny_module, monkeypatch):
    output = scan.with_name("sr.nii.gz")
    output.write_bytes(b"previous result")
    calls = []
    original = SliceResolver.__call__

    def failing(self, lr):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("out of memory")
        return original(self, lr)

    monkeypatch.setattr(SliceResolver, "__call__", failing)
    with pytest.raises(RuntimeError, match="out of memory"):
        predict_file(scan, output, tiny_module, batch_size=2, overwrite=True, progress=False)
    assert sorted(p.name for p in scan.parent.iterdir()) == ["scan.nii.gz", "sr.nii.gz"]
    assert output.read_bytes() == b"previous result"


def test_bad_options_are_refused(tiny_module):
    image = nifti(np.ones((4, 4, 2), np.float32), np.eye(4))
    for key, value in [("view", "oblique"), ("batch_size", 0), ("dtype", "int8"), ("tile", 0)]:
        with pytest.raises(ConfigError, match=f"^{key}=.*: expected"):
            predict_volume(image, tiny_module, **{key: value})


def test_scale_of_the_checkpoint_sets_the_output_grid():
    module = helpers.tiny_module(scale=3).eval()
    out = predict_volume(
        nifti(smooth_volume((7, 5, 2), 8, background=False), np.eye(4)), module, progress=False
    )
    assert out.shape == (21, 15, 2)
    np.testing.assert_allclose(out.header.get_zooms(), (1 / 3, 1 / 3, 1.0), rtol=1e-6)
