"""predict.py: inputs from a file, a folder or a pattern, outputs planned and checked before any
work, the Hydra config in step with the Python defaults, and the command end to end."""

import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from srmri.inference import PredictOptions, find_inputs, plan_outputs, predict_file
from srmri.tasks.predict import options_from_config, predict
from tests.unit.inference.conftest import nifti, smooth_volume

ROOT = Path(__file__).parents[3]


@pytest.fixture
def scans(tmp_path) -> Path:
    folder = tmp_path / "scans"
    folder.mkdir()
    for i, name in enumerate(["b.nii.gz", "a.nii", "c.nii.gz"]):
        nib.save(nifti(smooth_volume((8, 6, 3 + i), i), np.eye(4)), folder / name)
    (folder / "notes.txt").write_text("not an image")
    (folder / "sub").mkdir()
    return folder


def config(**overrides):
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
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


def test_task_super_resolves_a_folder(scans, tmp_path, checkpoint, tiny_module):
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


def run_cli(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "WANDB_MODE": "offline"}
    return subprocess.run(
        [sys.executable, str(ROOT / "predict.py"), *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_command_line_end_to_end(scans, tmp_path, checkpoint):
    out = tmp_path / "out"
    out.mkdir()
    arguments = [f"ckpt_path={checkpoint}", f"input={scans}/*.nii.gz", f"output={out}"]
    done = run_cli(*arguments, "view=coronal", "tile=4", "progress=false", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["b.nii.gz", "c.nii.gz"]
    assert nib.load(out / "b.nii.gz").shape == (16, 6, 6)
    # Hydra keeps the run's config and log under logs/predict/, never next to the data.
    assert (tmp_path / "logs" / "predict").is_dir()
    assert sorted(p.name for p in scans.iterdir()) == [
        "a.nii",
        "b.nii.gz",
        "c.nii.gz",
        "notes.txt",
        "sub",
    ]

    again = run_cli(*arguments, cwd=tmp_path)
    assert again.returncode != 0
    assert f"{out / 'b.nii.gz'}: output exists; pass overwrite=true" in again.stderr
