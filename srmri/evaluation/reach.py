"""How far the fill of a rotated slice can travel: the reach of degradation + method.

For a pipeline ``hr -> sr`` (the degradation, then one method), the reach is the smallest Chebyshev
radius ``r`` in HR pixels such that, for an SR pixel ``p``, the summed sensitivity
``sum |d sr_p / d hr_q|`` over every HR pixel ``q`` farther than ``r`` from ``p`` is at most
``tolerance``. Replacing all those HR pixels by anything in [0, 1] then moves ``sr_p`` by at most
``tolerance`` (to first order). With ``tolerance = 0`` the reach is the exact support: the kernel
radii for interpolation, the receptive field for a network.

It is measured, not derived, so it covers every degradation preset and any network: the
sensitivities are the gradient of one SR pixel at two smooth random probe images, on a probe that
grows until the reach fits well inside it. The other ``scale**2 - 1`` output phases lie up to
``scale - 1`` pixels away, which is added.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

PROBES = 2
FIRST_SIZE = 32


def probe_images(size: int, generator: torch.Generator) -> Tensor:
    """``(PROBES, 1, size, size)`` smooth textures in [0.2, 0.8] (no clamping anywhere downstream)."""
    coarse = torch.rand(PROBES, 1, max(size // 4, 2), max(size // 4, 2), generator=generator)
    smooth = F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)
    return 0.2 + 0.6 * smooth


def reach(
    pipeline: Callable[[Tensor], Tensor],
    scale: int,
    tolerance: float,
    largest: int,
    seed: int = 0,
) -> int:
    """The reach in HR pixels of ``pipeline`` (``(B, 1, S, S)`` HR -> SR of the same size).

    Args:
        pipeline: degradation followed by one method; must be differentiable.
        scale: the super-resolution factor (the probe is a multiple of it).
        tolerance: allowed summed sensitivity beyond the reach (see the module docstring).
        largest: the probe never grows past this side; a reach that does not fit is reported
            as this size (nothing of such a slice would be clean).
        seed: seed of the probe images.
    """
    generator = torch.Generator().manual_seed(seed)
    size = FIRST_SIZE * scale
    while True:
        hr = probe_images(size, generator).requires_grad_()
        centre = (size // (2 * scale)) * scale
        with torch.enable_grad():
            sr = pipeline(hr)
            (gradient,) = torch.autograd.grad(sr[:, 0, centre, centre].sum(), hr)
        radius = _radius(gradient.abs()[:, 0], centre, tolerance) + scale - 1
        room = min(centre, size - 1 - centre) - scale
        if radius < room:
            return radius
        if size >= largest:
            return max(radius, largest)
        size *= 2


def _radius(sensitivity: Tensor, centre: int, tolerance: float) -> int:
    """Smallest r whose outside sum is <= tolerance, the worst over probes ``(P, S, S)``."""
    size = sensitivity.shape[-1]
    index = torch.arange(size)
    ring = torch.maximum((index[:, None] - centre).abs(), (index[None, :] - centre).abs()).flatten()
    worst = 0
    for probe in sensitivity.double():
        per_ring = torch.bincount(ring, weights=probe.flatten(), minlength=size)
        # beyond[r] = sum over rings farther than r.
        beyond = per_ring.flip(0).cumsum(0).flip(0) - per_ring
        worst = max(worst, int(torch.nonzero(beyond <= tolerance)[0]))
    return worst
