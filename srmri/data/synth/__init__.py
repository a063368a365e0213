"""Synthetic any-contrast MR volumes from the MNI152 anatomy (the source ``data=synth``).

:mod:`~srmri.data.synth.anatomy` (tissue fractions from nilearn's template), :mod:`.spatial`
(random affine + elastic deformation), :mod:`.contrast` (random Gaussian mixture per tissue),
:mod:`.artefacts` (bias field, gamma, noise) and :mod:`.generator` (one volume per seed).
"""

from srmri.data.synth.anatomy import TISSUES, Anatomy, mni152_anatomy
from srmri.data.synth.generator import SynthGenerator, SynthVolume

__all__ = ["TISSUES", "Anatomy", "SynthGenerator", "SynthVolume", "mni152_anatomy"]
