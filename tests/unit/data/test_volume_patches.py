"""3-D patches (``spatial_dims=3``): random training cubes and evaluation blocks of the volumes."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from srmri.data.datamodule import SRDataModule
from srmri.data.sources.folder import NiftiFolderSource
from srmri.data.volume_patches import CUBE_SYMMETRIES, block_bounds, cube_symmetry
from srmri.degradation import Degradation

MASKS = "masks/{subject}_{contrast}_mask.nii.gz"


def volume_datamodule(root, **kwargs) -> SRDataModule:
    source = NiftiFolderSource(
        root,
        patterns=["*.nii.gz"],
        mask=MASKS,
        fractions={"train": 0.5, "val": 0.25, "test": 0.25},
    )
    settings = {
        "scale": 2,
        "patch_size": 12,
        "batch_size": 3,
        "samples_per_epoch": 6,
        "spatial_dims": 3,
        "eval_block": 16,
        "degradation": Degradation(2, spatial_dims=3),
    }
    return SRDataModule(source, **{**settings, **kwargs})


def test_training_cubes_come_from_the_volumes(make_folder):
    root = make_folder(subjects=4, contrasts=("T1",))
    dm = volume_datamodule(root, augment=False)
    batch = next(iter(dm.train_dataloader()))
    assert batch["hr"].shape == (3, 1, 12, 12, 12) and batch["hr"].dtype == torch.float32
    assert batch["mask"].shape == (3, 1, 12, 12, 12) and batch["mask"].dtype == torch.bool
    # Without augmentation every cube is a block of one training volume, found by brute force.
    volumes = [v.image.numpy() for v in dm.volumes("train")]
    for cube in batch["hr"][:, 0].numpy():
        found = False
        for image in volumes:
            windows = np.lib.stride_tricks.sliding_window_view(image, cube.shape)
            found |= bool(np.all(windows == cube, axis=(3, 4, 5)).any())
        assert found


def test_cube_symmetries_are_the_48_distinct_ones():
    patch = torch.arange(27.0).view(1, 3, 3, 3)
    images = {tuple(cube_symmetry(patch, op).flatten().tolist()) for op in range(CUBE_SYMMETRIES)}
    assert len(images) == 48
    # op 1 exchanges axes Y and Z (order (0, 2, 1)); op 6 (order identity) flips X.
    np.testing.assert_array_equal(
        cube_symmetry(patch, 1)[0].numpy(), patch[0].numpy().transpose(0, 2, 1)
    )
    np.testing.assert_array_equal(cube_symmetry(patch, 6)[0].numpy(), patch[0].numpy()[::-1])


def test_block_bounds_tile_the_cropped_axis():
    assert block_bounds(35, 10, 2) == [(0, 10), (10, 22), (22, 34)]
    assert block_bounds(35, 16, 2) == [(0, 16), (16, 34)]
    assert block_bounds(10, 64, 3) == [(0, 9)]


def test_evaluation_blocks_cover_each_volume_once_and_ranks_split_them(make_folder):
    root = make_folder(subjects=4, contrasts=("T1",))
    whole = volume_datamodule(root)
    (volume,) = whole.volumes("val")
    covered = np.zeros(volume.image.shape, dtype=int)
    for batch in whole.val_dataloader():
        assert batch["view"] == ["volume"] and batch["hr"].ndim == 5
        origin = batch["origin"][0].tolist()
        region = tuple(slice(o, o + n) for o, n in zip(origin, batch["hr"].shape[2:], strict=True))
        np.testing.assert_array_equal(batch["hr"][0, 0].numpy(), volume.image[region].numpy())
        assert all(n % 2 == 0 and 16 <= n < 32 for n in batch["hr"].shape[2:])
        covered[region] += 1
    cropped = tuple(slice(0, n - n % 2) for n in volume.image.shape)
    assert (covered[cropped] == 1).all() and covered.sum() == covered[cropped].size
    seen = []
    for rank in range(2):
        dm = volume_datamodule(root)
        dm.trainer = SimpleNamespace(world_size=2, global_rank=rank)
        seen += [tuple(b["origin"][0].tolist()) for b in dm.val_dataloader()]
    assert sorted(seen) == sorted(tuple(b["origin"][0].tolist()) for b in whole.val_dataloader())


def test_3d_settings_are_checked(make_folder):
    root = make_folder(subjects=4, contrasts=("T1",))
    with pytest.raises(ValueError, match="spatial_dims"):
        volume_datamodule(root, degradation=Degradation(2))
    with pytest.raises(ValueError, match=r"data\.spatial_dims=4"):
        volume_datamodule(root, spatial_dims=4)
