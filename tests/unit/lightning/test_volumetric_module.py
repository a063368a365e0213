"""SRModule with ``spatial_dims=3``: a fit on 3-D cubes, validation scores per evaluation block
against NumPy, and DDP-simulated validation (2 CPU processes) equal to one process."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import torch

from srmri.data.datamodule import SRDataModule
from srmri.data.sources.folder import NiftiFolderSource
from tests.helpers import DEGRADATION_3D, TRAINING, quiet_trainer, tiny_module
from tests.helpers import TINY_WDSR_3D as NETWORK_3D
from tests.volumes import synthetic_brain


def volume_module(**overrides):
    return tiny_module(NETWORK_3D, degradation=DEGRADATION_3D, **{**TRAINING, **overrides})


@pytest.fixture
def volume_data(tmp_path):
    root = tmp_path / "scans"
    (root / "masks").mkdir(parents=True)
    for s in range(4):
        image, mask = synthetic_brain((20, 22, 18), seed=s)
        nib.save(nib.Nifti1Image(image, np.eye(4)), root / f"sub{s}_T1.nii.gz")
        nib.save(
            nib.Nifti1Image(mask.astype(np.uint8), np.eye(4)),
            root / "masks" / f"sub{s}_T1_mask.nii.gz",
        )

    def make() -> SRDataModule:
        source = NiftiFolderSource(
            root,
            patterns=["*.nii.gz"],
            mask="masks/{subject}_{contrast}_mask.nii.gz",
            fractions={"train": 0.5, "val": 0.5, "test": 0.0},
        )
        return SRDataModule(
            source,
            scale=2,
            patch_size=12,
            batch_size=2,
            samples_per_epoch=4,
            spatial_dims=3,
            eval_block=12,
            degradation=DEGRADATION_3D,
        )

    return make


def reference_psnr(sr: np.ndarray, hr: np.ndarray, mask: np.ndarray | None = None) -> float:
    error = (np.clip(sr, 0, 1) - np.clip(hr, 0, 1)) ** 2
    return float(10 * np.log10(1 / (error[mask] if mask is not None else error).mean()))


def test_3d_module_refuses_a_2d_degradation():
    with pytest.raises(ValueError, match="spatial_dims=3 differs from degradation spatial_dims=2"):
        tiny_module(NETWORK_3D, degradation={"scale": 2})


@pytest.mark.slow
def test_3d_fit_and_validation_scores_per_block(volume_data, tmp_path):
    module = volume_module()
    dm = volume_data()
    trainer = quiet_trainer(tmp_path, max_epochs=1, enable_checkpointing=False)
    trainer.fit(module, datamodule=dm)
    assert trainer.global_step == 2
    (scores,) = trainer.validate(module, datamodule=dm, verbose=False)
    # The same blocks, scored here with NumPy: the model and the tricubic B-spline.
    model, baseline = [], []
    module.eval()
    with torch.no_grad():
        for batch in dm.val_dataloader():
            hr = batch["hr"].clamp(0, 1)
            lr = module.degradation(batch["hr"])
            model.append(reference_psnr(module(lr)[0, 0].numpy(), hr[0, 0].numpy()))
            baseline.append(
                reference_psnr(module.baseline(lr, hr.shape[2:])[0, 0].numpy(), hr[0, 0].numpy())
            )
    assert len(model) > 1
    assert scores["val/psnr"] == pytest.approx(np.mean(model), abs=1e-4)
    assert scores["val/psnr_gain"] == pytest.approx(np.mean(model) - np.mean(baseline), abs=1e-4)
    assert {"val/ssim", "val/psnr_brain", "val/ssim_brain_gain"} <= set(scores)


@pytest.mark.slow
def test_ddp_simulated_3d_validation_equals_one_process(volume_data, tmp_path):
    single = quiet_trainer(tmp_path / "one", devices=1, use_distributed_sampler=False)
    (one,) = single.validate(volume_module(seed=3), datamodule=volume_data(), verbose=False)
    ddp = quiet_trainer(
        tmp_path / "two", devices=2, strategy="ddp_fork", use_distributed_sampler=False
    )
    # The same weights (same seed) in a fresh module: validation leaves inference tensors behind.
    (two,) = ddp.validate(volume_module(seed=3), datamodule=volume_data(), verbose=False)
    assert len(one) == 13 and set(one) == set(two)  # 12 scores and val/psnr_best
    for key, value in one.items():
        assert float(two[key]) == pytest.approx(float(value), abs=1e-4), key
