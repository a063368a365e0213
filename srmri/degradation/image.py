"""The image-domain presets of the study: bicubic downscales with an optional Gaussian blur.

Training, evaluation, prediction tests and benchmarks turn a high-resolution (HR) slice into its
LR counterpart through the run's degradation (see :mod:`srmri.degradation`); these presets are the
default family, selected by ``preset`` in :class:`Degradation`.

Images are float tensors in the normalised range [0, 1], shaped ``(B, C, H, W)``; ``H`` and ``W``
must be multiples of ``scale`` (use :func:`crop_to_scale`), so that LR pixel centres sit exactly on
the HR grid's block centres (``align_corners=False`` convention) and SR outputs align pixel for pixel.

Presets
-------
``seed``
    The study's slides: bicubic downscale (antialiased) to ``H/s x W/s``, then a normalised
    ``k x k`` Gaussian blur (default k=3, sigma=1) with reflect padding, applied to the LR image.
``thesis_opencv``
    The thesis text: the Gaussian blur on the HR image first, then a bicubic downscale without
    antialiasing (OpenCV ``GaussianBlur`` then ``resize(INTER_CUBIC)``).
``bicubic``
    The antialiased bicubic downscale alone.

Optional noise (``gaussian`` or ``rician``, standard deviation in normalised units) is added to the
LR image last, for robustness studies. The LR image is clamped to [0, 1] like any stored image.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from srmri.degradation.base import BaseDegradation
from srmri.degradation.noise import add_noise, check_noise

PRESETS = ("seed", "thesis_opencv", "bicubic")
SCALES = (2, 3, 4)


@dataclass(frozen=True)
class Degradation(BaseDegradation):
    """HR -> LR, batched, on whatever device the HR tensor lives on.

    Args:
        scale: downscale factor, 2, 3 or 4.
        preset: ``seed`` (default), ``thesis_opencv`` or ``bicubic``.
        blur_kernel: side of the square Gaussian kernel (odd), default 3.
        blur_sigma: standard deviation of the Gaussian in pixels, default 1.0.
        noise: ``none`` (default), ``gaussian`` or ``rician``.
        noise_std: noise standard deviation in normalised intensity units.
    """

    scale: int = 2
    preset: str = "seed"
    blur_kernel: int = 3
    blur_sigma: float = 1.0
    noise: str = "none"
    noise_std: float = 0.0

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"degradation scale must be one of {SCALES}, got {self.scale!r}")
        if self.preset not in PRESETS:
            raise ValueError(f"degradation preset must be one of {PRESETS}, got {self.preset!r}")
        if self.blur_kernel < 1 or self.blur_kernel % 2 == 0:
            raise ValueError(
                f"degradation blur_kernel must be a positive odd number, got {self.blur_kernel!r}"
            )
        if self.blur_sigma <= 0:
            raise ValueError(f"degradation blur_sigma must be > 0, got {self.blur_sigma!r}")
        check_noise(self.noise, self.noise_std)

    @property
    def factors(self) -> tuple[float, float]:
        """``(scale, scale)``: LR pixel ``j`` is centred at HR coordinate ``(j + 0.5) s - 0.5``."""
        return (float(self.scale), float(self.scale))

    def __call__(self, hr: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Return the LR image ``(B, C, H/s, W/s)`` of an HR batch ``(B, C, H, W)``."""
        return degrade(hr, self, generator)


def gaussian_kernel(size: int, sigma: float, device=None, dtype=torch.float32) -> Tensor:
    """Normalised 2-D Gaussian ``(size, size)`` whose entries sum to one."""
    x = torch.arange(size, device=device, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    kernel = torch.outer(g, g)
    return (kernel / kernel.sum()).to(dtype)


def gaussian_blur(image: Tensor, size: int, sigma: float) -> Tensor:
    """Blur every channel of ``(B, C, H, W)`` with a normalised Gaussian, reflect padding."""
    channels = image.shape[1]
    kernel = gaussian_kernel(size, sigma, image.device, image.dtype)
    weight = kernel.expand(channels, 1, size, size)
    pad = size // 2
    padded = F.pad(image, (pad, pad, pad, pad), mode="reflect")
    return F.conv2d(padded, weight, groups=channels)


def bicubic_resize(image: Tensor, size: tuple[int, int], antialias: bool) -> Tensor:
    """Bicubic resampling of ``(B, C, H, W)`` to ``size``, pixel-centre convention.

    With ``antialias`` (downscaling) torch follows PIL: Keys' kernel with a = -0.5, stretched by
    the scale; without it, the 4-tap kernel with a = -0.75 that OpenCV's ``INTER_CUBIC`` uses.
    """
    return F.interpolate(image, size=size, mode="bicubic", align_corners=False, antialias=antialias)


def crop_to_scale(hr: Tensor, scale: int) -> Tensor:
    """Drop trailing rows and columns of ``(..., H, W)`` so that H and W are multiples of scale."""
    h, w = hr.shape[-2:]
    return hr[..., : h - h % scale, : w - w % scale]


def degrade(
    hr: Tensor, degradation: Degradation, generator: torch.Generator | None = None
) -> Tensor:
    """Return the LR image of ``hr`` ``(B, C, H, W)`` under ``degradation``.

    Raises:
        ValueError: if ``hr`` is not 4-D or H, W are not multiples of the scale.
    """
    if hr.ndim != 4:
        raise ValueError(f"degrade expects an HR batch (B, C, H, W), got shape {tuple(hr.shape)}")
    s = degradation.scale
    h, w = hr.shape[-2:]
    if h % s or w % s:
        raise ValueError(
            f"HR size {h}x{w} is not a multiple of scale {s}; crop it with crop_to_scale first"
        )
    size = (h // s, w // s)
    if degradation.preset == "seed":
        lr = bicubic_resize(hr, size, antialias=True)
        lr = gaussian_blur(lr, degradation.blur_kernel, degradation.blur_sigma)
    elif degradation.preset == "thesis_opencv":
        blurred = gaussian_blur(hr, degradation.blur_kernel, degradation.blur_sigma)
        lr = bicubic_resize(blurred, size, antialias=False)
    else:
        lr = bicubic_resize(hr, size, antialias=True)
    lr = add_noise(lr, degradation.noise, degradation.noise_std, generator)
    return lr.clamp(0.0, 1.0)
