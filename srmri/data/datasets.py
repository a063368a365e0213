"""Torch datasets over cached volumes: random HR training patches and whole evaluation slices.

Both only index and crop the HR volumes already in memory; the LR image is made later, batched on
the device, by :mod:`srmri.degradation`. Both build whole batches at once (``__getitems__`` /
one item per batch) to keep the per-sample Python overhead of a DataLoader out of the way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from srmri.data.sampling import sample_uniforms
from srmri.data.slicing import SliceTable
from srmri.data.volume import Volume, slice_of, view_axis
from srmri.degradation import crop_to_scale

DIHEDRAL = 8  # the symmetries of a square: 4 rotations, each optionally mirrored


def batch_as_is(batch: dict) -> dict:
    """DataLoader ``collate_fn`` for datasets that already return whole batches."""
    return batch


class TrainPatches(Dataset):
    """Random HR patches ``(1, P, P)`` from the slices of a :class:`SliceTable`.

    Sample ``key`` is a deterministic function of ``(seed, key)``: a slice drawn uniformly from the
    table, a patch centre drawn uniformly inside the slice's foreground bounding box (the patch is
    then shifted to lie inside the slice) and, with ``augment``, one of the 8 dihedral transforms
    (transpose, vertical flip, horizontal flip, in combination).

    Batches (from ``__getitems__``): ``{"hr": (B, 1, P, P) float32, "mask": (B, 1, P, P) bool}``,
    ``mask`` only when ``with_mask``.
    """

    def __init__(
        self,
        volumes: Sequence[Volume],
        views: Sequence[str],
        table: SliceTable,
        patch_size: int,
        seed: int,
        augment: bool,
        with_mask: bool,
        samples_per_epoch: int,
    ) -> None:
        if len(table) == 0:
            raise ValueError("TrainPatches needs at least one slice")
        axes = [view_axis(view) for view in views]
        self.images = [[_slice_stack(volume.image, axis) for axis in axes] for volume in volumes]
        self.masks = (
            [[_slice_stack(volume.mask, axis) for axis in axes] for volume in volumes]
            if with_mask
            else None
        )
        self.table = table
        self.patch_size = patch_size
        self.seed = seed
        self.augment = augment
        self.samples_per_epoch = samples_per_epoch
        self._arrays: tuple[list, list | None] | None = None

    def __len__(self) -> int:
        return self.samples_per_epoch

    def __getstate__(self) -> dict:
        # Tensors travel to spawned workers through shared memory; numpy views of them would be copied.
        return {**self.__dict__, "_arrays": None}

    def arrays(self) -> tuple[list[list[np.ndarray]], list[list[np.ndarray]] | None]:
        """Numpy views of the slice stacks ``[volume][view]``, made once per process."""
        if self._arrays is None:

            def as_numpy(stacks: list[list[Tensor]]) -> list[list[np.ndarray]]:
                return [[stack.numpy() for stack in per_view] for per_view in stacks]

            masks = as_numpy(self.masks) if self.masks is not None else None
            self._arrays = (as_numpy(self.images), masks)
        return self._arrays

    def __getitem__(self, key: int) -> dict[str, Tensor]:
        return {name: value[0] for name, value in self.__getitems__([key]).items()}

    def __getitems__(self, keys: Sequence[int]) -> dict[str, Tensor]:
        table, p = self.table, self.patch_size
        u = sample_uniforms(self.seed, np.asarray(keys), 4)
        row = np.minimum((u[:, 0] * len(table)).astype(np.int64), len(table) - 1)
        box = table.box[row]
        top = _corner(u[:, 1], box[:, 0], box[:, 1], table.height[row], p)
        left = _corner(u[:, 2], box[:, 2], box[:, 3], table.width[row], p)
        ops = (u[:, 3] * DIHEDRAL).astype(np.int64) if self.augment else np.zeros(len(row), int)
        hr = np.empty((len(row), 1, p, p), dtype=np.float32)
        images, masks = self.arrays()
        mask = np.empty(hr.shape, dtype=bool) if masks is not None else None
        fields = zip(
            table.volume[row].tolist(),
            table.view[row].tolist(),
            table.index[row].tolist(),
            top.tolist(),
            left.tolist(),
            ops.tolist(),
            strict=True,
        )
        for i, (v, w, k, y, x, op) in enumerate(fields):
            hr[i, 0] = _dihedral(images[v][w][k, y : y + p, x : x + p], op)
            if mask is not None:
                mask[i, 0] = _dihedral(masks[v][w][k, y : y + p, x : x + p], op)
        batch = {"hr": torch.from_numpy(hr)}
        if mask is not None:
            batch["mask"] = torch.from_numpy(mask)
        return batch


def _corner(
    u: np.ndarray, first: np.ndarray, last: np.ndarray, size: np.ndarray, p: int
) -> np.ndarray:
    """Patch start whose centre is uniform in ``[first, last]``, shifted inside ``[0, size - p]``."""
    centre = first + np.minimum((u * (last - first + 1)).astype(np.int64), last - first)
    return np.clip(centre - p // 2, 0, size - p)


def _slice_stack(volume: Tensor, axis: int) -> Tensor:
    """``(N, H, W)`` slices of an ``(X, Y, Z)`` volume along ``axis``, rows and columns as slice_of.

    Axial slices of an ``(X, Y, Z)`` array are strided by Z elements and a patch copy would miss
    the cache at every voxel, several times slower than the rest of the pipeline; they get a
    contiguous copy. Coronal and sagittal slices have contiguous rows and stay views.
    """
    stack = volume.movedim(axis, 0)
    return stack.contiguous() if stack.stride(-1) != 1 else stack


def _dihedral(patch: np.ndarray, op: int) -> np.ndarray:
    """Dihedral transform ``op`` in 0..7 of a square array (views only, no copy)."""
    if op & 1:
        patch = patch.T
    if op & 2:
        patch = patch[::-1]
    if op & 4:
        patch = patch[:, ::-1]
    return patch


class EvalSlices(Dataset):
    """Whole HR slices, cropped to a multiple of ``scale``; item ``i`` is batch ``i``.

    Each batch holds slices of one view and one shape. Batch dict: ``hr`` ``(B, 1, H, W)`` float32,
    ``mask`` ``(B, 1, H, W)`` bool (only when ``with_mask``), ``subject``, ``contrast``, ``view``
    (lists of str) and ``slice`` ``(B,)`` int64, the slice index along the view in the volume.
    """

    def __init__(
        self,
        volumes: Sequence[Volume],
        views: Sequence[str],
        batches: Sequence[np.ndarray],
        table: SliceTable,
        scale: int,
        with_mask: bool,
    ) -> None:
        self.volumes = list(volumes)
        self.views = list(views)
        self.batches = list(batches)
        self.table = table
        self.scale = scale
        self.with_mask = with_mask

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> dict:
        rows = self.batches[i]
        volumes = [self.volumes[v] for v in self.table.volume[rows].tolist()]
        views = [self.views[w] for w in self.table.view[rows].tolist()]
        indices = self.table.index[rows].tolist()
        hr = torch.stack(
            [
                crop_to_scale(slice_of(vol.image, view, k), self.scale)
                for vol, view, k in zip(volumes, views, indices, strict=True)
            ]
        )
        batch = {
            "hr": hr.unsqueeze(1),
            "subject": [vol.record.subject for vol in volumes],
            "contrast": [vol.record.contrast for vol in volumes],
            "view": views,
            "slice": torch.as_tensor(indices, dtype=torch.int64),
        }
        if self.with_mask:
            masks = [
                crop_to_scale(slice_of(vol.mask, view, k), self.scale)
                for vol, view, k in zip(volumes, views, indices, strict=True)
            ]
            batch["mask"] = torch.stack(masks).unsqueeze(1)
        return batch


def eval_batches(
    table: SliceTable, batch_size: int, rank: int = 0, world_size: int = 1
) -> list[np.ndarray]:
    """Group this rank's rows of ``table`` into batches of one view and one slice shape.

    Rank ``r`` takes rows ``r, r + world_size, ...``: every slice goes to exactly one rank, with no
    padding or repetition (ranks may get unequal counts).
    """
    rows = np.arange(rank, len(table), world_size)
    groups: dict[tuple[int, int, int], list[int]] = {}
    for row in rows.tolist():
        key = (int(table.view[row]), int(table.height[row]), int(table.width[row]))
        groups.setdefault(key, []).append(row)
    return [
        np.asarray(members[start : start + batch_size])
        for members in groups.values()
        for start in range(0, len(members), batch_size)
    ]
