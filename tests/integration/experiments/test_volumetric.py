"""``experiment=volumetric_wdsr_x2``: composes a 3-D run from the one spatial_dims value and fits."""

from __future__ import annotations

import pytest
import torch

from srmri.lightning.module import SRModule
from srmri.tasks.train import train
from tests.conftest import TINY_TRAIN

TINY_3D = (
    *TINY_TRAIN,
    "data.patch_size=16",
    "data.samples_per_epoch=8",
    "data.eval_block=16",
    "trainer.limit_val_batches=1",
    "logger=csv",
    "print_config=false",
)


@pytest.mark.slow
def test_volumetric_experiment_composes_3d_everywhere_and_fits(compose_train, tmp_path):
    cfg = compose_train("experiment=volumetric_wdsr_x2", *TINY_3D)
    assert cfg.data.spatial_dims == 3
    assert cfg.degradation.spatial_dims == 3 and cfg.model.network.spatial_dims == 3
    report = train(cfg)
    assert torch.isfinite(torch.tensor(report["metrics"]["val/psnr"]))
    assert "val/psnr_gain" in report["metrics"]
    module = SRModule.load_from_checkpoint(report["best_checkpoint"], map_location="cpu")
    assert module.spatial_dims == 3 and module.degradation.spatial_dims == 3
    assert module(torch.rand(1, 1, 4, 5, 6)).shape == (1, 1, 8, 10, 12)
