"""Thick slices: what a multi-slice acquisition does to its through-plane axis.

Along ONE axis of the slice (``axis``, -2 = H or -1 = W; the other axis is left alone) the HR
signal is integrated over each slice's profile and sampled every ``spacing`` HR pixels:

- Slab ``j`` covers ``[j * spacing, (j + 1) * spacing)`` HR pixels from the field of view's edge,
  so its centre (the LR sample) sits at HR coordinate ``c_j = (j + 0.5) * spacing - 0.5`` (HR pixel
  ``i`` is centred at ``i`` and covers ``[i - 0.5, i + 0.5]``; see :mod:`srmri.degradation.base`).
- LR sample ``j`` is ``sum_i w_ji hr_i``: the HR image, constant over each HR pixel, weighted by the
  slice profile ``p(x - c_j)`` integrated over pixel ``i`` (exact, so a non-integer thickness or
  spacing needs no approximation): ``rect`` of width ``thickness`` (``p = 1/thickness`` inside),
  or ``gaussian`` with FWHM ``thickness`` (``sigma = thickness / (2 sqrt(2 ln 2))``).
- A spacing larger than the thickness leaves a gap between slices (those HR pixels only reach the
  LR through the Gaussian's tails, or not at all for ``rect``); a thickness larger than the spacing
  makes slices overlap.
- Where a profile reaches past the field of view, the weights inside it are renormalised to sum to
  one (nothing is known outside; a uniform image stays uniform up to the edges).
- An axis of ``n`` HR pixels gives ``floor(n / spacing)`` LR samples; a last partial slab (less
  than ``spacing`` HR pixels) is not sampled.

Optional noise (see :mod:`srmri.degradation.noise`) is added to the LR last. The LR is not clamped:
without noise it is a weighted mean of HR values, so it stays within their range anyway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor

from srmri.degradation.base import BaseDegradation, _axis_index, check_batch
from srmri.degradation.noise import add_noise, check_noise

PROFILES = ("gaussian", "rect")
# FWHM = 2 sqrt(2 ln 2) sigma for a Gaussian.
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


@dataclass(frozen=True)
class SliceProfile(BaseDegradation):
    """Slice-profile integration and sampling along one axis (see the module doc).

    Args:
        thickness: the profile's width in HR pixels (FWHM for ``gaussian``), > 0.
        spacing: distance between sample centres in HR pixels, >= 1 (may be non-integer).
        profile: ``gaussian`` (default) or ``rect``.
        axis: the degraded axis of a ``(B, C, H, W)`` batch: -2 (H, default) or -1 (W).
        noise: ``none`` (default), ``gaussian`` or ``rician`` noise on the LR.
        noise_std: its standard deviation in normalised intensity units.

    ``hr`` ``(B, C, H, W)`` -> ``lr`` ``(B, C, floor(H / spacing), W)`` for ``axis=-2``
    (``(B, C, H, floor(W / spacing))`` for ``axis=-1``).
    """

    thickness: float
    spacing: float
    profile: str = "gaussian"
    axis: int = -2
    noise: str = "none"
    noise_std: float = 0.0

    def __post_init__(self) -> None:
        if not self.thickness > 0:
            raise ValueError(f"slice_profile thickness must be > 0, got {self.thickness!r}")
        if not self.spacing >= 1:
            raise ValueError(f"slice_profile spacing must be >= 1 HR pixel, got {self.spacing!r}")
        if self.profile not in PROFILES:
            raise ValueError(
                f"slice_profile profile must be one of {PROFILES}, got {self.profile!r}"
            )
        _axis_index(self.axis)
        check_noise(self.noise, self.noise_std)

    @property
    def factors(self) -> tuple[float, float]:
        """``spacing`` along the degraded axis, 1 along the other."""
        spacing = float(self.spacing)
        return (spacing, 1.0) if _axis_index(self.axis) == 0 else (1.0, spacing)

    @property
    def baselines(self) -> tuple[str, ...]:
        return ("bspline",)

    def lr_positions(self, hr_size: int, axis: int | None = None) -> Tensor:
        """HR coordinates ``(n_lr,)`` of the LR sample centres along ``axis`` (default: the
        degraded one): ``(j + 0.5) * spacing - 0.5``."""
        return super().lr_positions(hr_size, self.axis if axis is None else axis)

    def weights(self, hr_size: int) -> Tensor:
        """The ``(n_lr, hr_size)`` float64 matrix taking an HR line to its LR samples."""
        return _weights(float(self.thickness), float(self.spacing), self.profile, int(hr_size))

    def __call__(self, hr: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """The LR batch of ``hr`` ``(B, C, H, W)`` (see the class doc for its shape)."""
        check_batch(hr, "slice_profile")
        along_h = _axis_index(self.axis) == 0
        size = hr.shape[-2] if along_h else hr.shape[-1]
        if self.lr_size(size, self.axis) < 1:
            raise ValueError(
                f"slice_profile: an axis of {size} HR pixels is shorter than one slice spacing "
                f"({self.spacing})"
            )
        matrix = self.weights(size).to(device=hr.device, dtype=hr.dtype)
        lr = matrix @ hr if along_h else hr @ matrix.T
        return add_noise(lr, self.noise, self.noise_std, generator)


@lru_cache(maxsize=64)
def _weights(thickness: float, spacing: float, profile: str, hr_size: int) -> Tensor:
    n_lr = math.floor(hr_size / spacing + 1e-9)
    centres = (torch.arange(n_lr, dtype=torch.float64) + 0.5) * spacing - 0.5
    # Pixel edges relative to each sample centre: (n_lr, hr_size) lower and upper bounds.
    pixel = torch.arange(hr_size, dtype=torch.float64)
    lower = pixel[None, :] - 0.5 - centres[:, None]
    upper = lower + 1.0
    if profile == "rect":
        half = thickness / 2
        weights = (upper.clamp(-half, half) - lower.clamp(-half, half)) / thickness
    else:
        sigma = thickness / FWHM_PER_SIGMA
        scale = 1.0 / (sigma * math.sqrt(2.0))
        weights = 0.5 * (torch.erf(upper * scale) - torch.erf(lower * scale))
    return weights / weights.sum(dim=1, keepdim=True)
