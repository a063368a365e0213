"""Torch datasets of 3-D HR patches (``spatial_dims=3``): random training cubes and the evaluation
blocks that tile each held-out volume.

As for slices (:mod:`srmri.data.datasets`), they only index and crop the cached HR volumes; the
LR volume is made by the module's 3-D degradation, batched on the device.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import permutations

import numpy as np
import torch
from monai.transforms import SpatialCrop
from torch import Tensor
from torch.utils.data import Dataset

from srmri.data.sampling import sample_uniforms
from srmri.data.volume import Volume

# The symmetries of a cube: the 6 orders of the three axes, each with any of the axes mirrored.
AXIS_ORDERS = tuple(permutations(range(3)))
CUBE_SYMMETRIES = len(AXIS_ORDERS) * 8


def foreground_box(volume: Volume, level: float) -> np.ndarray:
    """``(3, 2)`` first and last voxel of the brain mask (else of intensities above ``level``)
    along X, Y, Z; the whole volume when nothing is foreground."""
    region = volume.mask if volume.mask is not None else volume.image > level
    found = torch.nonzero(region)
    if len(found) == 0:
        return np.array([[0, n - 1] for n in volume.image.shape])
    return np.stack([found.min(0).values.numpy(), found.max(0).values.numpy()], axis=1)


def cube_symmetry(patch: Tensor, op: int) -> Tensor:
    """Symmetry ``op`` in 0..47 of ``(C, P, P, P)``: an order of the three axes, then flips."""
    order = AXIS_ORDERS[op % len(AXIS_ORDERS)]
    flips = op // len(AXIS_ORDERS)
    patch = patch.permute(0, *(1 + axis for axis in order))
    dims = [1 + axis for axis in range(3) if flips >> axis & 1]
    return patch.flip(dims) if dims else patch


class TrainVolumePatches(Dataset):
    """Random HR cubes ``(1, P, P, P)`` from whole volumes.

    Sample ``key`` is a deterministic function of ``(seed, key)``: a volume drawn uniformly, a
    cube centre uniform inside the volume's foreground box (the cube is then shifted to lie in the
    volume; MONAI's ``SpatialCrop`` cuts it) and, with ``augment``, one of the 48 symmetries of the
    cube (axis orders and flips; volumes should be isotropic for the orders to make sense).

    Batches (from ``__getitems__``): ``{"hr": (B, 1, P, P, P) float32, "mask": (B, 1, P, P, P)
    bool}``, ``mask`` only when ``with_mask``.
    """

    def __init__(
        self,
        volumes: Sequence[Volume],
        patch_size: int,
        seed: int,
        augment: bool,
        with_mask: bool,
        samples_per_epoch: int,
        foreground_level: float,
    ) -> None:
        if not volumes:
            raise ValueError("TrainVolumePatches needs at least one volume")
        self.volumes = list(volumes)
        self.boxes = [foreground_box(volume, foreground_level) for volume in volumes]
        self.patch_size = patch_size
        self.seed = seed
        self.augment = augment
        self.with_mask = with_mask
        self.samples_per_epoch = samples_per_epoch

    def __len__(self) -> int:
        return self.samples_per_epoch

    def __getitem__(self, key: int) -> dict[str, Tensor]:
        return {name: value[0] for name, value in self.__getitems__([key]).items()}

    def __getitems__(self, keys: Sequence[int]) -> dict[str, Tensor]:
        p, count = self.patch_size, len(self.volumes)
        u = sample_uniforms(self.seed, np.asarray(keys), 5)
        chosen = np.minimum((u[:, 0] * count).astype(np.int64), count - 1)
        hr, masks = [], []
        for i, v in enumerate(chosen.tolist()):
            volume, box = self.volumes[v], self.boxes[v]
            sizes = np.asarray(volume.image.shape)
            centre = box[:, 0] + np.minimum(
                (u[i, 1:4] * (box[:, 1] - box[:, 0] + 1)).astype(np.int64), box[:, 1] - box[:, 0]
            )
            start = np.clip(centre - p // 2, 0, sizes - p)
            crop = SpatialCrop(roi_start=start.tolist(), roi_end=(start + p).tolist())
            op = int(u[i, 4] * CUBE_SYMMETRIES) if self.augment else 0
            hr.append(cube_symmetry(torch.as_tensor(crop(volume.image[None])), op))
            if self.with_mask:
                masks.append(cube_symmetry(torch.as_tensor(crop(volume.mask[None])), op))
        batch = {"hr": torch.stack(hr).float().contiguous()}
        if self.with_mask:
            batch["mask"] = torch.stack(masks).bool().contiguous()
        return batch


def block_bounds(size: int, block: int, scale: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of near-equal blocks of at least ``block`` voxels (less than twice that;
    the whole axis when it is shorter), multiples of ``scale``, tiling the first
    ``size - size % scale`` voxels of an axis. At least ``block``, so that a block is never
    thinner than the SSIM window when ``block`` is not."""
    units, per_block = size // scale, max(1, block // scale)
    count = max(1, units // per_block)
    return [(i * units // count * scale, (i + 1) * units // count * scale) for i in range(count)]


class EvalVolumeBlocks(Dataset):
    """The held-out volumes cut into 3-D blocks of ``block`` to ``2 block`` voxels per axis (multiples of
    ``scale``, trailing voxels that do not fill a scale dropped as for slices); item ``i`` is a
    batch of one block. Blocks whose foreground fraction (brain mask, else intensities above
    ``foreground_level``) is below ``min_foreground`` are left out.

    Batch dict: ``hr`` ``(1, 1, D, H, W)`` float32 (axes X, Y, Z of the volume), ``mask`` (only
    when ``with_mask``), ``subject``, ``contrast``, ``view`` (``["volume"]``), ``slice``
    ``(1,)`` int64 (the block's index in its volume) and ``origin`` ``(1, 3)`` int64 (its first
    voxel).
    """

    def __init__(
        self,
        volumes: Sequence[Volume],
        block: int,
        scale: int,
        with_mask: bool,
        rank: int = 0,
        world_size: int = 1,
        min_foreground: float = 0.0,
        foreground_level: float = 0.05,
    ) -> None:
        self.volumes = list(volumes)
        self.with_mask = with_mask
        items = []
        for v, volume in enumerate(self.volumes):
            grids = [block_bounds(n, block, scale) for n in volume.image.shape]
            boxes = [(x, y, z) for x in grids[0] for y in grids[1] for z in grids[2]]
            region = volume.mask if volume.mask is not None else volume.image > foreground_level
            for index, box in enumerate(boxes):
                # As for slices: validation drops blocks with too little brain (test keeps all).
                inside = region[tuple(slice(start, stop) for start, stop in box)]
                if min_foreground == 0 or inside.float().mean() >= min_foreground:
                    items.append((v, index, box))
        # Every block goes to exactly one rank.
        self.items = items[rank::world_size]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        v, index, box = self.items[i]
        volume = self.volumes[v]
        region = tuple(slice(start, stop) for start, stop in box)
        batch = {
            "hr": volume.image[region][None, None].contiguous(),
            "subject": [volume.record.subject],
            "contrast": [volume.record.contrast],
            "view": ["volume"],
            "slice": torch.tensor([index], dtype=torch.int64),
            "origin": torch.tensor([[start for start, _ in box]], dtype=torch.int64),
        }
        if self.with_mask:
            batch["mask"] = volume.mask[region][None, None].contiguous()
        return batch
