"""Training losses: L1 (default, as EDSR/WDSR), L2, and L1 + SSIM."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from srmri.metrics import ssim

LOSSES = ("l1", "l2", "l1_ssim")


class SRLoss(nn.Module):
    """Pixel loss between SR ``(B, C, H, W)`` and HR of the same shape.

    Args:
        name: ``l1``, ``l2`` or ``l1_ssim``.
        ssim_weight: with ``l1_ssim``, the loss is ``l1 + ssim_weight * (1 - SSIM)``.
        data_range: the fixed data range SSIM uses (1.0 for normalised images).
    """

    def __init__(self, name: str = "l1", ssim_weight: float = 0.1, data_range: float = 1.0) -> None:
        super().__init__()
        if name not in LOSSES:
            raise ValueError(f"loss.name must be one of {LOSSES}, got {name!r}")
        self.name = name
        self.ssim_weight = ssim_weight
        self.data_range = data_range

    def forward(self, sr: Tensor, hr: Tensor) -> Tensor:
        if self.name == "l2":
            return F.mse_loss(sr, hr)
        loss = F.l1_loss(sr, hr)
        if self.name == "l1_ssim":
            # SSIM is differentiable; it is scored on the clamped prediction like every metric.
            loss = loss + self.ssim_weight * (1.0 - ssim(sr, hr, data_range=self.data_range).mean())
        return loss
