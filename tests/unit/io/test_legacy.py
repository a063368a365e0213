"""A checkpoint written by srmri 0.1.0, before the package was regrouped, loads and resumes.

The fixture's hyperparameters name ``srmri.optim.cosine`` (now ``srmri.lightning.schedules``) and
hold a degradation config without ``_target_`` (``{scale: 2, preset: seed, ...}``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import DataLoader

from benchmarks.common import HRPatches, random_patches
from srmri.io.checkpoints import load_module
from srmri.io.legacy import upgrade_targets
from tests import reference
from tests.helpers import LEGACY_CHECKPOINT, tiny_trainer

OLD_SCHEDULE = "srmri.optim.cosine"


@pytest.fixture(scope="module")
def saved() -> dict:
    """The fixture's contents, read here with torch alone."""
    return torch.load(LEGACY_CHECKPOINT, map_location="cpu", weights_only=True)


def test_the_fixture_holds_the_old_names(saved):
    hparams = saved["hyper_parameters"]
    assert hparams["scheduler"]["scheduler"]["_target_"] == OLD_SCHEDULE
    assert "_target_" not in hparams["degradation"]
    assert (hparams["degradation"]["scale"], hparams["degradation"]["preset"]) == (2, "seed")


def test_old_targets_map_to_the_new_modules_and_others_stay():
    config = {
        "scheduler": {"_target_": OLD_SCHEDULE, "min_factor": 0.01},
        "items": [{"_target_": "srmri.module.SRModule"}, {"_target_": "torch.optim.Adam"}],
        "network": {"_target_": "srmri.models.wdsr.WDSRA", "scale": 2},
    }
    assert upgrade_targets(config) == {
        "scheduler": {"_target_": "srmri.lightning.schedules.cosine", "min_factor": 0.01},
        "items": [
            {"_target_": "srmri.lightning.module.SRModule"},
            {"_target_": "torch.optim.Adam"},
        ],
        "network": {"_target_": "srmri.models.wdsr.WDSRA", "scale": 2},
    }


def test_load_module_restores_every_weight_of_the_file(saved):
    module = load_module(LEGACY_CHECKPOINT)
    restored = module.state_dict()
    assert restored.keys() == saved["state_dict"].keys()
    for key, value in saved["state_dict"].items():
        assert torch.equal(restored[key], value), key
    assert not module.training and module.hparams.name == "wdsr_a"


def test_the_old_degradation_config_is_the_seed_degradation():
    """Its LR image equals the study's recipe computed here: antialiased bicubic (a = -0.5) to
    half size, then the normalised 3 x 3 Gaussian of sigma 1 with reflect padding."""
    module = load_module(LEGACY_CHECKPOINT)
    hr = random_patches(2, 24, smooth=True, seed=3)
    with torch.no_grad():
        lr = module.degrade(hr)
    for i in range(2):
        image = hr[i, 0].double().numpy()
        small = reference.resize(image, (12, 12), -0.5, True)
        expected = reference.gaussian_blur(small, 3, 1.0)
        np.testing.assert_allclose(lr[i, 0].double().numpy(), expected, atol=1e-5)


def test_training_resumes_from_it_with_the_old_schedule(tmp_path, saved):
    """fit(ckpt_path=...) restores the step count, Adam's state and the cosine schedule, whose
    target resolves through srmri.io.legacy; two more steps are taken."""
    module = load_module(LEGACY_CHECKPOINT)
    start = int(saved["global_step"])
    data = DataLoader(HRPatches(random_patches(8, 24, smooth=True)), batch_size=4)  # 2 steps
    trainer = tiny_trainer(tmp_path, max_epochs=int(saved["epoch"]) + 2)
    module.requires_grad_(True)  # load_module freezes it for inference
    trainer.fit(module, data, ckpt_path=LEGACY_CHECKPOINT)
    assert trainer.global_step == start + 2
    assert module.hparams.scheduler["scheduler"]["_target_"] == "srmri.lightning.schedules.cosine"

    (config,) = trainer.lr_scheduler_configs
    scheduler = config.scheduler
    assert isinstance(scheduler, LambdaLR) and scheduler.last_epoch == start + 2
    # The cosine of the fixture's settings (no warm-up, floor 0.01) over the run's total steps.
    total = int(trainer.estimated_stepping_batches)
    factor = scheduler.lr_lambdas[0]
    for step in (0, total // 2, total, total + 5):
        progress = min(1.0, step / total)
        expected = 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress))
        assert factor(step) == pytest.approx(expected, rel=1e-12)
    assert scheduler.get_last_lr()[0] == pytest.approx(1e-3 * factor(start + 2), rel=1e-12)

    (optimizer,) = trainer.optimizers
    steps = {int(state["step"]) for state in optimizer.state.values()}
    assert steps == {start + 2}  # Adam's moments came from the file, then two more steps
