"""The definition of the low-resolution (LR) image: an open family of degradations.

Training, evaluation, prediction tests and benchmarks turn a high-resolution (HR) slice into its LR
counterpart through the run's degradation, built from ``conf/degradation/<name>.yaml`` by its
``_target_`` (:func:`build_degradation`); nothing else in srmri may build an LR image. Every
degradation subclasses :class:`BaseDegradation`: batched on the HR tensor's device, deterministic
given a generator, and declaring its LR grid (:meth:`~BaseDegradation.lr_shape`,
:meth:`~BaseDegradation.lr_positions`, :attr:`~BaseDegradation.factors`).

- :class:`Degradation` (``image``): the study's image-domain presets ``seed``, ``thesis_opencv``,
  ``bicubic``, with optional noise.
- :class:`SliceProfile` (``slice_profile``): thick slices integrated over a slice profile and
  sampled at a (possibly non-integer) spacing along one axis.
- :class:`KSpace` (``kspace``): the central block of the HR's k-space (a lower-resolution
  acquisition), optionally windowed, with optional complex (Rician) noise; :func:`zero_fill` is its
  baseline.
"""

from srmri.degradation.base import (
    BaseDegradation,
    build_degradation,
    describe_factors,
    target_of,
)
from srmri.degradation.image import (
    PRESETS,
    SCALES,
    Degradation,
    bicubic_resize,
    crop_to_scale,
    degrade,
    gaussian_blur,
    gaussian_kernel,
)
from srmri.degradation.kspace import WINDOWS, KSpace, zero_fill
from srmri.degradation.noise import NOISES, add_noise
from srmri.degradation.slice_profile import PROFILES, SliceProfile

__all__ = [
    "NOISES",
    "PRESETS",
    "PROFILES",
    "SCALES",
    "WINDOWS",
    "BaseDegradation",
    "Degradation",
    "KSpace",
    "SliceProfile",
    "add_noise",
    "bicubic_resize",
    "build_degradation",
    "crop_to_scale",
    "degrade",
    "describe_factors",
    "gaussian_blur",
    "gaussian_kernel",
    "target_of",
    "zero_fill",
]
