"""Validation averages every method over the same slices, so the logged gain is a paired mean."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from benchmarks.common import random_patches
from srmri.degradation import Degradation
from tests import reference
from tests.helpers import SCALE
from tests.helpers import trainable_module as tiny_module
from tests.unit.lightning.test_module import trainer


class WithBlankSlice(Dataset):
    """Slice 0 is all zeros: bicubic reproduces it exactly (PSNR +inf), the network does not."""

    def __init__(self) -> None:
        self.hr = torch.cat([torch.zeros(1, 1, 32, 32), random_patches(3, 32, seed=3, smooth=True)])

    def __len__(self) -> int:
        return len(self.hr)

    def __getitem__(self, i: int) -> dict:
        return {"hr": self.hr[i], "slice": i, "subject": "s", "view": "axial"}


def test_gain_is_the_paired_mean_over_slices_every_method_scores(tmp_path):
    module = tiny_module(ema={"enabled": False})
    data = DataLoader(WithBlankSlice(), batch_size=4)
    logged = trainer(tmp_path).validate(module, data, verbose=False)[0]

    hr = data.dataset.hr
    lr = Degradation(scale=SCALE)(hr)
    with torch.no_grad():
        sr = module(lr).double()
    bicubic = torch.nn.functional.interpolate(lr, scale_factor=SCALE, mode="bicubic").double()
    model_scores = np.array(
        [reference.psnr(sr[i, 0].numpy(), hr[i, 0].double().numpy()) for i in range(4)]
    )
    with np.errstate(divide="ignore"):
        bicubic_scores = np.array(
            [reference.psnr(bicubic[i, 0].numpy(), hr[i, 0].double().numpy()) for i in range(4)]
        )
    # The toy case has to be what it claims: the network scores slice 0, bicubic cannot.
    assert np.isfinite(model_scores).all() and np.isinf(bicubic_scores[0])
    both = np.isfinite(model_scores) & np.isfinite(bicubic_scores)
    paired = float(np.mean(model_scores[both] - bicubic_scores[both]))
    assert logged["val/psnr"] == pytest.approx(model_scores[both].mean(), abs=1e-4)
    assert logged["val/psnr_bicubic"] == pytest.approx(bicubic_scores[both].mean(), abs=1e-4)
    assert logged["val/psnr_gain"] == pytest.approx(paired, abs=1e-4)
