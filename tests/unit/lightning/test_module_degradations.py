"""SRModule with the open degradation family: built from a config's _target_, checked against the
network's scale by the declared factors, and old untargeted configs mapped to the image presets."""

from pathlib import Path

import numpy as np
import pytest
import torch

from srmri.degradation import Degradation, KSpace
from srmri.io.checkpoints import load_module
from tests import reference
from tests.unit.lightning.test_module import loader, tiny_module, trainer

FIXTURE = Path(__file__).parents[2] / "fixtures" / "wdsr_a_x2_v0.1.0.ckpt"


def test_degradation_is_built_from_its_target():
    module = tiny_module(
        degradation={"_target_": "srmri.degradation.KSpace", "scale": 2, "window": "hamming"}
    )
    assert module.degradation == KSpace(2, window="hamming")
    assert module.hparams.degradation["_target_"] == "srmri.degradation.KSpace"


@pytest.mark.parametrize(
    ("degradation", "message"),
    [
        (
            {"_target_": "srmri.degradation.KSpace", "scale": 3},
            r"x2 differs from degradation scale x3",
        ),
        (
            {"_target_": "srmri.degradation.SliceProfile", "thickness": 2.0, "spacing": 2.0},
            r"x2 differs from degradation scale x2 \(H\) x1 \(W\)",
        ),
    ],
)
def test_declared_factors_must_match_the_network_scale(degradation, message):
    with pytest.raises(ValueError, match=message):
        tiny_module(degradation=degradation)


def test_unknown_target_is_refused_by_name():
    with pytest.raises(ValueError, match=r"degradation\._target_"):
        tiny_module(degradation={"_target_": "srmri.degradation.Nothing", "scale": 2})


def test_kspace_module_trains_and_scores(tmp_path):
    module = tiny_module(degradation={"_target_": "srmri.degradation.KSpace", "scale": 2})
    fit = trainer(tmp_path, max_steps=2, limit_val_batches=1)
    fit.fit(module, loader(), loader(n=4, seed=2))
    assert torch.isfinite(fit.callback_metrics["val/psnr"])
    path = tmp_path / "k.ckpt"
    fit.save_checkpoint(path)
    assert load_module(path).degradation == KSpace(2)


def test_an_untargeted_degradation_means_the_image_presets(tmp_path):
    old = {"scale": 2, "preset": "seed", "blur_kernel": 3, "blur_sigma": 1.0}
    module = tiny_module(degradation={**old, "noise": "none", "noise_std": 0.0})
    assert module.degradation == Degradation(2, "seed")
    assert module.hparams.degradation["_target_"] == "srmri.degradation.Degradation"


@pytest.mark.skipif(not FIXTURE.is_file(), reason="the srmri 0.1.0 fixture checkpoint is absent")
def test_srmri_0_1_0_checkpoint_loads_and_degrades_as_it_did():
    module = load_module(FIXTURE)
    assert module.degradation == Degradation(scale=2, preset="seed", blur_kernel=3, blur_sigma=1.0)
    hr = torch.rand(1, 1, 32, 24, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    lr = module.degrade(hr)[0, 0].numpy()
    # The seed preset, computed independently: antialiased bicubic (a = -0.5), then 3x3 sigma 1.
    down = reference.resize(hr[0, 0].numpy(), (16, 12), a=-0.5, antialias=True)
    np.testing.assert_allclose(lr, np.clip(reference.gaussian_blur(down, 3, 1.0), 0, 1), atol=1e-6)
    assert module(module.degrade(hr.float())).shape == (1, 1, 32, 24)
