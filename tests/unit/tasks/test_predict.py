"""The predict task: inputs from a file, a folder or a pattern, outputs planned and checked before
any work, the Hydra config in step with the Python defaults, a folder super-resolved."""

from dataclasses import fields
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from omegaconf import OmegaConf

from benchmarks.common import ROOT, compose
from srmri.inference import PredictOptions, find_inputs, plan_outputs, predict_file
from srmri.tasks.predict import options_from_config, predict
from tests import helpers
from tests.volumes import nifti, scan_folder


@pytest.fixture
def scans(tmp_path) -> Path:
    return scan_folder(tmp_path / "scans")


def config(**overrides):
    return compose("predict", [f"{k}={v}" for k, v in overrides.items()])


def test_inputs_from_a_file_a_folder_and_a_pattern(scans):
    assert find_inputs(scans / "a.nii") == [scans / "a.nii"]
    assert [p.name for p in find_inputs(scans)] == ["a.nii", "b.nii.gz", "c.nii.gz"]
    assert [p.name for p in find_inputs(f"{scans}/*.nii.gz")] == ["b.nii.gz", "c.nii.gz"]
    with pytest.raises(FileNotFoundError, match="input not found"):
        find_inputs(scans / "z.nii")
    with pytest.raises(FileNotFoundError, match=r"no \.nii or \.nii\.gz file found"):
        find_inputs(f"{scans}/*.mgz")


def test_outputs_are_planned_and_checked_first(scans, tmp_path):
    options = PredictOptions()
    out = tmp_path / "out"
    with pytest.raises(FileNotFoundError, match="output folder does not exist"):
        plan_outputs(scans, out, options)
    out.mkdir()
    jobs = plan_outputs(scans, out, options)
    assert [(s.name, t) for s, t in jobs] == [
        (n, out / n) for n in ["a.nii", "b.nii.gz", "c.nii.gz"]
    ]
    assert plan_outputs(scans / "a.nii", out, options) == [(scans / "a.nii", out / "a.nii")]
    assert plan_outputs(scans / "a.nii", out / "x.nii.gz", options) == [
        (scans / "a.nii", out / "x.nii.gz")
    ]
    (out / "c.nii.gz").write_bytes(b"")
    with pytest.raises(FileExistsError, match=r"c\.nii\.gz: output exists"):
        plan_outputs(scans, out, options)
    with pytest.raises(ValueError, match="one brain mask but 3 inputs"):
        plan_outputs(scans, out, PredictOptions(mask="mask.nii.gz", overwrite=True))


def test_inputs_with_one_name_cannot_share_a_folder(tmp_path):
    for sub in ("s1", "s2"):
        (tmp_path / sub).mkdir()
        nib.save(nifti(np.ones((4, 4, 2), np.float32), np.eye(4)), tmp_path / sub / "t1.nii.gz")
    (tmp_path / "out").mkdir()
    with pytest.raises(ValueError, match=r"share the output name\(s\) \['t1.nii.gz'\]"):
        plan_outputs(f"{tmp_path}/s*/t1.nii.gz", tmp_path / "out", PredictOptions())


def test_config_defaults_are_the_python_defaults():
    cfg = OmegaConf.load(ROOT / "conf" / "predict.yaml")
    for field in fields(PredictOptions):
        assert cfg[field.name] == field.default, field.name


def test_task_super_resolves_a_folder(scans, tmp_path, make_checkpoint):
    checkpoint, tiny_module = make_checkpoint(), helpers.tiny_module().eval()
    out = tmp_path / "out"
    out.mkdir()
    cfg = config(
        ckpt_path=checkpoint,
        input=scans,
        output=out,
        progress=False,
        batch_size=2,
        **{"paths.output_dir": tmp_path / "run"},
    )
    assert options_from_config(cfg) == PredictOptions(progress=False, batch_size=2)
    outputs = predict(cfg)
    assert [p.name for p in outputs] == ["a.nii", "b.nii.gz", "c.nii.gz"]
    expected = predict_file(scans / "c.nii.gz", tmp_path / "c.nii.gz", tiny_module, progress=False)
    np.testing.assert_allclose(
        nib.load(out / "c.nii.gz").get_fdata(), nib.load(expected).get_fdata(), rtol=1e-5
    )
