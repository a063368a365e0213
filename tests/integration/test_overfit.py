"""The smallest honest proof that training learns: overfit a handful of real MRI slices."""

import dataclasses

import pytest
import torch
from torch.utils.data import DataLoader

from benchmarks.common import HRPatches
from srmri.data import Mni152Source, load_volume, slice_of
from srmri.degradation import Degradation
from srmri.lightning.module import SRModule
from srmri.metrics import psnr
from srmri.models import upsample
from tests.helpers import quiet_trainer

SCALE = 2


def mni_slices(cache_dir, count: int = 4, size: int = 64) -> torch.Tensor:
    """``(count, 1, size, size)`` HR crops of central axial slices of the whole MNI152 template."""
    source = Mni152Source(cache_dir=cache_dir)
    record = dataclasses.replace(source.splits()["train"][0], slab=None)
    volume = load_volume(record, {"method": "percentile", "lower": 0.5, "upper": 99.5})
    centre = volume.image.shape[2] // 2
    crops = []
    for index in range(centre - 2 * count, centre + 2 * count, 4):
        image = slice_of(volume.image, "axial", index)
        top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
        crops.append(image[top : top + size, left : left + size])
    return torch.stack(crops)[:, None].float()


@pytest.mark.slow
def test_a_small_network_overfits_a_few_slices_beyond_bicubic(tmp_path, srmri_cache):
    torch.manual_seed(0)
    hr = mni_slices(srmri_cache)
    module = SRModule(
        network={
            "_target_": "srmri.models.WDSRA",
            "scale": SCALE,
            "n_blocks": 2,
            "n_feats": 16,
            "expansion": 4,
        },
        degradation={"scale": SCALE, "preset": "seed"},
        normalisation={"method": "percentile", "lower": 0.5, "upper": 99.5},
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True, "lr": 2e-3},
        ema={"enabled": False},
        images={"every_n_epochs": 0},
    )
    steps = 200
    trainer = quiet_trainer(
        tmp_path, max_steps=steps, enable_checkpointing=False, limit_val_batches=0
    )
    trainer.fit(module, DataLoader(HRPatches(hr, repeats=steps), batch_size=len(hr)))

    # Scored here, independently of the module's own validation code path.
    lr = Degradation(scale=SCALE)(hr)
    with torch.no_grad():
        sr = module(lr)
    model_psnr = psnr(sr, hr).mean().item()
    bicubic_psnr = psnr(upsample(lr, SCALE), hr).mean().item()
    print(f"overfit: model {model_psnr:.2f} dB, bicubic {bicubic_psnr:.2f} dB")
    assert model_psnr > bicubic_psnr + 2.0, (model_psnr, bicubic_psnr)
