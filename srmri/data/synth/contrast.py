"""Random contrast: a Gaussian mixture over tissues, mixed voxel by voxel by the tissue fractions.

Every tissue k gets a random mean ``mu_k`` and spread ``sigma_k``; the image is

    I(x) = sum_k f_k(x) * (mu_k + sigma_k * n_k(x))

with f_k the tissue fractions (partial volume) and n_k a standard-normal texture field per tissue,
drawn on a grid ``texture_scale`` times coarser and interpolated, so it varies over a few voxels
rather than voxel by voxel (voxel noise is added later, as a scanner adds it). The means are drawn
independently, in no order, so T1-like (wm > gm > csf), T2- and PD-like (csf bright), FLAIR-like
(csf dark, gm > wm) and contrasts no scanner makes all occur.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class TissueContrast:
    """One draw of the mixture: ``means`` and ``spreads`` per tissue, shape ``(K,)``."""

    means: np.ndarray
    spreads: np.ndarray


def sample_contrast(
    rng: np.random.Generator,
    tissues: int,
    mean_range: tuple[float, float] = (0.0, 1.0),
    spread_range: tuple[float, float] = (0.0, 0.05),
    background_range: tuple[float, float] = (0.0, 0.1),
) -> TissueContrast:
    """Means uniform in ``mean_range`` (``background_range`` for tissue 0, the background) and
    spreads uniform in ``spread_range``, in units of the [0, 1] intensity scale."""
    means = rng.uniform(*mean_range, size=tissues)
    means[0] = rng.uniform(*background_range)
    spreads = rng.uniform(*spread_range, size=tissues)
    return TissueContrast(means, spreads)


def mix_tissues(
    fractions: Tensor, contrast: TissueContrast, generator: torch.Generator, texture_scale: int = 2
) -> Tensor:
    """``(X, Y, Z)`` float32 image from ``(K, X, Y, Z)`` fractions and one contrast draw."""
    tissues, *shape = fractions.shape
    coarse = [max(1, -(-s // texture_scale)) for s in shape]
    noise = torch.randn((1, tissues, *coarse), generator=generator)
    if texture_scale > 1:
        noise = F.interpolate(noise, size=shape, mode="trilinear", align_corners=False)
        # Interpolation averages neighbours and shrinks the variance: back to unit variance, so
        # that spreads are the tissues' standard deviations.
        noise = noise / noise.std(dim=(2, 3, 4), keepdim=True).clamp_min(1e-6)
    means = torch.as_tensor(contrast.means, dtype=torch.float32).view(-1, 1, 1, 1)
    spreads = torch.as_tensor(contrast.spreads, dtype=torch.float32).view(-1, 1, 1, 1)
    return (fractions * (means + spreads * noise[0])).sum(0)
