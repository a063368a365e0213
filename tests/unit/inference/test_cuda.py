"""Prediction on a CUDA GPU gives the CPU's volume (skipped without a GPU, marked ``gpu``)."""

import numpy as np
import pytest

from srmri.inference import predict_volume
from tests.volumes import affine_for, nifti, smooth_volume

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("precision", ["float32", "float16"])
def test_cuda_prediction_matches_the_cpu(tiny_module, precision):
    image = nifti(smooth_volume((20, 16, 6), 11), affine_for("RAS"))
    cpu = predict_volume(
        image, tiny_module, device="cpu", precision="float32", progress=False
    ).get_fdata()
    cuda = predict_volume(
        image, tiny_module, device="cuda", precision=precision, progress=False
    ).get_fdata()
    span = cpu.max() - cpu.min()
    # cuDNN may convolve in TF32 at float32.
    assert np.abs(cuda - cpu).max() < (0.02 if precision == "float16" else 2e-3) * span
    assert all(p.device.type == "cpu" for p in tiny_module.parameters())
