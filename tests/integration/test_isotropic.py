"""isotropic.py end to end on thick slices simulated from the MNI152 demo: a tiny-budget network
trained on the scan itself beats the cubic B-spline inside the brain; the run directory holds the
checkpoint and the W&B run, and ``ckpt_path`` re-applies the checkpoint without training."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from nilearn.datasets import load_mni152_brain_mask, load_mni152_template
from omegaconf import OmegaConf

from srmri.io.checkpoints import load_module
from srmri.isotropic import IsotropicOptions, isotropic_volume
from srmri.isotropic.simulate import thick_slices

ROOT = Path(__file__).parents[2]
TINY = {
    "budget": 60,
    "n_blocks": 4,
    "n_feats": 16,
    "train_batch": 8,
    "patch_rows": 48,
    "patch_width": 48,
}


def test_config_defaults_match_the_python_options():
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("isotropic", ["input=a.nii", "output=b.nii"])
    values = OmegaConf.to_container(cfg)
    for field in fields(IsotropicOptions):
        assert values[field.name] == field.default, field.name


def _brain_psnr(image: nib.Nifti1Image, truth: np.ndarray, mask: np.ndarray) -> float:
    """Independent of srmri.metrics: PSNR over the brain voxels, peak = the truth's brain max."""
    data = np.asarray(image.dataobj, np.float64)
    peak = truth[mask].max()
    error = np.mean((np.clip(data, 0, peak) - truth)[mask] ** 2)
    return float(10 * np.log10(peak**2 / error))


@pytest.mark.slow
def test_tiny_run_beats_cubic_and_reapplies_its_checkpoint(tmp_path):
    template = load_mni152_template(resolution=2)
    original = nib.Nifti1Image(np.asarray(template.dataobj, np.float32), template.affine)
    mask = np.asarray(load_mni152_brain_mask(resolution=2).dataobj) > 0
    # 6 mm Gaussian slices every 6 mm along the superior-inferior axis of the 2 mm template: k = 3.
    thick = thick_slices(original, axis=2, spacing=3)
    source = tmp_path / "thick.nii.gz"
    nib.save(thick, source)
    run_dir = tmp_path / "run"
    output = tmp_path / "iso.nii.gz"
    command = [
        sys.executable,
        str(ROOT / "isotropic.py"),
        f"input={source}",
        f"output={output}",
        *[f"{key}={value}" for key, value in TINY.items()],
        "progress=false",
        f"hydra.run.dir={run_dir}",
    ]
    environment = {**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "slice axis 2, k = 3" in done.stdout and "60 training steps" in done.stdout
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    assert checkpoint.is_file()
    assert list((run_dir / "wandb").glob("offline-run-*"))

    result = nib.load(output)
    n = thick.shape[2]
    assert result.shape == (*original.shape[:2], 3 * n)
    np.testing.assert_allclose(result.affine, original.affine, atol=1e-4)
    truth = np.asarray(original.dataobj, np.float64)[:, :, : 3 * n]
    region = mask[:, :, : 3 * n]
    cubic = isotropic_volume(source, method="cubic")
    srmri = _brain_psnr(result, truth, region)
    baseline = _brain_psnr(cubic, truth, region)
    assert srmri > baseline + 0.3, (srmri, baseline)

    # ckpt_path: the saved network, applied again without training, gives the same volume.
    again = isotropic_volume(source, module=load_module(checkpoint), progress=False)
    np.testing.assert_allclose(
        np.asarray(again.dataobj), np.asarray(result.dataobj), rtol=1e-5, atol=1e-3
    )
