"""Evaluation with the open degradation family: a kspace model is scored against bicubic AND
zero-fill on the same LR and pixels; overrides keep the models' scale; non-square grids are refused."""

import numpy as np
import pytest
import torch

from srmri.data import SRDataModule
from srmri.data.sources import Mni152Source
from srmri.degradation import KSpace, zero_fill
from srmri.evaluation.comparison import CheckpointError
from tests import reference
from tests.helpers import NORMALISATION
from tests.integration.test_evaluate import read_csv, run
from tests.unit.degradation.test_kspace import interpolant_rows
from tests.unit.evaluation.test_comparison import compare

KSPACE = {"_target_": "srmri.degradation.KSpace", "scale": 2, "window": "none", "noise_std": 0.0}


def test_a_kspace_model_is_compared_with_bicubic_and_zero_fill(make_checkpoint):
    path = make_checkpoint("net", degradation=KSPACE)
    comparison = compare([(None, path)])
    assert [m.name for m in comparison.methods] == ["bicubic", "zero_fill", "net"]
    assert comparison.degradation == KSpace(2)
    lr = torch.rand(1, 1, 6, 5, dtype=torch.float64)
    zero_filled = comparison.methods[1].upscale(lr)
    np.testing.assert_allclose(zero_filled.numpy(), zero_fill(lr, 2).numpy())
    # Asked for explicitly, it is scored once.
    again = compare([(None, path)], baselines=["bicubic", "zero_fill"])
    assert [m.name for m in again.methods] == ["bicubic", "zero_fill", "net"]


def test_a_degradation_override_takes_the_models_scale(make_checkpoint):
    path = make_checkpoint("net", scale=2)
    chosen = compare([(None, path)], degradation={**KSPACE, "scale": 4, "window": "hamming"})
    assert chosen.degradation == KSpace(2, window="hamming")
    assert any("replaced by the models' x2" in note for note in chosen.notes)
    assert any("trained with degradation Degradation(" in note for note in chosen.notes)


def test_a_degradation_that_does_not_match_the_models_grid_is_refused(make_checkpoint):
    path = make_checkpoint("net", scale=2)
    slices = {"_target_": "srmri.degradation.SliceProfile", "thickness": 2.0, "spacing": 2.0}
    with pytest.raises(CheckpointError, match=r"x2 \(H\) x1 \(W\).*x2 along both axes"):
        compare([(None, path)], degradation=slices)


@pytest.mark.slow
def test_evaluate_scores_zero_fill_on_the_same_pixels(tmp_path, srmri_cache):
    from srmri.data import slice_of

    summary = run(
        tmp_path, srmri_cache, "model=bicubic", "degradation=kspace", "angles=[0,18]", "slices=[20]"
    )
    assert summary["methods"] == ["bicubic", "zero_fill"]
    # k-space truncation reaches every pixel: a turned slice cannot be scored, so angle 0 only.
    assert any("reduced to [0]" in note for note in summary["setup"]["notes"])
    rows = read_csv(tmp_path / "out" / "metrics.csv")
    assert {r["angle"] for r in rows} == {"0"}
    row = next(r for r in rows if r["method"] == "zero_fill" and r["region"] == "image")
    # The test's own NumPy computation: the slice cropped to x2, its k-space LR (float32, as the
    # study runs), zero-filled by the DFT interpolant, scored over the whole slice at angle 0.
    # conf/data/mni152.yaml's normalisation: the window measured on the LR images, not clipped;
    # k-space sees no intensity below 0, the target is clipped to [0, 1].
    normalisation = {**NORMALISATION, "measured_on": "lr"}
    volume = SRDataModule(
        Mni152Source(srmri_cache), normalisation=normalisation, degradation=KSpace(2)
    ).volumes("test")[0]
    unclipped = slice_of(volume.image, "axial", 20)[:196, :232]
    hr = unclipped.clamp(0, 1)
    lr = KSpace(2)(unclipped[None, None])[0, 0].double().numpy()
    spectrum = np.fft.fft2(lr) / lr.size
    u_y, u_x = (np.arange(196) + 0.5) / 2 - 0.5, (np.arange(232) + 0.5) / 2 - 0.5
    sr = np.real(interpolant_rows(98, u_y) @ spectrum @ interpolant_rows(116, u_x).T)
    expected = reference.psnr(sr, hr.double().numpy())
    assert float(row["psnr"]) == pytest.approx(expected, abs=1e-3)
