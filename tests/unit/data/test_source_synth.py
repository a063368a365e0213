"""data=synth's source and its place in the data module: slabs as data=mni152, fixed evaluation
volumes (the real T1 and synthetic contrasts), training volumes renewed every N batches, batches of
the data module's shapes. On the anatomy block-averaged 4-fold (50 x 59 x 48 voxels)."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import torch

from srmri.data import SRDataModule
from srmri.data.sources import SynthSource
from srmri.data.sources.mni152 import brain_slabs
from srmri.data.synth import mni152_anatomy

SMALL = {"deformation": {"spacing": 8}, "artefacts": {}}


@pytest.fixture
def source(tmp_path):
    def make(**options) -> SynthSource:
        kwargs = {
            "cache_dir": tmp_path / "cache",
            "generator": SMALL,
            "downsample": 4,
            "eval_contrasts": 1,
            "volumes": 1,
            "refresh_every": 1,
            "seed": 3,
        }
        return SynthSource(**{**kwargs, **options})

    return make


def voxels(record) -> np.ndarray:
    return np.asarray(nib.load(record.image).dataobj)


def test_sets_are_the_slabs_of_data_mni152_with_the_real_t1_and_fixed_contrasts(source):
    splits = source().splits()
    anatomy = mni152_anatomy(4)
    # The same slab rule as data=mni152, on the brain's extent along the axial axis.
    expected = brain_slabs(
        anatomy.brain.numpy() >= 0.5,
        2,
        {"train": 0.6, "val": 0.1, "test": 0.3},
        *[("train", "val", "test"), 4],
    )
    for name, records in splits.items():
        assert {(r.slab.axis, r.slab.start, r.slab.stop) for r in records} == {(2, *expected[name])}
    assert [r.contrast for r in splits["val"]] == ["T1", "synth0"]
    assert [r.contrast for r in splits["test"]] == ["T1", "synth0"]
    # The T1 record is the real template; validation and test contrasts differ.
    np.testing.assert_allclose(voxels(splits["val"][0]), anatomy.t1.numpy(), atol=1e-6)
    assert not np.allclose(voxels(splits["val"][1]), voxels(splits["test"][1]))


@pytest.mark.slow
def test_evaluation_volumes_are_generated_once_and_reproducibly(source, tmp_path):
    first = source().splits()["val"]
    stamps = [r.image.stat().st_mtime_ns for r in first]
    again = source().splits()["val"]
    assert [r.image.stat().st_mtime_ns for r in again] == stamps
    elsewhere = source(cache_dir=tmp_path / "other").splits()["val"]
    for a, b in zip(first, elsewhere, strict=True):
        np.testing.assert_array_equal(voxels(a), voxels(b))


def test_training_blocks_are_reproducible_by_seed_and_renewed(source):
    block0 = voxels(source().train_records(0)[0])
    assert np.array_equal(block0, voxels(source().train_records(0)[0]))
    assert not np.allclose(block0, voxels(source().train_records(1)[0]))
    assert not np.allclose(block0, voxels(source(seed=4).train_records(0)[0]))


@pytest.mark.slow
def test_the_data_module_draws_each_block_of_batches_from_new_volumes(source):
    module = SRDataModule(source(), scale=2, patch_size=24, batch_size=4, samples_per_epoch=8)
    module.setup("fit")
    train, val = list(module.train_dataloader()), next(iter(module.val_dataloader()))
    assert len(train) == 2
    for batch in train:
        assert batch["hr"].shape == (4, 1, 24, 24) and batch["hr"].dtype == torch.float32
        assert batch["mask"].shape == (4, 1, 24, 24) and batch["mask"].dtype == torch.bool
    # refresh_every=1: each batch comes from its own generated volume.
    assert not torch.allclose(train[0]["hr"], train[1]["hr"])
    block1 = SRDataModule(source(), scale=2, patch_size=24)._block_patches(1)
    assert torch.equal(block1.__getitems__([4, 5, 6, 7])["hr"], train[1]["hr"])
    assert val["hr"].ndim == 4 and val["hr"].shape[-2] % 2 == val["hr"].shape[-1] % 2 == 0
    assert set(val["contrast"]) <= {"T1", "synth0"}


@pytest.mark.parametrize("key", ["volumes", "downsample"])
def test_bad_counts_are_refused_naming_the_key(source, key):
    with pytest.raises(ValueError, match=f"data.source.{key}"):
        source(**{key: 0})
