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

Volumes (``spatial_dims=3``)
----------------------------
The same presets act on ``(B, C, D, H, W)`` volumes, isotropically: torch's bicubic resampling (with
or without antialiasing) is separable, a 1-D kernel along each axis in turn, so the 3-D preset
applies that same 1-D kernel along D, H and W (:func:`bicubic_resize` resamples (H, W) per depth
plane, then D). The Gaussian is the ``k x k x k`` product of the 1-D Gaussian, reflect padding.
In 2-D this is exactly the slice presets, so an x2 ``seed`` volume and an x2 ``seed`` slice see the
same in-plane kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from srmri.degradation.base import BaseDegradation, check_batch, check_scale, check_spatial_dims
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
        spatial_dims: 2 (slices ``(B, C, H, W)``, default) or 3 (volumes ``(B, C, D, H, W)``).
    """

    scale: int = 2
    preset: str = "seed"
    blur_kernel: int = 3
    blur_sigma: float = 1.0
    noise: str = "none"
    noise_std: float = 0.0
    spatial_dims: int = 2

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
        check_spatial_dims(self.spatial_dims, "degradation")

    @property
    def factors(self) -> tuple[float, ...]:
        """``(scale,) * spatial_dims``: LR pixel ``j`` is centred at HR coordinate
        ``(j + 0.5) s - 0.5`` along every axis."""
        return (float(self.scale),) * self.spatial_dims

    def __call__(self, hr: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Return the LR image ``(B, C, H/s, W/s)`` of an HR batch ``(B, C, H, W)`` (or
        ``(B, C, D/s, H/s, W/s)`` of ``(B, C, D, H, W)`` in 3-D)."""
        return degrade(hr, self, generator)


def gaussian_kernel(size: int, sigma: float, device=None, dtype=torch.float32) -> Tensor:
    """Normalised 2-D Gaussian ``(size, size)`` whose entries sum to one."""
    x = torch.arange(size, device=device, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    kernel = torch.outer(g, g)
    return (kernel / kernel.sum()).to(dtype)


def gaussian_blur(image: Tensor, size: int, sigma: float) -> Tensor:
    """Blur every channel of ``(B, C, H, W)`` (or ``(B, C, D, H, W)``) with a normalised Gaussian
    of side ``size`` along every spatial axis, reflect padding.

    The normalised 2-D (3-D) Gaussian is the outer product of the normalised 1-D one, so the blur is
    one 1-D pass per axis over the reflect-padded image: a weighted sum of ``size`` shifted views.
    That is the same sum as the square kernel's convolution (to float rounding, about 1e-7) but
    several times faster on a CPU, where a one-channel ``conv2d`` is slow.
    """
    line = gaussian_kernel(size, sigma, dtype=torch.float64)[size // 2]
    weights = (line / line.sum()).tolist()
    spatial_dims = image.ndim - 2
    out = F.pad(image, (size // 2,) * 2 * spatial_dims, mode="reflect")
    for axis, n in zip(range(2, image.ndim), image.shape[2:], strict=True):
        blurred = out.narrow(axis, 0, n) * weights[0]
        for i, w in enumerate(weights[1:], start=1):
            blurred.add_(out.narrow(axis, i, n), alpha=w)
        out = blurred
    return out


def bicubic_resize(image: Tensor, size: tuple[int, ...], antialias: bool) -> Tensor:
    """Bicubic resampling of ``(B, C, H, W)`` to ``size`` ``(h, w)``, pixel-centre convention;
    of ``(B, C, D, H, W)`` to ``(d, h, w)`` separably (the same 1-D kernel along D).

    With ``antialias`` (downscaling) torch follows PIL: Keys' kernel with a = -0.5, stretched by
    the scale; without it, the 4-tap kernel with a = -0.75 that OpenCV's ``INTER_CUBIC`` uses.
    """
    if image.ndim == 4:
        return F.interpolate(
            image, size=size, mode="bicubic", align_corners=False, antialias=antialias
        )
    batch, channels, depth = image.shape[:3]
    d, h, w = size
    # (H, W) of every depth plane at once, then D against an untouched axis: a factor of 1 is the
    # identity for both kernels (they interpolate), so the two passes are the separable 3-D kernel.
    planes = image.movedim(2, 1).reshape(batch * depth, channels, *image.shape[-2:])
    planes = F.interpolate(
        planes, size=(h, w), mode="bicubic", align_corners=False, antialias=antialias
    )
    volume = planes.reshape(batch, depth, channels, h, w).movedim(1, -1)  # (B, C, h, w, D)
    columns = volume.reshape(batch, channels * h, w, depth)
    columns = F.interpolate(
        columns, size=(w, d), mode="bicubic", align_corners=False, antialias=antialias
    )
    return columns.reshape(batch, channels, h, w, d).movedim(-1, 2).contiguous()


def crop_to_scale(hr: Tensor, scale: int, spatial_dims: int = 2) -> Tensor:
    """Drop trailing rows and columns of ``(..., H, W)`` so that H and W are multiples of scale
    (and trailing planes of ``(..., D, H, W)`` too with ``spatial_dims=3``)."""
    sizes = hr.shape[-spatial_dims:]
    return hr[(..., *(slice(0, n - n % scale) for n in sizes))]


def degrade(
    hr: Tensor, degradation: Degradation, generator: torch.Generator | None = None
) -> Tensor:
    """Return the LR image of ``hr`` ``(B, C, H, W)`` under ``degradation``.

    Raises:
        ValueError: if ``hr`` is not ``(B, C, *spatial)`` with ``degradation.spatial_dims`` axes
            or its sizes are not multiples of the scale.
    """
    check_batch(hr, "degrade", degradation.spatial_dims)
    s = degradation.scale
    size = tuple(check_scale(hr, s))
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
