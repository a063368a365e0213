"""In-plane k-space truncation: what a lower-resolution acquisition of the same field of view does.

A scanner acquiring an ``H/s x W/s`` matrix over the same field of view samples only the central
``H/s x W/s`` block of the HR image's k-space. :class:`KSpace` does exactly that to each HR slice:

1. ``X = FFT2(hr) / (H W)`` (``norm="forward"``): bin ``(0, 0)`` is the image mean.
2. Keep the central block of ``m = n / s`` frequencies per axis (``n`` = H or W): the integer
   frequencies ``k = -floor(m/2) .. ceil(m/2) - 1``, i.e. the block around DC that ``fftshift``
   centres at index ``m // 2``. Odd ``m`` keeps a symmetric block ``|k| <= (m-1)/2``; even ``m``
   keeps the one Nyquist bin ``k = -m/2`` without its ``+m/2`` partner, as a scanner's even matrix
   does (the LR is then complex in general, hence step 6).
3. Optionally multiply by a window, separable, a function of ``k / m`` with weight 1 at DC:
   ``hamming``: ``0.54 + 0.46 cos(2 pi k / m)``; ``tukey``: 1 for ``|k| <= (1 - a) m / 2``, then
   ``0.5 (1 + cos(pi (|k| - (1 - a) m / 2) / (a m / 2)))`` (``a`` = ``tukey_alpha``).
4. Optionally add complex Gaussian noise to every kept bin (independent real and imaginary parts).
   ``noise_std`` is the standard deviation this gives each of the real and imaginary channels of
   the LR image before the window (bin std ``noise_std / sqrt(h w)``), so with ``window=none`` the
   LR magnitude is Rician with ``sigma = noise_std``; a window also filters the noise (its std falls
   to ``noise_std * rms(window)`` and neighbouring pixels correlate), as in a scanner.
5. Inverse FFT at the LR size without normalisation (``norm="forward"``), after a phase ramp
   ``exp(2 pi i k (s - 1) / (2 n))`` that shifts the samples by ``(s - 1) / 2`` HR pixels: LR pixel
   ``j`` is then the band-limited HR signal at HR coordinate ``(j + 0.5) s - 0.5``, the block centre
   every srmri degradation and baseline uses (see :mod:`srmri.degradation.base`).
6. Magnitude, as a magnitude MR image.

Intensity: every kept frequency keeps its amplitude (forward FFT divided by ``H W``, inverse not
divided), so a uniform image keeps its value and the LR mean equals the HR mean (before the
magnitude). The LR is not clamped: Gibbs overshoot and noise are part of what is modelled.

:func:`zero_fill` is the matching baseline: the LR's k-space placed at the centre of an HR-sized
zero k-space (the even-size Nyquist bin split between ``+-m/2`` so the result is real) and inverted,
i.e. periodic sinc interpolation. An image band-limited to ``|k| < m/2`` survives
LR -> :func:`zero_fill` exactly.

With ``spatial_dims=3`` every step acts on the three axes of ``(B, C, D, H, W)`` volumes: the
central ``D/s x H/s x W/s`` block of the 3-D k-space (a 3-D acquisition at lower resolution), the
window and phase ramp a product over the three axes, the noise per kept bin with std
``noise_std / sqrt(d h w)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from srmri.degradation.base import BaseDegradation, check_batch, check_scale, check_spatial_dims
from srmri.degradation.noise import standard_normal

WINDOWS = ("none", "hamming", "tukey")


@dataclass(frozen=True)
class KSpace(BaseDegradation):
    """Central k-space block of an HR batch, optionally windowed and noisy (see the module doc).

    Args:
        scale: integer factor along both axes (the LR keeps ``H/s x W/s`` frequencies), >= 1.
        window: ``none`` (default), ``hamming`` or ``tukey``.
        tukey_alpha: tapered fraction of the Tukey window, in (0, 1].
        noise_std: standard deviation of the complex noise per image channel (0: none).
        spatial_dims: 2 (slices, default) or 3 (volumes: the 3-D k-space is truncated).

    ``hr`` ``(B, C, H, W)`` with H, W multiples of ``scale`` -> ``lr`` ``(B, C, H/s, W/s)``; in 3-D
    ``(B, C, D, H, W)`` -> ``(B, C, D/s, H/s, W/s)``.
    """

    scale: int = 2
    window: str = "none"
    tukey_alpha: float = 0.5
    noise_std: float = 0.0
    spatial_dims: int = 2

    def __post_init__(self) -> None:
        if isinstance(self.scale, bool) or not isinstance(self.scale, int) or self.scale < 1:
            raise ValueError(f"kspace scale must be an integer >= 1, got {self.scale!r}")
        if self.window not in WINDOWS:
            raise ValueError(f"kspace window must be one of {WINDOWS}, got {self.window!r}")
        if not 0 < self.tukey_alpha <= 1:
            raise ValueError(f"kspace tukey_alpha must be in (0, 1], got {self.tukey_alpha!r}")
        if not self.noise_std >= 0:
            raise ValueError(f"kspace noise_std must be >= 0, got {self.noise_std!r}")
        check_spatial_dims(self.spatial_dims, "kspace")

    @property
    def factors(self) -> tuple[float, ...]:
        return (float(self.scale),) * self.spatial_dims

    @property
    def baselines(self) -> tuple[str, ...]:
        return ("zero_fill",)

    @property
    def global_support(self) -> bool:
        return True

    def __call__(self, hr: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """The LR magnitude image ``(B, C, H/s, W/s)`` of ``hr`` ``(B, C, H, W)`` (in 3-D
        ``(B, C, D/s, H/s, W/s)`` of ``(B, C, D, H, W)``)."""
        check_batch(hr, "kspace", self.spatial_dims)
        sizes = hr.shape[2:]
        kept = check_scale(hr, self.scale)
        dims = tuple(range(-self.spatial_dims, 0))
        # A scanner measures a non-negative object; the normalised volume is unclipped (see
        # srmri.data.normalisation), so its background may sit below 0, and the magnitude below
        # would fold it back up as a bright background. Below-window intensities count as none.
        block = central_spectrum(hr.clamp(min=0.0), kept)
        if self.noise_std > 0:
            std = self.noise_std / math.sqrt(math.prod(kept))
            # One draw for both channels: (..., 2) read as (real, imaginary) pairs.
            pairs = standard_normal((*block.shape, 2), hr, generator)
            block = block + torch.view_as_complex(pairs) * std
        weights = torch.ones((), dtype=torch.complex128, device=hr.device)
        for n, m in zip(sizes, kept, strict=True):
            axis = self._window(m, torch.float64, hr.device) * shift_ramp(n, m, hr.device)
            weights = weights[..., None] * axis  # the separable product, one multiply per batch
        lr = torch.fft.ifftn(block * weights.to(block.dtype), dim=dims, norm="forward")
        # |z| from its parts: the same values as abs() (both float32-exact here), faster on a CPU.
        return (lr.real.square() + lr.imag.square()).sqrt().to(hr.dtype)

    def _window(self, m: int, dtype: torch.dtype, device: torch.device) -> Tensor:
        """``(m,)`` window weights in FFT order (bin ``q`` holds frequency :func:`frequencies`)."""
        k = frequencies(m).to(torch.float64)
        if self.window == "hamming":
            weights = 0.54 + 0.46 * torch.cos(2 * math.pi * k / m)
        elif self.window == "tukey":
            flat = (1 - self.tukey_alpha) * m / 2
            taper = self.tukey_alpha * m / 2
            ramp = ((k.abs() - flat) / taper).clamp(0, 1)
            weights = 0.5 * (1 + torch.cos(math.pi * ramp))
        else:
            weights = torch.ones_like(k)
        return weights.to(device=device, dtype=dtype)


def frequencies(m: int) -> Tensor:
    """Integer frequencies of an ``m``-point FFT in FFT order: ``0 .. ceil(m/2)-1, -floor(m/2) .. -1``."""
    q = torch.arange(m)
    return torch.where(q < (m + 1) // 2, q, q - m)


def kept_bins(n: int, m: int, device: torch.device | None = None) -> Tensor:
    """Indices into an ``n``-point FFT of the ``m`` central frequencies, in ``m``-point FFT order."""
    return torch.remainder(frequencies(m), n).to(device)


def central_spectrum(image: Tensor, kept: tuple[int, ...] | list[int]) -> Tensor:
    """The central block of ``kept`` frequencies per axis of the spectrum (``norm="forward"``) of a
    real ``image`` over its last ``len(kept)`` axes, in FFT order along each axis.

    The same bins as ``fftn`` followed by :func:`kept_bins` along every axis, from the real FFT (a
    third of the work): a real image's spectrum is conjugate symmetric, ``X[-k] = conj(X[k])``, so
    the negative frequencies of the last axis are the conjugates of positive ones at the negated
    frequencies of the other axes.
    """
    dims = tuple(range(-len(kept), 0))
    sizes = image.shape[-len(kept) :]
    half = torch.fft.rfftn(image, dim=dims, norm="forward")
    positive, negative = half, half
    for dim, n, m in zip(dims[:-1], sizes[:-1], kept[:-1], strict=True):
        k = frequencies(m)
        positive = positive.index_select(dim, torch.remainder(k, n).to(image.device))
        negative = negative.index_select(dim, torch.remainder(-k, n).to(image.device))
    k = frequencies(kept[-1]).to(image.device)
    positive = positive.index_select(-1, k[k >= 0])
    negative = negative.index_select(-1, -k[k < 0]).conj()
    return torch.cat([positive, negative], dim=-1)


def shift_ramp(n: int, m: int, device: torch.device | None = None) -> Tensor:
    """``(m,)`` complex phase ramp moving the ``m`` samples of an ``n``-pixel axis by
    ``(s - 1) / 2`` HR pixels (``s = n / m``), onto the block centres."""
    shift = (n / m - 1) / 2
    phase = 2 * math.pi * frequencies(m).to(torch.float64) * shift / n
    return torch.polar(torch.ones_like(phase), phase).to(device)


def zero_fill_matrix(m: int, scale: int) -> Tensor:
    """``(m s, m)`` float64 matrix of 1-D zero-filled (periodic sinc) interpolation by ``scale``.

    Each LR unit sample's spectrum goes to the central bins of an ``m s``-point spectrum, moved back
    by the :func:`shift_ramp` of :class:`KSpace`; an even ``m``'s Nyquist bin is split in halves
    between ``-m/2`` and ``+m/2``, which makes the interpolant real.
    """
    n = m * scale
    spectrum = torch.fft.fft(torch.eye(m, dtype=torch.float64), dim=0, norm="forward")
    k = frequencies(m).to(torch.float64)
    weight = torch.ones(m, dtype=torch.float64)
    targets, ks, sources = [torch.remainder(frequencies(m), n)], [k], [torch.arange(m)]
    if m % 2 == 0:
        nyquist = m // 2  # the FFT-order bin of k = -m/2
        weight[nyquist] = 0.5
        targets.append(torch.tensor([m // 2 % n]))
        ks.append(torch.tensor([m / 2], dtype=torch.float64))
        sources.append(torch.tensor([nyquist]))
    full = torch.zeros(n, m, dtype=torch.complex128)
    shift = (scale - 1) / 2
    for target, frequency, source in zip(targets, ks, sources, strict=True):
        phase = torch.polar(weight[source], -2 * math.pi * frequency * shift / n)
        full.index_add_(0, target, spectrum[source] * phase[:, None])
    return torch.fft.ifft(full, dim=0, norm="forward").real


def zero_fill(lr: Tensor, scale: int) -> Tensor:
    """Zero-filled k-space interpolation of ``lr`` ``(B, C, h, w)`` to ``(B, C, h s, w s)`` (of a
    volume ``(B, C, d, h, w)`` to ``(B, C, d s, h s, w s)``, along all three axes).

    The inverse of :class:`KSpace`'s sampling for band-limited images (see the module doc); LR
    sample ``j`` sits at HR coordinate ``(j + 0.5) s - 0.5`` like every srmri baseline, and the
    result is real (not a magnitude).
    """
    if lr.ndim not in (4, 5):
        raise ValueError(
            f"zero_fill expects an LR batch (B, C, h, w) or (B, C, d, h, w), got shape "
            f"{tuple(lr.shape)}"
        )
    h, w = lr.shape[-2:]
    rows = zero_fill_matrix(h, scale).to(device=lr.device, dtype=lr.dtype)
    cols = zero_fill_matrix(w, scale).to(device=lr.device, dtype=lr.dtype)
    out = rows @ lr @ cols.T
    if lr.ndim == 5:
        planes = zero_fill_matrix(lr.shape[2], scale).to(device=lr.device, dtype=lr.dtype)
        out = torch.tensordot(planes, out, dims=([1], [2])).movedim(0, 2)
    return out
