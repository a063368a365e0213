"""The plain loop of the overhead benchmark does exactly the Lightning path's work."""

import warnings

import pytest
import torch

from benchmarks.common import compose
from benchmarks.training_overhead import (
    TrainingResult,
    TrainingSetting,
    demo_module,
    fit_lightning,
    fit_plain,
    patch_loader,
)
from tests.conftest import TINY_TRAIN

TINY = [*TINY_TRAIN, "model.network.expansion=2", "data.batch_size=2"]


@pytest.mark.slow
def test_plain_loop_and_lightning_reach_the_same_weights():
    cfg = compose("train", TINY)
    cpu = torch.device("cpu")
    start = demo_module(cfg, cpu).state_dict()
    lightning, plain = demo_module(cfg, cpu), demo_module(cfg, cpu)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stamps = fit_lightning(lightning, patch_loader(cfg, 4), cfg, "32-true")
    assert len(stamps) == len(fit_plain(plain, patch_loader(cfg, 4), cfg, "32-true")) == 4
    trained, by_hand = lightning.state_dict(), plain.state_dict()
    assert int(trained["ema.updates"]) == 4
    for key, value in trained.items():
        # Same degradation, loss, clipping, Adam step, schedule and EMA: bit for bit.
        assert torch.equal(value, by_hand[key]), key
        if key.startswith("network.") and value.is_floating_point() and "pixel_mean" not in key:
            assert not torch.equal(value, start[key]), f"{key} did not train"


def test_overhead_is_the_median_of_round_ratios():
    setting = TrainingSetting("cpu", "32-true", False, 8, 24, 1, 2, 3)
    result = TrainingResult(setting, (1.1, 3.0, 2.0), (1.0, 2.0, 2.0))
    ratios = sorted([1.1 / 1.0, 3.0 / 2.0, 2.0 / 2.0])
    assert result.overhead == pytest.approx(ratios[1] - 1.0)
    assert result.lightning_seconds == 2.0
    assert result.lightning_images_per_second == pytest.approx(8 / 2.0)
