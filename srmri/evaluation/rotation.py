"""The study's in-plane rotations, and which pixels of a rotated slice may be scored.

A slice ``(H, W)`` is turned by ``angle`` degrees (counter-clockwise as displayed, row 0 at the top)
about its centre and placed at the centre of a larger frame that holds it whole at every angle of
the run. The turned HR slice is the reference: it is degraded and super-resolved like any slice,
and every method is scored in this rotated frame. Nothing is rotated back, so no method is charged
a second interpolation.

How the slice is turned (``rotation.interpolation``): ``fft`` (default) is band-limited, quarter
turns by permutation and the rest by three FFT shears (:mod:`srmri.evaluation.shear`), so the
reference keeps every frequency a turned grid can hold (not the corners of the square spectrum,
which no turn keeps); ``bicubic`` and ``linear`` are ``grid_sample`` turns,
which smooth the reference (bicubic removes about a fifth of an MNI slice's mean squared Laplacian
at 18-72 degrees) and so flatter every method at angles that are not quarter turns. A whole number
of turns places the slice unresampled. Masks turn with ``nearest``.

Which frequencies the reference holds (``rotation.band``): no turned grid holds the corners of a
slice's square spectrum (beyond the Nyquist frequency diagonally), so even the FFT turn leaves the
reference at 18-72 degrees with less fine detail than at 0 and 90, and every method looks better
there. ``disk`` (default) low-passes the HR slice to the disk band (``|k| <= Nyquist``) before it is
turned, at every angle, 0 included: every angle's reference then holds the same frequencies, and the
by-angle curves show the method, not the rotation. ``square`` keeps the slice as it is. A run without
turns (``angles=[0]``) scores the slice as it is.

The frame around the turned slice holds a fill value (0). It must never enter a score, and neither
may any pixel that the fill reaches through the rotation, the degradation and a method (their reach,
see :mod:`srmri.evaluation.reach`), nor through SSIM's 11 x 11 window. A pixel is scored only when
it comes from the slice shrunk on every side by

    ``margin = taps + sqrt(2) * (reach + (window - 1) / 2)``

slice pixels (``sqrt(2)``: a square neighbourhood of the rotated frame, whatever its angle, fits in
a disk of that radius). ``taps`` is how far into the fill the rotation reads: 2 for bicubic, 1 for
linear, whose taps read the fill next to the slice's edge. The FFT turn is global (every output
pixel depends on the whole row it shears), so it is kept away from the fill instead: it turns the
slice alone, zero beyond its edge, on a canvas at least twice the slice's diagonal (the periodic
wrap-around lands a diagonal away), and the fill is written afterwards into the frame pixels whose
source lies outside the slice. The fill then reaches no turned slice pixel through the rotation:
``taps`` is 0. What the FFT turn does assume is that the anatomy is zero beyond the slice's edge,
as background is after normalisation; an edge that is not background rings inwards (a unit step
moves pixels 20 pixels inside by about 1.5e-2), inside the margin for a step of 0.1 or less.

The region is defined in slice coordinates, so every angle, 0 included, scores the same anatomy and
the by-angle curves compare like with like. When no angle turns the slice (``angles=[0]``) there is
no fill: the frame is the slice and every pixel is scored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor

from srmri.evaluation import shear
from srmri.metrics import SSIM_WINDOW

# Interpolation -> how far (slice pixels) into the fill its taps read (see the module docstring).
INTERPOLATIONS = {"fft": 0, "bicubic": 2, "linear": 1}
DEFAULT_INTERPOLATION = "fft"
# rotation.band -> how the report names it.
BANDS = {
    "disk": "the HR slice low-passed to the disk band |k| <= Nyquist at every angle, 0 included",
    "square": "the HR slice as it is (turned slices lose the corners of its square spectrum)",
}
DEFAULT_BAND = "disk"
# How the report names each rotation.
DESCRIPTIONS = {
    "fft": "band-limited (quarter turns by permutation, the rest by three FFT shears on a twice finer grid, float64)",
    "bicubic": "bicubic grid_sample (smooths the reference at angles other than quarter turns)",
    "linear": "bilinear grid_sample (smooths the reference at angles other than quarter turns)",
}
# srmri's interpolation name -> grid_sample's.
GRID_MODES = {"bicubic": "bicubic", "linear": "bilinear", "nearest": "nearest"}


def is_identity(angle: float) -> bool:
    """Whether ``angle`` (degrees) is a whole number of turns."""
    return math.isclose(math.remainder(angle, 360.0), 0.0, abs_tol=1e-9)


def disk_band(images: Tensor) -> Tensor:
    """``images`` ``(..., H, W)`` low-passed to the disk ``|k| <= Nyquist`` (the same dtype).

    The part of a slice that a turned grid can hold whatever the angle; the slice is taken as
    periodic (its edges are background after normalisation). Computed in float64.
    """
    height, width = images.shape[-2:]
    ky = torch.fft.fftfreq(height, dtype=torch.float64, device=images.device)[:, None]
    kx = torch.fft.rfftfreq(width, dtype=torch.float64, device=images.device)[None, :]
    # In cycles per pixel the Nyquist frequency is 1/2 on both axes.
    inside = (ky**2 + kx**2) <= 0.25 + 1e-12
    spectrum = torch.fft.rfft2(images.to(torch.float64))
    return torch.fft.irfft2(spectrum * inside, s=(height, width)).to(images.dtype)


def frame_shape(shape: tuple[int, int], angles: Sequence[float], scale: int) -> tuple[int, int]:
    """The smallest frame that holds a slice of ``shape`` turned by every angle.

    It exceeds the slice by a multiple of ``2 * scale``: the slice sits a whole number of LR pixels
    from the frame's edge, so at angle 0 its LR pixels are exactly those of the slice alone.
    """
    if all(is_identity(angle) for angle in angles):
        return shape
    height, width = shape
    step = 2 * scale
    needed_h, needed_w = height, width
    for angle in angles:
        cos, sin = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
        needed_h = max(needed_h, math.ceil(height * cos + width * sin - 1e-9))
        needed_w = max(needed_w, math.ceil(height * sin + width * cos - 1e-9))
    return (
        height + math.ceil((needed_h - height) / step) * step,
        width + math.ceil((needed_w - width) / step) * step,
    )


def source_coordinates(
    frame: tuple[int, int], shape: tuple[int, int], angle: float
) -> tuple[Tensor, Tensor]:
    """``(row, col)`` float64 grids of the frame ``(Hf, Wf)``: where in the slice each pixel reads."""
    rows, cols = torch.meshgrid(
        torch.arange(frame[0], dtype=torch.float64),
        torch.arange(frame[1], dtype=torch.float64),
        indexing="ij",
    )
    theta = math.radians(angle)
    cos, sin = math.cos(theta), math.sin(theta)
    x, y = cols - (frame[1] - 1) / 2, rows - (frame[0] - 1) / 2
    # The inverse rotation of the frame offsets; rows grow downwards, hence the signs.
    return (shape[0] - 1) / 2 + sin * x + cos * y, (shape[1] - 1) / 2 + cos * x - sin * y


def turn(
    images: Tensor,
    angles: Sequence[float],
    frame: tuple[int, int],
    mode: str = DEFAULT_INTERPOLATION,
    fill: float = 0.0,
) -> Tensor:
    """Each image of ``(B, C, H, W)`` turned by its angle, centred in a ``frame`` ``(Hf, Wf)``.

    Args:
        images: the slices.
        angles: one angle in degrees per image.
        frame: the output size, at least ``(H, W)``.
        mode: ``fft`` (band-limited), ``bicubic``, ``linear`` or ``nearest`` (masks).
        fill: the value of frame pixels outside the turned slice.

    Returns:
        ``(B, C, Hf, Wf)`` in the dtype of ``images``; a whole number of turns places the slice
        unresampled.
    """
    if images.ndim != 4 or len(angles) != images.shape[0]:
        raise ValueError(
            f"turn expects (B, C, H, W) and B angles, got {tuple(images.shape)} and {len(angles)}"
        )
    if mode not in (*INTERPOLATIONS, "nearest"):
        raise ValueError(f"turn: mode={mode!r}; expected one of {[*INTERPOLATIONS, 'nearest']}")
    height, width = images.shape[-2:]
    identity = [is_identity(angle) for angle in angles]
    # A whole turn is placed by padding (exact); other angles are resampled.
    top, left = (frame[0] - height) // 2, (frame[1] - width) // 2
    pads = (left, frame[1] - width - left, top, frame[0] - height - top)
    shifted = images - fill
    output = F.pad(shifted, pads)
    turning = [i for i, same in enumerate(identity) if not same]
    if turning and mode == "fft":
        for angle in dict.fromkeys(angles[i] for i in turning):
            chosen = [i for i in turning if angles[i] == angle]
            turned = shear.rotate(images[chosen].flatten(0, 1), angle, frame)
            outside = ~scored_region(frame, (height, width), angle, -0.5).to(images.device)
            # The fill goes in after the turn, outside the slice only (see the module docstring).
            turned = turned.masked_fill(outside, fill) - fill
            output[chosen] = turned.unflatten(0, (len(chosen), -1)).to(images.dtype)
    elif turning:
        grid = torch.stack([_grid(frame, (height, width), angles[i]) for i in turning])
        grid = grid.to(images.device, images.dtype)
        output[turning] = F.grid_sample(
            shifted[turning], grid, mode=GRID_MODES[mode], padding_mode="zeros", align_corners=False
        )
    return output + fill


@lru_cache(maxsize=256)
def _grid(frame: tuple[int, int], shape: tuple[int, int], angle: float) -> Tensor:
    """``(Hf, Wf, 2)`` sampling grid of ``grid_sample`` (normalised, ``align_corners=False``)."""
    rows, cols = source_coordinates(frame, shape, angle)
    return torch.stack([(2 * cols + 1) / shape[1] - 1, (2 * rows + 1) / shape[0] - 1], -1).float()


def margin(reach: int, interpolation: str = DEFAULT_INTERPOLATION) -> float:
    """Slice pixels left out on every side when any angle turns (see the module docstring)."""
    return INTERPOLATIONS[interpolation] + math.sqrt(2) * (reach + (SSIM_WINDOW - 1) // 2)


def scored_region(
    frame: tuple[int, int], shape: tuple[int, int], angle: float, margin: float
) -> Tensor:
    """``(Hf, Wf)`` bool: frame pixels that come from the slice shrunk by ``margin`` per side."""
    rows, cols = source_coordinates(frame, shape, angle)
    eps = 1e-6
    return (
        (rows >= margin - eps)
        & (rows <= shape[0] - 1 - margin + eps)
        & (cols >= margin - eps)
        & (cols <= shape[1] - 1 - margin + eps)
    )
