"""One synthetic volume per seed: deformed anatomy, a random contrast (or the real T1), artefacts.

:class:`SynthGenerator` is a pure function of its seed: the same seed gives the same volume on
any machine with the same anatomy, whatever was generated before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from srmri.data.synth.anatomy import Anatomy
from srmri.data.synth.artefacts import Artefacts
from srmri.data.synth.contrast import TissueContrast, mix_tissues, sample_contrast
from srmri.data.synth.spatial import RandomDeformation

BRAIN_LEVEL = 0.5
"""Brain fraction from which a voxel belongs to the brain mask of a synthetic volume."""


@dataclass(frozen=True)
class SynthVolume:
    """A generated volume on the anatomy's grid.

    Attributes:
        image: ``(X, Y, Z)`` float32, >= 0 (about [0, 1] before artefacts).
        fractions: ``(K, X, Y, Z)`` float32 tissue fractions after the deformation (the labels the
            image was made from; they sum to 1 at every voxel).
        mask: ``(X, Y, Z)`` bool brain mask, brain fraction >= :data:`BRAIN_LEVEL`.
        contrast: the tissue means and spreads drawn (drawn even when ``real``, unused then).
        real: whether the image is the (deformed) real T1 rather than a synthetic contrast.
    """

    image: Tensor
    fractions: Tensor
    mask: Tensor
    contrast: TissueContrast
    real: bool


class SynthGenerator:
    """Synthetic MR volumes from one anatomy.

    Args:
        anatomy: tissue fractions and the real T1 (:func:`~srmri.data.synth.anatomy.mni152_anatomy`).
        real_fraction: probability that a volume is the real T1 rather than a random contrast.
        contrast: keyword arguments of :func:`~srmri.data.synth.contrast.sample_contrast`
            (``mean_range``, ``spread_range``, ``background_range``) and ``texture_scale``.
        deformation: keyword arguments of :class:`RandomDeformation`, or None for no deformation.
        artefacts: keyword arguments of :class:`Artefacts`, or None for none.
    """

    def __init__(
        self,
        anatomy: Anatomy,
        real_fraction: float = 0.2,
        contrast: Mapping | None = None,
        deformation: Mapping | None = None,
        artefacts: Mapping | None = None,
    ) -> None:
        if not 0.0 <= real_fraction <= 1.0:
            raise ValueError(f"real_fraction={real_fraction!r}: expected a fraction in [0, 1]")
        contrast = dict(contrast or {})
        self.texture_scale = int(contrast.pop("texture_scale", 2))
        self.contrast = {key: tuple(value) for key, value in contrast.items()}
        self.anatomy = anatomy
        self.real_fraction = float(real_fraction)
        self.deformation = RandomDeformation(**deformation) if deformation is not None else None
        self.artefacts = Artefacts(**_tuples(artefacts)) if artefacts is not None else None

    def __call__(self, seed: int) -> SynthVolume:
        """The volume of ``seed`` (an integer >= 0)."""
        rng = np.random.default_rng(seed)
        deform_seed, texture_seed = rng.integers(0, 2**31 - 2, size=2).tolist()
        real = bool(rng.uniform() < self.real_fraction)
        contrast = sample_contrast(rng, len(self.anatomy.fractions), **self.contrast)
        # Brain tissues and the T1 move together; the background is what the brain leaves.
        moving = torch.cat([self.anatomy.fractions[1:], self.anatomy.t1[None]])
        if self.deformation is not None:
            moving = self.deformation(moving, deform_seed)
        brain = moving[:-1].clamp(0, 1)
        fractions = torch.cat([(1 - brain.sum(0, keepdim=True)).clamp_min(0), brain])
        if real:
            image = moving[-1].clamp_min(0)
        else:
            generator = torch.Generator().manual_seed(texture_seed)
            # The texture's tails may dip below 0 in a dark tissue; magnitudes cannot.
            image = mix_tissues(fractions, contrast, generator, self.texture_scale).clamp_min(0)
        if self.artefacts is not None:
            image = self.artefacts(image, rng)
        mask = brain.sum(0) >= BRAIN_LEVEL
        return SynthVolume(image.contiguous(), fractions.contiguous(), mask, contrast, real)


def _tuples(config: Mapping | None) -> dict:
    """Lists from a YAML config as tuples (ranges)."""
    return {k: tuple(v) if isinstance(v, list | tuple) else v for k, v in (config or {}).items()}
