"""Counter-based randomness for training samples, and the per-epoch sampler of sample keys.

A training sample is a pure function of ``(seed, key)`` with ``key = epoch * samples_per_epoch + i``:
its random numbers come from SplitMix64 evaluated at a counter derived from the key, not from a
stateful generator. So a sample does not depend on the number of workers, on the batch it lands in
or on the process that draws it, and a run resumed at an epoch boundary replays the same samples.
"""

from __future__ import annotations

import numpy as np
from torch.utils.data import Sampler

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_UNIT = 2.0**-53


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (uint64 arithmetic wraps modulo 2**64)."""
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def sample_uniforms(seed: int, keys: np.ndarray, streams: int) -> np.ndarray:
    """Uniform numbers in [0, 1), shape ``(len(keys), streams)``, a function of (seed, key, stream)."""
    keys = np.asarray(keys, dtype=np.int64)
    if keys.size and keys.min() < 0:
        raise ValueError(f"sample keys must be >= 0, got {keys.min()}")
    state = _mix(np.array([seed % 2**64], dtype=np.uint64) * _GAMMA + _GAMMA)
    counter = keys.astype(np.uint64)[:, None] * np.uint64(streams) + np.arange(
        1, streams + 1, dtype=np.uint64
    )
    bits = _mix(state + counter * _GAMMA)
    return (bits >> np.uint64(11)).astype(np.float64) * _UNIT


class EpochSampler(Sampler[int]):
    """Yields the sample keys of one epoch, ``epoch * samples_per_epoch + i``, for this rank.

    With ``world_size`` ranks, rank ``r`` takes ``i = r, r + world_size, ...`` so ranks draw disjoint
    samples whose union is the epoch. Lightning calls :meth:`set_epoch` before every epoch.
    """

    def __init__(self, samples_per_epoch: int, rank: int = 0, world_size: int = 1) -> None:
        if samples_per_epoch < 1:
            raise ValueError(f"samples_per_epoch must be >= 1, got {samples_per_epoch}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside a world of {world_size}")
        self.samples_per_epoch = samples_per_epoch
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __iter__(self):
        start = self.epoch * self.samples_per_epoch
        return iter(range(start + self.rank, start + self.samples_per_epoch, self.world_size))

    def __len__(self) -> int:
        return len(range(self.rank, self.samples_per_epoch, self.world_size))
