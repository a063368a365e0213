"""Adapting a model to the scan at hand: it learns its own pairs, sees nothing but the input, and
keeps its result only where asked, never over an existing file unasked."""

from __future__ import annotations

import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch

from srmri.adapt import AdaptOptions, adapt_to_input, adapt_to_volume
from srmri.adapt.run import ScanPatches, adaptable
from srmri.inference.options import PredictOptions
from srmri.io.checkpoints import load_module
from srmri.io.errors import ConfigError, OutputExistsError
from tests.helpers import tiny_module
from tests.volumes import affine_for, nifti, smooth_volume

QUICK = {"enabled": True, "budget": 12, "patch_size": 16, "batch_size": 4, "learning_rate": 1e-2}


def unit_volume(shape=(24, 24, 5), seed=4) -> np.ndarray:
    volume = smooth_volume(shape, seed)
    return (volume / volume.max()).astype(np.float32)


def l1_on_own_pairs(module, volume: np.ndarray) -> float:
    """Mean |SR - HR| over every axial slice of ``volume``: HR the slice, LR its degradation by
    the module's own degradation (the pairs the adaptation trains on, whole)."""
    hr = torch.from_numpy(np.moveaxis(volume, 2, 0)[:, None].copy())
    with torch.no_grad():
        sr = module(module.degradation.noiseless()(hr))
    return float((sr - hr.clamp(0, 1)).abs().mean())


@pytest.mark.slow
def test_adapting_changes_the_weights_and_fits_the_scans_own_pairs_better():
    module = tiny_module(seed=1).eval()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    volume = unit_volume()
    adapted = adapt_to_volume(volume, module, [2], AdaptOptions(**QUICK), progress=False)
    assert adapted.trained_steps == QUICK["budget"]
    new, old = adapted.network.state_dict(), module.network.state_dict()
    assert any(not torch.equal(new[key], old[key]) for key in old)
    # The model it started from is untouched.
    assert all(torch.equal(v, module.state_dict()[k]) for k, v in before.items())
    assert l1_on_own_pairs(adapted, volume) < 0.8 * l1_on_own_pairs(module, volume)


def test_adaptation_starts_from_the_models_weights_or_from_scratch():
    module = tiny_module(seed=1).eval()
    kept = adaptable(module, AdaptOptions(**QUICK))
    fresh = adaptable(module, AdaptOptions(**QUICK, from_scratch=True))
    lr = torch.rand(1, 1, 12, 12)
    with torch.no_grad():
        assert torch.equal(kept.network(lr), module(lr))
        assert not torch.allclose(fresh.network(lr), module(lr))
    assert kept.hparams.degradation == module.hparams.degradation
    assert kept.hparams.normalisation == module.hparams.normalisation
    assert kept.hparams.optimizer["lr"] == QUICK["learning_rate"]


def _crops(image: np.ndarray, side: int) -> list[np.ndarray]:
    """Every ``side`` x ``side`` crop of every dihedral transform of ``image``."""
    found = []
    for turned in (image, image.T):
        for flipped in (turned, turned[::-1], turned[:, ::-1], turned[::-1, ::-1]):
            for top in range(flipped.shape[0] - side + 1):
                for left in range(flipped.shape[1] - side + 1):
                    found.append(flipped[top : top + side, left : left + side])
    return found


def test_training_patches_are_crops_of_the_input_slices_alone():
    volume = unit_volume((14, 12, 3))
    dataset = ScanPatches(volume, [2, 0], 10, seed=0, samples_per_epoch=8)
    batch = dataset.__getitems__(list(range(8)))["hr"].numpy()
    crops = [c for axis in (2, 0) for s in np.moveaxis(volume, axis, 0) for c in _crops(s, 10)]
    for patch in batch[:, 0]:
        assert any(np.array_equal(patch, crop) for crop in crops)


def test_adapt_reads_nothing_but_the_input(tmp_path):
    volume = smooth_volume((24, 24, 4), 2)
    nib.save(nifti(volume, affine_for("RAS")), tmp_path / "lr.nii.gz")
    # Files a careless adaptation might look at: the HR scan beside the input, a mask.
    nib.save(nifti(volume, affine_for("RAS")), tmp_path / "hr.nii.gz")
    nib.save(nifti((volume > 0).astype(np.uint8), affine_for("RAS")), tmp_path / "mask.nii.gz")
    opened: list[str] = []
    recording = [True]

    def hook(event: str, args: tuple) -> None:
        if recording[0] and event == "open" and isinstance(args[0], str | Path):
            opened.append(str(args[0]))

    sys.addaudithook(hook)  # hooks cannot be removed: this one stops recording at the end
    try:
        adapt_to_input(
            tmp_path / "lr.nii.gz",
            tiny_module().eval(),
            AdaptOptions(**{**QUICK, "budget": 2}),
            PredictOptions(progress=False),
        )
    finally:
        recording[0] = False
    data = [p for p in opened if Path(p).resolve().is_relative_to(tmp_path.resolve())]
    assert data and set(data) == {str(tmp_path / "lr.nii.gz")}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hr.nii.gz", "lr.nii.gz", "mask.nii.gz"]


@pytest.mark.slow
def test_adapt_save_is_written_once_and_never_over_a_file_unasked(tmp_path):
    source = tmp_path / "lr.nii.gz"
    nib.save(nifti(smooth_volume((24, 24, 4), 3), affine_for("RAS")), source)
    target = tmp_path / "adapted.pt"
    options = AdaptOptions(**{**QUICK, "budget": 2, "save": str(target)})
    adapted = adapt_to_input(source, tiny_module().eval(), options, PredictOptions(progress=False))
    lr = torch.rand(2, 1, 10, 10)
    with torch.no_grad():
        assert torch.equal(load_module(target)(lr), adapted(lr))
    written = target.read_bytes()
    with pytest.raises(OutputExistsError, match=f"{target}: adapt.save exists"):
        adapt_to_input(source, tiny_module().eval(), options, PredictOptions(progress=False))
    assert target.read_bytes() == written


@pytest.mark.parametrize(
    ("precision", "expected"), [("float32", torch.float32), ("bfloat16", torch.bfloat16)]
)
def test_adaptation_trains_in_the_precision_asked(precision, expected):
    # The network's first convolution shows the arithmetic of the fit: bfloat16 autocast casts its
    # output, float32 leaves it alone.
    seen: list[torch.dtype] = []
    original = adaptable

    def recording(module, options):
        adapted = original(module, options)
        first = next(m for m in adapted.network.modules() if isinstance(m, torch.nn.Conv2d))
        first.register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
        return adapted

    options = AdaptOptions(**{**QUICK, "budget": 2, "precision": precision})
    import srmri.adapt.run as run

    module = tiny_module()
    try:
        run.adaptable = recording
        adapt_to_volume(unit_volume(), module, [2], options, progress=False)
    finally:
        run.adaptable = original
    assert seen and set(seen) == {expected}
    with pytest.raises(ConfigError, match=r"adapt\.precision="):
        AdaptOptions(precision="float16")
