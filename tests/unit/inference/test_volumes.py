"""Prediction with a 3-D checkpoint: sliding windows against an untiled run, and the geometry of
the output (every axis upsampled, field of view kept) for an oblique affine, by hand."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import torch

from srmri.data import normalise
from srmri.inference.intensity import measure_window
from srmri.inference.options import PredictOptions
from srmri.inference.predict import predict_volume
from srmri.inference.volumes import VolumeResolver, window_sizes
from tests.helpers import DEGRADATION_3D, tiny_module
from tests.helpers import TINY_WDSR_3D as NETWORK_3D

# LR voxels an output voxel depends on, per side: the 3x3x3 head, one block of two 3x3x3 convs and
# the 3x3x3 conv before the pixel shuffle (the 5x5x5 skip reaches 2).
RADIUS = 1 + 2 + 1


@pytest.fixture
def module():
    return tiny_module(
        NETWORK_3D,
        degradation=DEGRADATION_3D,
        seed=5,
    ).eval()


def lr_volume(shape=(21, 18, 15)) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.nn.functional.avg_pool3d(torch.rand(1, 1, *shape, generator=generator), 3, 1, 1)[
        0, 0
    ]


def test_window_sizes_step_by_the_tile():
    roi, fractions = window_sizes((40, 10, 30), tile=12, overlap=4)
    assert roi == [20, 10, 20] and fractions == [0.4, 0.0, 0.4]
    # MONAI steps by int(roi * (1 - fraction)): the core side.
    assert int(20 * (1 - 0.4)) <= 12


@pytest.mark.slow
def test_core_blending_equals_an_untiled_run_when_the_overlap_covers_the_receptive_field(module):
    lr = lr_volume((15, 13, 12))
    untiled = VolumeResolver(
        module, PredictOptions(volume_tile=None, device="cpu", precision="float32")
    )(lr)
    tiled = VolumeResolver(
        module,
        PredictOptions(
            volume_tile=3, overlap=RADIUS, batch_size=2, device="cpu", precision="float32"
        ),
    )(lr)
    assert tiled.shape == (30, 26, 24)
    torch.testing.assert_close(tiled, untiled, atol=1e-5, rtol=0)
    # MONAI's constant blending of the same windows averages their edges in: not the untiled run.
    constant = VolumeResolver(
        module,
        PredictOptions(
            volume_tile=3, overlap=RADIUS, blend="constant", device="cpu", precision="float32"
        ),
    )(lr)
    assert (constant - untiled).abs().max() > 1e-3
    # Too little context: the core windows no longer see what the untiled run sees.
    short = VolumeResolver(
        module, PredictOptions(volume_tile=3, overlap=1, device="cpu", precision="float32")
    )(lr)
    assert (short - untiled).abs().max() > 1e-3


def test_3d_prediction_keeps_the_field_of_view_of_an_oblique_volume(module):
    angle = np.deg2rad(20)
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    )
    affine = np.eye(4)
    affine[:3, :3] = rotation @ np.diag([1.2, 0.9, 2.0])
    affine[:3, 3] = [-30.0, 12.5, 7.0]
    data = 100 + 800 * lr_volume((12, 10, 11)).numpy()
    image = nib.Nifti1Image(data.astype(np.float32), affine)
    sr = predict_volume(
        image, module, volume_tile=None, device="cpu", precision="float32", progress=False
    )
    assert sr.shape == (24, 20, 22)
    # By hand: output voxel j of every axis sits at input coordinate (j + 0.5) / 2 - 0.5.
    expected = affine.copy()
    expected[:3, :3] = affine[:3, :3] / 2
    expected[:3, 3] = affine[:3, :3] @ np.full(3, 0.5 / 2 - 0.5) + affine[:3, 3]
    np.testing.assert_allclose(sr.affine, expected, atol=1e-5)
    np.testing.assert_allclose(sr.header.get_zooms(), (0.6, 0.45, 1.0), atol=1e-6)
    # Corners of the field of view (voxel edges) are the same points in the world.
    np.testing.assert_allclose(
        (sr.affine @ [-0.5, -0.5, -0.5, 1])[:3], (affine @ [-0.5, -0.5, -0.5, 1])[:3], atol=1e-5
    )
    # The voxels: the network on the normalised volume, denormalised.
    lo, hi = measure_window(data.astype(np.float32), module.hparams.normalisation, None, "x")
    with torch.no_grad():
        lr = normalise(torch.from_numpy(data.astype(np.float32)), lo, hi)
        expected_sr = module(lr[None, None])[0, 0].clamp(0, 1) * (hi - lo) + lo
    np.testing.assert_allclose(sr.get_fdata(), expected_sr.numpy(), rtol=1e-5, atol=1e-3)


def test_3d_checkpoint_refuses_the_slice_self_ensemble(module):
    with pytest.raises(ValueError, match="self_ensemble"):
        VolumeResolver(module, PredictOptions(self_ensemble=True, device="cpu"))
