"""The LR image the training step itself receives, against a NumPy degradation written here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from srmri.data import SRDataModule
from srmri.data.sources.folder import NiftiFolderSource
from srmri.lightning.module import SRModule
from tests import reference
from tests.helpers import trainable_module as tiny_module
from tests.unit.data.conftest import save_nifti, synthetic_brain


class Capturing(SRModule):
    """An SRModule that keeps the batch as the data module gave it and as ``training_step`` got it."""

    def on_after_batch_transfer(self, batch: dict[str, Any], dataloader_idx: int) -> dict:
        if self.trainer.training:
            self.given = batch["hr"].clone()
        return super().on_after_batch_transfer(batch, dataloader_idx)

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        self.seen = {key: batch[key].clone() for key in ("hr", "lr")}
        return super().training_step(batch, batch_idx)


def numpy_lr(hr: np.ndarray, scale: int, preset: str) -> np.ndarray:
    """The study's degradations, written with tests/reference.py (float64), clipped to [0, 1]."""
    shape = (hr.shape[0] // scale, hr.shape[1] // scale)
    if preset == "seed":
        lr = reference.gaussian_blur(reference.resize(hr, shape, -0.5, antialias=True), 3, 1.0)
    else:
        lr = reference.resize(reference.gaussian_blur(hr, 3, 1.0), shape, -0.75, antialias=False)
    return np.clip(lr, 0.0, 1.0)


@pytest.mark.parametrize(("scale", "preset"), [(2, "seed"), (3, "thesis_opencv")])
def test_the_training_step_gets_the_lr_of_the_unclipped_hr_and_a_clipped_target(
    tmp_path: Path, scale: int, preset: str
):
    for s in range(3):
        image, mask = synthetic_brain((30, 36, 24), seed=s)
        save_nifti(tmp_path / f"sub{s}_T1.nii.gz", image * mask)
    source = NiftiFolderSource(
        tmp_path,
        patterns=["*.nii.gz"],
        mask="nonzero",
        fixed={"train": ["sub0"], "val": ["sub1"], "test": ["sub2"]},
    )
    degradation = {"scale": scale, "preset": preset}
    normalisation = {"method": "percentile", "use_mask": True, "measured_on": "lr"}
    datamodule = SRDataModule(
        source,
        scale=scale,
        patch_size=24,
        batch_size=4,
        samples_per_epoch=4,
        normalisation=normalisation,
        degradation=degradation,
    )
    network = {**tiny_module().hparams.network, "scale": scale}
    module = Capturing(**{**tiny_module().hparams, "network": network, "degradation": degradation})
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=1,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(module, datamodule=datamodule)
    given = module.given[:, 0].double().numpy()
    # The window is measured on LR images and not clipped, so the patches leave [0, 1].
    assert given.min() < 0.0
    expected_lr = np.stack([numpy_lr(patch, scale, preset) for patch in given])
    np.testing.assert_allclose(module.seen["lr"][:, 0].numpy(), expected_lr, atol=1e-5)
    np.testing.assert_array_equal(module.seen["hr"][:, 0].numpy(), np.clip(given, 0, 1))
