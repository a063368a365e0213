"""The anatomy synthetic volumes are drawn from: tissue probability maps that the nilearn wheel ships.

The MNI152 (ICBM 2009) template, its grey- and white-matter probability maps and its brain mask, on
the template's 1 mm RAS grid (197 x 233 x 189); nothing is downloaded. The tissues (channel order of
:data:`TISSUES`):

==============  ================================================================
``background``  everything outside the brain mask
``csf``         brain mask minus grey and white matter (ventricles, sulci)
``gm``          grey-matter probability (inside the brain mask)
``wm``          white-matter probability (inside the brain mask)
==============  ================================================================

The template nilearn ships is skull-stripped (its voxels outside the brain mask are all but empty),
so there is no skull or scalp class. Grey and white matter are scaled down where they overlap
beyond 1 and CSF takes the rest of the mask, so the four tissues sum to 1 at every voxel: they are
partial-volume fractions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from nilearn.datasets import (
    load_mni152_brain_mask,
    load_mni152_gm_template,
    load_mni152_template,
    load_mni152_wm_template,
)
from torch import Tensor

TISSUES = ("background", "csf", "gm", "wm")


@dataclass(frozen=True)
class Anatomy:
    """Tissue fractions and the real T1 on one grid.

    Attributes:
        fractions: ``(4, X, Y, Z)`` float32 of :data:`TISSUES`, summing to 1 at every voxel.
        t1: ``(X, Y, Z)`` float32, the real T1 template in [0, 1].
        affine: 4x4 voxel -> world (mm) of the grid.
    """

    fractions: Tensor
    t1: Tensor
    affine: np.ndarray

    @property
    def brain(self) -> Tensor:
        """``(X, Y, Z)`` float32 brain fraction (1 - background)."""
        return 1 - self.fractions[0]


@lru_cache(maxsize=2)
def mni152_anatomy(downsample: int = 1) -> Anatomy:
    """The template's tissues at 1 mm, or block-averaged ``downsample``-fold (small, for tests)."""
    if downsample < 1:
        raise ValueError(f"downsample must be an integer >= 1, got {downsample}")
    template = load_mni152_template(resolution=1)
    grids = [
        np.asarray(image.get_fdata(), dtype=np.float32)
        for image in (
            template,
            load_mni152_gm_template(resolution=1),
            load_mni152_wm_template(resolution=1),
            load_mni152_brain_mask(resolution=1),
        )
    ]
    t1, gm, wm, mask = (torch.from_numpy(g) for g in grids)
    affine = np.asarray(template.affine, dtype=np.float64)
    if downsample > 1:
        stack = F.avg_pool3d(torch.stack([t1, gm, wm, mask])[None], downsample, ceil_mode=True)[0]
        t1, gm, wm, mask = stack
        affine = affine.copy()
        affine[:3, :3] *= downsample
        # The coarse voxel's centre is the mean of the fine centres it covers.
        affine[:3, 3] += affine[:3, :3] @ np.full(3, (1 - 1 / downsample) / 2)
    return Anatomy(tissue_fractions(gm, wm, mask), t1.contiguous(), affine)


def tissue_fractions(gm: Tensor, wm: Tensor, mask: Tensor) -> Tensor:
    """``(4, X, Y, Z)`` fractions of :data:`TISSUES` from ``(X, Y, Z)`` maps in [0, 1].

    ``mask`` may be fractional (a block-averaged mask): it is the brain's share of the voxel.
    """
    brain = mask.clamp(0, 1)
    gm, wm = gm.clamp(0, 1), wm.clamp(0, 1)
    matter = gm + wm
    # Where the probability maps overlap beyond 1, scale them down; CSF takes what is left.
    scale = torch.where(matter > 1, 1 / matter.clamp_min(1e-6), torch.ones_like(matter))
    gm, wm = gm * scale, wm * scale
    csf = (1 - gm - wm).clamp_min(0)
    return torch.stack([1 - brain, csf * brain, gm * brain, wm * brain]).contiguous()
