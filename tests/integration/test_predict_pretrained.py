"""predict.py and evaluate.py with shipped models: no ckpt_path takes the shipped model of the
scale (from a registry the test makes: SRMRI_PRETRAINED_DIR), adapt=true predicts with the
adapted model it saves, and every conflict or existing file is refused before any work."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from srmri.evaluation.settings import read_pretrained
from srmri.inference import predict_volume
from srmri.io.checkpoints import load_module
from srmri.io.errors import CheckpointError, ConfigError, MissingFileError, OutputExistsError
from srmri.pretrained.registry import ENVIRONMENT
from srmri.tasks.predict import predict
from tests.conftest import compose_config
from tests.helpers import run_script, shipped_folder
from tests.volumes import affine_for, nifti, smooth_volume


@pytest.fixture
def shipped(tmp_path, make_checkpoint, monkeypatch) -> Path:
    """A x2 checkpoint exported as ``any_contrast_x2`` into a registry the process points at."""
    checkpoint = make_checkpoint(seed=5)
    monkeypatch.setenv(ENVIRONMENT, str(shipped_folder(tmp_path / "pretrained", checkpoint)))
    return checkpoint


@pytest.fixture
def scan(tmp_path) -> Path:
    path = tmp_path / "lr.nii.gz"
    nib.save(nifti(smooth_volume((20, 18, 4), 6), affine_for("RAS")), path)
    return path


def config(tmp_path: Path, *overrides: str):
    return compose_config("predict", list(overrides), tmp_path / "run", "default")


@pytest.mark.slow
def test_predict_py_without_a_checkpoint_uses_the_shipped_model(tmp_path, shipped, scan):
    plain = tmp_path / "sr.nii.gz"
    # adapt=false is the shorthand of adapt.enabled=false (a node cannot be a flag for Hydra).
    common = ["precision=float32", "progress=false", "adapt=false"]
    done = run_script("predict.py", f"input={scan}", f"output={plain}", *common, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    expected = predict_volume(scan, load_module(shipped), precision="float32", progress=False)
    np.testing.assert_allclose(nib.load(plain).get_fdata(), expected.get_fdata(), atol=1e-5)

    assert not np.allclose(expected.get_fdata(), 0.0)


def test_adapt_true_predicts_with_the_adapted_model_it_saves(tmp_path, shipped, scan):
    saved, adapted = tmp_path / "adapted.pt", tmp_path / "sr_adapted.nii.gz"
    overrides = ["adapt.budget=2", "adapt.patch_size=8", f"adapt.save={saved}"]
    common = ["precision=float32", "progress=false"]
    predict(
        config(
            tmp_path,
            f"input={scan}",
            f"output={adapted}",
            "adapt.enabled=true",
            *overrides,
            *common,
        )
    )
    expected = predict_volume(scan, load_module(saved), precision="float32", progress=False)
    np.testing.assert_allclose(nib.load(adapted).get_fdata(), expected.get_fdata(), atol=1e-5)
    shipped_output = predict_volume(scan, load_module(shipped), precision="float32", progress=False)
    assert not np.allclose(expected.get_fdata(), shipped_output.get_fdata())


def test_conflicts_and_existing_files_are_refused_before_any_work(tmp_path, shipped, scan):
    out = f"output={tmp_path / 'sr.nii.gz'}"
    with pytest.raises(ConfigError, match="scale=4: shipped model any_contrast_x2 is a x2 model"):
        predict(config(tmp_path, f"input={scan}", out, "pretrained=any_contrast_x2", "scale=4"))
    with pytest.raises(ConfigError, match="scale=3: no shipped model"):
        predict(config(tmp_path, f"input={scan}", out, "scale=3"))
    existing = tmp_path / "kept.pt"
    existing.write_bytes(b"mine")
    with pytest.raises(OutputExistsError, match=f"{existing}: adapt.save exists"):
        predict(
            config(tmp_path, f"input={scan}", out, "adapt.enabled=true", f"adapt.save={existing}")
        )
    assert existing.read_bytes() == b"mine"
    assert not (tmp_path / "sr.nii.gz").exists()


def test_a_missing_or_damaged_shipped_file_is_refused_naming_it(tmp_path, shipped, scan):
    weights = tmp_path / "pretrained" / "weights" / "any_contrast_x2.pt"
    assert read_pretrained("any_contrast_x2") == [("any_contrast_x2", weights)]
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=f"{weights}: SHA-256"):
        read_pretrained(["any_contrast_x2"])
    weights.unlink()
    with pytest.raises(MissingFileError, match=f"{weights}: weights of the shipped model"):
        predict(config(tmp_path, f"input={scan}", f"output={tmp_path / 'sr.nii.gz'}"))
