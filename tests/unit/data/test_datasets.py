import numpy as np
import pytest
import torch

from srmri.data.datasets import EvalSlices, TrainPatches, eval_batches
from srmri.data.records import VolumeRecord
from srmri.data.slicing import slice_table
from srmri.data.volume import VIEWS, Volume, slice_of

SHAPE = (30, 35, 26)
N = int(np.prod(SHAPE))


def _coordinate_volume(subject: str = "c") -> Volume:
    """Voxel values encode their own (x, y, z), so a patch tells where it was cut from."""
    image = torch.arange(N, dtype=torch.float64).reshape(SHAPE) / (N - 1)
    grid = np.meshgrid(*[np.linspace(-1, 1, n) for n in SHAPE], indexing="ij")
    mask = torch.from_numpy(sum(g**2 for g in grid) <= 0.8)
    return Volume(
        VolumeRecord(subject, "T1", f"{subject}.nii.gz"), image.float(), mask, np.eye(4), (0.0, 1.0)
    )


def _decode(patch: np.ndarray) -> np.ndarray:
    """``(P, P, 3)`` voxel coordinates of a patch of a coordinate volume."""
    flat = np.rint(patch.astype(np.float64) * (N - 1)).astype(np.int64)
    return np.stack(np.unravel_index(flat, SHAPE), axis=-1)


def _symmetries(a: np.ndarray) -> list[np.ndarray]:
    """The 8 rotations / reflections of a square array (first two axes)."""
    rotations = [np.rot90(a, k) for k in range(4)]
    return rotations + [np.swapaxes(r, 0, 1) for r in rotations]


@pytest.mark.parametrize("view", VIEWS)
def test_patches_are_dihedral_transforms_of_slice_windows(view):
    volume = _coordinate_volume()
    table = slice_table([volume], [view], min_foreground=0.1, level=0.0)
    p = 12
    dataset = TrainPatches(
        [volume], [view], table, p, seed=5, augment=True, with_mask=True, samples_per_epoch=400
    )
    batch = dataset.__getitems__(list(range(400)))
    assert batch["hr"].shape == (400, 1, p, p) and batch["hr"].dtype == torch.float32
    assert batch["mask"].shape == (400, 1, p, p) and batch["mask"].dtype == torch.bool
    axis = {"axial": 2, "coronal": 1, "sagittal": 0}[view]
    in_plane = [a for a in range(3) if a != axis]
    symmetries_seen = set()
    for hr, mask in zip(batch["hr"][:, 0].numpy(), batch["mask"][:, 0].numpy(), strict=True):
        xyz = _decode(hr)
        assert len(np.unique(xyz[..., axis])) == 1 and xyz[0, 0, axis] in table.index
        # Exactly one symmetry turns the patch into a plain window: rows, then columns, ascending.
        matches = []
        for s, candidate in enumerate(_symmetries(xyz)):
            rows, cols = candidate[..., in_plane[0]], candidate[..., in_plane[1]]
            if (
                (np.diff(rows, axis=0) == 1).all()
                and (np.diff(rows, axis=1) == 0).all()
                and (np.diff(cols, axis=1) == 1).all()
                and (np.diff(cols, axis=0) == 0).all()
            ):
                matches.append(s)
        assert len(matches) == 1
        symmetries_seen.add(matches[0])
        # The mask patch is cut and transformed exactly like the image patch.
        assert np.array_equal(mask, volume.mask.numpy()[xyz[..., 0], xyz[..., 1], xyz[..., 2]])
    assert symmetries_seen == set(range(8))


def test_patches_overlap_the_brain_and_follow_the_seed():
    volume = _coordinate_volume()
    table = slice_table([volume], ["axial"], min_foreground=0.1, level=0.0)
    kwargs = {"augment": False, "with_mask": True, "samples_per_epoch": 64}
    dataset = TrainPatches([volume], ["axial"], table, 8, seed=1, **kwargs)
    batch = dataset.__getitems__(list(range(64)))
    assert batch["mask"].flatten(1).any(1).all()
    again = TrainPatches([volume], ["axial"], table, 8, seed=1, **kwargs).__getitems__(
        list(range(64))
    )
    other = TrainPatches([volume], ["axial"], table, 8, seed=2, **kwargs).__getitems__(
        list(range(64))
    )
    assert torch.equal(batch["hr"], again["hr"]) and not torch.equal(batch["hr"], other["hr"])
    one = dataset[17]
    assert torch.equal(one["hr"], batch["hr"][17])


@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_eval_shards_cover_every_slice_once_in_single_shape_batches(world_size):
    volumes = [_coordinate_volume("a"), _coordinate_volume("b")]
    table = slice_table(volumes, list(VIEWS), min_foreground=0.0, level=0.0)
    assert len(table) == 2 * sum(SHAPE)
    seen = []
    for rank in range(world_size):
        batches = eval_batches(table, 5, rank, world_size)
        dataset = EvalSlices(volumes, list(VIEWS), batches, table, scale=4, with_mask=True)
        for i in range(len(dataset)):
            batch = dataset[i]
            assert len(set(batch["view"])) == 1 and len(batch["subject"]) <= 5
            for j, (subject, view, k) in enumerate(
                zip(batch["subject"], batch["view"], batch["slice"].tolist(), strict=True)
            ):
                volume = volumes["ab".index(subject)]
                full = slice_of(volume.image, view, k)
                h, w = full.shape[0] // 4 * 4, full.shape[1] // 4 * 4
                assert torch.equal(batch["hr"][j, 0], full[:h, :w])
                assert torch.equal(batch["mask"][j, 0], slice_of(volume.mask, view, k)[:h, :w])
                seen.append((subject, view, k))
    assert len(seen) == len(set(seen)) == len(table)
