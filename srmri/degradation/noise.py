"""Image-domain noise added to an LR image, shared by the degradations that offer it.

``gaussian``: ``lr + n`` with ``n ~ N(0, std^2)`` per pixel. ``rician``: the magnitude of a complex
signal whose real part is ``lr`` and whose both channels carry independent ``N(0, std^2)`` noise,
``sqrt((lr + n1)^2 + n2^2)``: what a magnitude MR image does to thermal noise (for a signal ``A``
its mean is ``std sqrt(pi/2) L_1/2(-A^2 / (2 std^2))``, not ``A``).
"""

from __future__ import annotations

import torch
from torch import Tensor

NOISES = ("none", "gaussian", "rician")


def check_noise(noise: str, noise_std: float) -> None:
    """Raise ValueError naming the key unless ``noise`` is known and ``noise_std >= 0``."""
    if noise not in NOISES:
        raise ValueError(f"degradation noise must be one of {NOISES}, got {noise!r}")
    if noise_std < 0:
        raise ValueError(f"degradation noise_std must be >= 0, got {noise_std!r}")


def standard_normal(
    shape: torch.Size | tuple[int, ...], like: Tensor, generator: torch.Generator | None
) -> Tensor:
    """``N(0, 1)`` samples of ``shape`` drawn from ``generator`` (on its own device, so a CPU
    generator gives the same numbers whatever device ``like`` is on), as ``like``'s device/dtype."""
    device = generator.device if generator is not None else like.device
    noise = torch.randn(shape, generator=generator, device=device)
    return noise.to(device=like.device, dtype=like.dtype)


def add_noise(
    lr: Tensor, noise: str, noise_std: float, generator: torch.Generator | None = None
) -> Tensor:
    """``lr`` ``(B, C, h, w)`` with ``noise`` of standard deviation ``noise_std`` (see module doc)."""
    if noise == "none" or noise_std == 0:
        return lr

    def normal() -> Tensor:
        return standard_normal(lr.shape, lr, generator) * noise_std

    if noise == "gaussian":
        return lr + normal()
    # Rician: magnitude of a complex signal with Gaussian noise in both channels, as in MR images.
    return torch.sqrt((lr + normal()) ** 2 + normal() ** 2)
