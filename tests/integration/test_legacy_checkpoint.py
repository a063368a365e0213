"""evaluate.py and predict.py accept a checkpoint written by srmri 0.1.0, before the regroup."""

from __future__ import annotations

import csv
import json
import math

import nibabel as nib
import numpy as np
import pytest

from srmri.inference import predict_volume
from srmri.io.checkpoints import load_module
from tests.helpers import LEGACY_CHECKPOINT, run_script
from tests.volumes import affine_for, nifti, smooth_volume


@pytest.mark.slow
def test_evaluate_py_scores_the_old_checkpoint_next_to_bicubic(tmp_path):
    out = tmp_path / "report"
    done = run_script(
        "evaluate.py",
        f"ckpt_path={LEGACY_CHECKPOINT}",
        "views=[axial]",
        "angles=[0]",
        "slices=[10,20]",
        f"output_dir={out}",
        "progress=false",
        "print_config=false",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["models"] == ["wdsr_a"]
    with (out / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    scored = {(row["method"], row["region"], int(row["slice"])) for row in rows}
    assert scored == {
        (method, region, k)
        for method in ("wdsr_a", "bicubic")
        for region in ("image", "brain")
        for k in (10, 20)
    }
    assert all(math.isfinite(float(row["psnr"])) for row in rows)
    # Both slices enter the model's mean (neither is left out as not finite).
    assert summary["scores"]["wdsr_a"]["axial"]["image"]["n"] == 2


@pytest.mark.slow
def test_predict_py_super_resolves_a_volume_with_the_old_checkpoint(tmp_path):
    volume = smooth_volume((16, 12, 3), seed=5)
    nib.save(nifti(volume, affine_for("RAS")), tmp_path / "lr.nii.gz")
    output = tmp_path / "sr.nii.gz"
    done = run_script(
        "predict.py",
        f"ckpt_path={LEGACY_CHECKPOINT}",
        f"input={tmp_path / 'lr.nii.gz'}",
        f"output={output}",
        "progress=false",
        "device=cpu",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    written = nib.load(output)
    assert written.shape == (32, 24, 3)
    # The command gives what the library gives for the same file and checkpoint.
    expected = predict_volume(
        nifti(volume, affine_for("RAS")), load_module(LEGACY_CHECKPOINT), progress=False
    )
    np.testing.assert_allclose(written.get_fdata(), expected.get_fdata(), rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(written.affine, expected.affine)
