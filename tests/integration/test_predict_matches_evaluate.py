"""End to end: predict.py on an LR volume scores what evaluate.py scores on its HR volume.

A skull-stripped synthetic brain is degraded with the checkpoint's degradation (slice by slice,
axial) into an LR NIfTI file; ``predict_file`` super-resolves it with ``mask=nonzero``, and its
output is scored against the HR volume here, with NumPy. ``evaluate.py``'s task scores the same
checkpoint on the HR volume (``data.source.mask=nonzero``). Both measure the intensity window on
the LR image, so the per-slice PSNRs agree to float precision; they disagreed by several dB when
training and evaluation measured it on the HR volume.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from scipy import ndimage

from srmri.degradation import Degradation
from srmri.inference import predict_file
from srmri.io.checkpoints import load_module
from srmri.tasks.evaluate import evaluate
from tests import reference
from tests.conftest import compose_config
from tests.helpers import TINY_WDSR, save_checkpoint, tiny_module
from tests.unit.data.conftest import save_nifti, synthetic_brain

SHAPE = (40, 44, 9)
SLICES = [2, 4, 6]
SCALE = 2
NORMALISATION = {
    "method": "percentile",
    "lower": 0.5,
    "upper": 99.5,
    "use_mask": True,
    "measured_on": "lr",
}
TOLERANCE_DB = 0.05


def axial_lr(hr: np.ndarray, degradation: Degradation) -> np.ndarray:
    """The LR volume of ``hr`` ``(X, Y, Z)`` (zero background, values >= 0): every axial slice
    degraded in the [0, 1] range the degradation works in, then put back into ``hr``'s units."""
    top = float(hr.max())
    slices = torch.from_numpy(np.moveaxis(hr / top, 2, 0)[:, None].copy())
    lr = degradation(slices)[:, 0].numpy()
    return np.moveaxis(lr, 0, 2) * top


def lr_affine(affine: np.ndarray) -> np.ndarray:
    """The LR grid of an axial acquisition: voxels ``SCALE`` times larger in X and Y, same field."""
    lr = affine.copy()
    lr[:3, :2] *= SCALE
    lr[:3, 3] += (SCALE - 1) / 2 * (affine[:3, 0] + affine[:3, 1])
    return lr


def evaluation_psnrs(tmp_path: Path, checkpoint: Path, root: Path) -> dict[int, float]:
    cfg = compose_config(
        "evaluate",
        [
            f"ckpt_path={checkpoint}",
            "data=nifti_folder",
            f"data.source.root={root}",
            "data.source.patterns=[sub*.nii.gz]",
            "data.source.mask=nonzero",
            "data.source.fixed={train: [sub01], val: [sub02], test: [sub00]}",
            "data.num_workers=0",
            "data.cache_workers=1",
            "views=[axial]",
            "angles=[0]",
            f"slices={SLICES}",
            f"output_dir={tmp_path / 'report'}",
            "logger=none",
            "progress=false",
            "print_config=false",
        ],
        tmp_path / "run",
        name="predict_matches_evaluate",
    )
    evaluate(cfg)
    with (tmp_path / "report" / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    return {
        int(row["slice"]): float(row["psnr"])
        for row in rows
        if row["method"] == "tiny" and row["region"] == "image"
    }


@pytest.mark.slow
def test_predict_on_the_degraded_volume_scores_as_evaluate_does(tmp_path):
    root = tmp_path / "scans"
    affine = np.diag([1.0, 1.0, 2.0, 1.0])
    for seed in range(3):
        image, mask = synthetic_brain(SHAPE, seed)
        save_nifti(root / f"sub{seed:02d}_T1.nii.gz", image * mask, affine)
    hr = nib.load(root / "sub00_T1.nii.gz").get_fdata().astype(np.float32)

    module = tiny_module(TINY_WDSR, normalisation=NORMALISATION).eval()
    checkpoint = save_checkpoint(module, tmp_path / "tiny.ckpt")
    restored = load_module(checkpoint)
    lr = axial_lr(hr, restored.degradation)
    lr_path = save_nifti(tmp_path / "lr.nii.gz", lr.astype(np.float32), lr_affine(affine))
    out = predict_file(
        lr_path, tmp_path / "sr.nii.gz", restored, view="axial", mask="nonzero", progress=False
    )
    sr = nib.load(out).get_fdata()

    # The window as the README states it, computed here: percentiles 0.5 / 99.5 of the LR input's
    # voxels > 0 less a 2-voxel rim.
    inside = ndimage.binary_erosion(lr > 0, iterations=2)
    lo, hi = np.percentile(lr[inside].astype(np.float64), [0.5, 99.5])
    hr_normalised = np.clip((hr - lo) / (hi - lo), 0.0, 1.0)
    sr_normalised = (sr - lo) / (hi - lo)
    predicted = {k: reference.psnr(sr_normalised[:, :, k], hr_normalised[:, :, k]) for k in SLICES}

    evaluated = evaluation_psnrs(tmp_path, checkpoint, root)
    assert sorted(evaluated) == SLICES
    for k in SLICES:
        assert predicted[k] == pytest.approx(evaluated[k], abs=TOLERANCE_DB), (
            k,
            predicted,
            evaluated,
        )
