"""Where the intensity window is measured: on LR images (``measured_on: lr``) or, for checkpoints
written before the key existed, on the HR volume; each checked against NumPy written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import ndimage

from srmri.data import NONZERO, VolumeRecord, load_volume, normalisation_config
from srmri.data.normalisation import lr_window
from srmri.degradation import Degradation
from srmri.inference.intensity import measure_window
from srmri.io.checkpoints import load_module
from tests.unit.data.conftest import save_nifti, synthetic_brain
from tests.unit.data.test_datamodule import _reference_lr

SHAPE = (30, 35, 26)
LR_RULE = {"method": "percentile", "lower": 0.5, "upper": 99.5, "use_mask": True}
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "wdsr_a_x2_v0.1.0.ckpt"


def reference_lr_window(
    image: np.ndarray, mask: np.ndarray | None, axes: list[int], scale: int, preset: str
) -> tuple[float, float]:
    """NumPy: degrade every slice along each axis (range mapped to [0, 1] and back), take the mask
    to the LR grid by block majority, pool, and take the 0.5 / 99.5 percentiles."""
    low, high = float(image.min()), float(image.max())
    unit = (image.astype(np.float64) - low) / (high - low)
    values, inside = [], []
    for axis in axes:
        stack = np.moveaxis(unit, axis, 0)
        h, w = stack.shape[1] - stack.shape[1] % scale, stack.shape[2] - stack.shape[2] % scale
        values += [_reference_lr(s[:h, :w], scale, preset).ravel() for s in stack]
        if mask is not None:
            blocks = np.moveaxis(mask, axis, 0)[:, :h, :w].astype(float)
            blocks = blocks.reshape(len(blocks), h // scale, scale, w // scale, scale)
            inside.append((blocks.mean(axis=(2, 4)) >= 0.5).ravel())
    pooled = np.concatenate(values)
    if mask is not None:
        pooled = pooled[np.concatenate(inside)]
    lo, hi = np.percentile(pooled, [0.5, 99.5])
    return low + lo * (high - low), low + hi * (high - low)


@pytest.mark.parametrize(
    ("scale", "preset", "axes"), [(2, "seed", [2]), (3, "thesis_opencv", [0, 1]), (4, "seed", [1])]
)
def test_the_window_is_measured_on_the_degraded_volume(scale, preset, axes):
    image, mask = synthetic_brain(SHAPE, seed=3)
    expected = reference_lr_window(image, mask, axes, scale, preset)
    degradation = Degradation(scale, preset, noise="rician", noise_std=0.05)
    got = lr_window(torch.from_numpy(image), torch.from_numpy(mask), LR_RULE, degradation, axes)
    assert got == pytest.approx(expected, rel=1e-5)


def test_load_volume_applies_the_lr_window_without_clipping(tmp_path):
    image, mask = synthetic_brain(SHAPE, seed=4)
    path = save_nifti(tmp_path / "s_T1.nii.gz", image)
    mask_path = save_nifti(tmp_path / "s_mask.nii.gz", mask.astype(np.uint8))
    volume = load_volume(
        VolumeRecord("s", "T1", path, mask_path),
        {**LR_RULE, "measured_on": "lr"},
        Degradation(2),
        ["axial"],
    )
    lo, hi = reference_lr_window(image, mask, [2], 2, "seed")
    assert volume.window == pytest.approx((lo, hi), rel=1e-5)
    # Not clipped: the background lies below 0 and the brightest voxels above 1.
    expected = (image - lo) / (hi - lo)
    np.testing.assert_allclose(volume.image.numpy(), expected, atol=1e-5)
    assert volume.image.min() < 0 and volume.image.max() > 1


def test_a_nonzero_mask_is_taken_without_the_blurred_rim_in_training_and_prediction():
    image, mask = synthetic_brain((30, 34, 26), seed=5)
    image = image * mask
    config = {**LR_RULE, "measured_on": "lr"}
    degradation = Degradation(2)
    trained = lr_window(torch.from_numpy(image), NONZERO, config, degradation, [2])
    # The LR input prediction gets: the same slices degraded, in the volume's units.
    top = float(image.max())
    slices = torch.from_numpy(np.moveaxis(image / top, 2, 0)[:, None].copy())
    lr = np.moveaxis(degradation(slices)[:, 0].numpy(), 0, 2) * top
    predicted = measure_window(lr, config, NONZERO, "lr.nii.gz")
    inside = ndimage.binary_erosion(lr > 0, iterations=2)
    expected = np.percentile(lr[inside].astype(np.float64), [0.5, 99.5])
    assert predicted == pytest.approx(tuple(expected), rel=1e-5)
    assert trained == pytest.approx(predicted, rel=1e-5)
    # Every voxel > 0 (the old rule) would let the rim pull the lower bound far down.
    rim = np.percentile(lr[lr > 0], 0.5)
    assert rim < 0.5 * expected[0]


def test_a_checkpoint_written_before_measured_on_keeps_the_hr_rule(tmp_path):
    if not FIXTURE.is_file():
        pytest.skip(f"{FIXTURE} is not in this checkout")
    normalisation = load_module(FIXTURE).hparams.normalisation
    assert "measured_on" not in normalisation
    assert normalisation_config(normalisation)["measured_on"] == "hr"
    image, mask = synthetic_brain(SHAPE, seed=6)
    path = save_nifti(tmp_path / "s_T1.nii.gz", image * mask)
    volume = load_volume(VolumeRecord("s", "T1", path, NONZERO), normalisation)
    stored = image * mask
    lo, hi = np.percentile(stored[stored > 0].astype(np.float64), [0.5, 99.5])
    assert volume.window == pytest.approx((lo, hi), rel=1e-5)
    np.testing.assert_allclose(
        volume.image.numpy(), np.clip((stored - lo) / (hi - lo), 0, 1), atol=1e-5
    )
    # Its predictions measure every voxel > 0 of the input, as srmri 0.1.0 did.
    assert measure_window(stored, normalisation, NONZERO, "in.nii") == pytest.approx(
        (lo, hi), rel=1e-5
    )
