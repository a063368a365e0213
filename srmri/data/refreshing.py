"""Training patches from volumes that are renewed during a run (sources that generate volumes).

Sample key ``k`` (see :mod:`srmri.data.sampling`) belongs to block ``k // block_size``; the
patches of a block are drawn from that block's volumes, made by ``make(block)``. As every key maps
to one block and every block's volumes are a function of the source's seed and the block, a
sample stays a function of ``(seed, key)``: workers, resumed runs and ranks agree. Only the
current block's volumes are held; the sampler's keys rise, so each block is made once per process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from srmri.data.datasets import TrainPatches

log = logging.getLogger(__name__)


class RefreshingPatches(Dataset):
    """Batches of :class:`TrainPatches` whose volumes change every ``block_size`` sample keys.

    Args:
        make: ``make(block)`` -> the :class:`TrainPatches` over that block's volumes.
        block_size: sample keys per block (training batches per block x batch size x ranks).
        samples_per_epoch: the epoch's length, as :class:`TrainPatches`.
        first: the already built patches of block 0, if any.
    """

    def __init__(
        self,
        make: Callable[[int], TrainPatches],
        block_size: int,
        samples_per_epoch: int,
        first: TrainPatches | None = None,
    ) -> None:
        if block_size < 1:
            raise ValueError(f"block_size must be >= 1, got {block_size}")
        self.make = make
        self.block_size = int(block_size)
        self.samples_per_epoch = int(samples_per_epoch)
        self._block, self._patches = (0, first) if first is not None else (-1, None)

    def __len__(self) -> int:
        return self.samples_per_epoch

    def __getstate__(self) -> dict:
        # A worker makes its own blocks rather than receive a copy of the volumes.
        return {**self.__dict__, "_block": -1, "_patches": None}

    def patches(self, block: int) -> TrainPatches:
        """The patches of ``block``, made when the block changes."""
        if block != self._block or self._patches is None:
            start = time.perf_counter()
            self._patches = None  # free the old volumes before making the new ones
            self._patches = self.make(block)
            self._block = block
            log.info(
                "training volumes of block %d made in %.1f s", block, time.perf_counter() - start
            )
        return self._patches

    def __getitem__(self, key: int) -> dict[str, Tensor]:
        return {name: value[0] for name, value in self.__getitems__([key]).items()}

    def __getitems__(self, keys: Sequence[int]) -> dict[str, Tensor]:
        keys = np.asarray(keys, dtype=np.int64)
        blocks = keys // self.block_size
        order, parts = [], []
        for block in dict.fromkeys(blocks.tolist()):
            rows = np.flatnonzero(blocks == block)
            order.append(rows)
            parts.append(self.patches(block).__getitems__(keys[rows].tolist()))
        if len(parts) == 1:
            return parts[0]
        inverse = np.argsort(np.concatenate(order))
        return {
            name: torch.cat([part[name] for part in parts])[torch.from_numpy(inverse)]
            for name in parts[0]
        }
