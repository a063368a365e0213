"""Exponential moving average (EMA) of a network's weights.

The average is a frozen copy of the network, updated after every optimiser step. Its decay is
warmed up as ``min(decay, (1 + step) / (10 + step))`` so that short runs (the CPU demo is a few
hundred steps) validate an average of recent weights rather than of the random initialisation.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA(nn.Module):
    """Holds ``average``, a frozen copy of ``network`` whose weights trail the live ones.

    Args:
        network: the network being trained; copied once at construction.
        decay: the target decay (e.g. 0.999); the effective decay is warmed up from 0.1.
    """

    def __init__(self, network: nn.Module, decay: float) -> None:
        super().__init__()
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"ema.decay must be in [0, 1), got {decay!r}")
        self.decay = decay
        self.average = copy.deepcopy(network).requires_grad_(False)
        # The step count is a buffer so that it is checkpointed and resumed with the weights.
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))

    def current_decay(self) -> float:
        step = int(self.updates)
        return min(self.decay, (1 + step) / (10 + step))

    @torch.no_grad()
    def update(self, network: nn.Module) -> None:
        """Move the average towards ``network``'s current weights; copy its buffers."""
        decay = self.current_decay()
        for average, live in zip(self.average.parameters(), network.parameters(), strict=True):
            average.lerp_(live.detach(), 1.0 - decay)
        for average, live in zip(self.average.buffers(), network.buffers(), strict=True):
            average.copy_(live)
        self.updates += 1
