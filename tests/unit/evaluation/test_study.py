"""The evaluation pass on real slices of the MNI152 demo volume, against independent computations."""

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from srmri.data import slice_of
from srmri.degradation import Degradation
from srmri.evaluation.comparison import build_comparison
from srmri.evaluation.methods import BASELINES, baseline
from srmri.evaluation.settings import read_settings
from srmri.evaluation.statistics import select
from srmri.evaluation.study import run_study
from tests import reference
from tests.helpers import NORMALISATION
from tests.unit.evaluation.test_settings import config

SLICES = [6, 22, 38]


def study(volume, checkpoints=(), baselines=("bicubic",), **overrides):
    settings = read_settings(config(baselines=list(baselines), slices=SLICES, **overrides))
    comparison = build_comparison(list(checkpoints), None, settings.baselines, 2, NORMALISATION)
    return run_study([volume], comparison, settings).scores.arrays()


def score(table, k, angle, method, region):
    rows = select(table, slice=k, angle=angle, method=method, region=region)
    assert rows.sum() == 1
    return float(table["psnr"][rows][0]), float(table["ssim"][rows][0])


def test_scores_equal_an_independent_computation_on_real_slices(mni_volume):
    table = study(mni_volume, angles=[0])
    degradation = Degradation(scale=2)
    for k in SLICES:
        hr = slice_of(mni_volume.image, "axial", k)[:196, :232].double().numpy()
        brain = slice_of(mni_volume.mask, "axial", k)[:196, :232].numpy()
        lr = degradation(torch.from_numpy(hr).float()[None, None])[0, 0].double().numpy()
        sr = np.clip(reference.resize(lr, hr.shape, a=-0.75, antialias=False), 0, 1)
        expected_ssim, ssim_map = structural_similarity(
            hr,
            sr,
            data_range=1.0,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            full=True,
        )
        interior = np.zeros_like(brain)
        interior[5:-5, 5:-5] = True
        got_psnr, got_ssim = score(table, k, 0.0, "bicubic", "image")
        assert got_psnr == pytest.approx(reference.psnr(sr, hr), abs=0.01)
        assert got_ssim == pytest.approx(expected_ssim, abs=1e-4)
        got_psnr, got_ssim = score(table, k, 0.0, "bicubic", "brain")
        # Inside the brain only: the mean runs over mask voxels, background left out.
        assert got_psnr == pytest.approx(reference.psnr(sr, hr, brain), abs=0.01)
        assert got_ssim == pytest.approx(ssim_map[brain & interior].mean(), abs=1e-4)
        assert got_psnr < score(table, k, 0.0, "bicubic", "image")[0] - 1.0


@pytest.mark.parametrize("name", BASELINES)
def test_every_baseline_is_best_aligned_unshifted(mni_volume, name):
    """On a pure bicubic down / up path, shifting the output by one pixel lowers PSNR."""
    hr = torch.stack([slice_of(mni_volume.image, "axial", k)[:196, :232] for k in SLICES])[:, None]
    sr = baseline(name, 2).upscale(Degradation(scale=2, preset="bicubic")(hr))
    inner = (..., slice(8, -8), slice(8, -8))

    def psnr_of(image):
        return np.mean(
            [
                reference.psnr(image[i][inner].numpy(), hr[i][inner].numpy())
                for i in range(len(SLICES))
            ]
        )

    aligned = psnr_of(sr)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                assert psnr_of(torch.roll(sr, shifts=(dy, dx), dims=(-2, -1))) < aligned - 0.1


@pytest.mark.slow
def test_a_model_equal_to_bicubic_scores_exactly_as_bicubic(mni_volume, make_checkpoint):
    twin = make_checkpoint("bicubic_twin", kind="bicubic")
    table = study(mni_volume, checkpoints=[("twin", twin)], angles=[0, 30])
    for region in ("image", "brain"):
        for metric in ("psnr", "ssim"):
            model = table[metric][select(table, method="twin", region=region)]
            bicubic = table[metric][select(table, method="bicubic", region=region)]
            assert len(model) == len(SLICES) * 2
            assert np.array_equal(model, bicubic)


@pytest.mark.slow
def test_an_exact_rotation_does_not_change_the_scores(mni_volume):
    table = study(mni_volume, angles=[0, 180, 45])
    for k in SLICES:
        for region in ("image", "brain"):
            upright, turned = (
                score(table, k, 0.0, "bicubic", region),
                score(table, k, 180.0, "bicubic", region),
            )
            assert turned[0] == pytest.approx(upright[0], abs=1e-3)
            assert turned[1] == pytest.approx(upright[1], abs=1e-5)
