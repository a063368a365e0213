"""Apply a one-axis network (or the cubic B-spline) along the slice axis of a volume.

Every plane that contains the slice axis is super-resolved, in both families of such planes (for
slice axis ``a`` and in-plane axes ``p < q``: the planes at fixed ``p`` and those at fixed ``q``),
and the two estimates of each thin voxel are averaged. Planes go to the network with the slice axis
as rows (the degraded axis of training) and the in-plane axis as columns. With test-time flips each
batch of planes is also given to the network flipped along its rows, its columns and both, each
output flipped back, and the four averaged: the network was trained on randomly flipped patches,
its sub-pixel layer is not flip-equivariant, and the mean of the four cancels part of its error.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor, nn

from srmri.models.one_axis import bspline_rows

Advance = Callable[[int], None]

# Test-time flips: the plane dimensions flipped, (rows = slice axis, columns = in-plane axis).
FLIPS: tuple[tuple[int, ...], ...] = ((), (-2,), (-1,), (-2, -1))


def predict_flipped(network: nn.Module, planes: Tensor, flips: bool) -> Tensor:
    """``network(planes)`` for ``(B, 1, n, W)`` planes; with ``flips`` the mean over :data:`FLIPS`
    of the network applied to the flipped planes, its output flipped back: ``(B, 1, m, W)``."""
    if not flips:
        return network(planes)
    total = network(planes)
    for dims in FLIPS[1:]:
        total = total + network(planes.flip(dims)).flip(dims)
    return total / len(FLIPS)


def _planes(volume: Tensor, axis: int, held: int) -> Tensor:
    """``(N_held, 1, n, W)`` planes of ``(X, Y, Z)`` at fixed ``held``: rows along ``axis``."""
    other = next(a for a in range(3) if a not in (axis, held))
    return volume.permute(held, axis, other).unsqueeze(1)


def _unplanes(planes: Tensor, axis: int, held: int) -> Tensor:
    """The inverse of :func:`_planes` on ``(N_held, 1, m, W)``: back to voxel axis order."""
    other = next(a for a in range(3) if a not in (axis, held))
    order = (held, axis, other)
    return planes.squeeze(1).permute(*np.argsort(order).tolist())


@torch.no_grad()
def super_resolve(
    volume: Tensor,
    axis: int,
    network: nn.Module,
    batch_size: int = 8,
    advance: Advance | None = None,
    flips: bool = False,
    amp_dtype: torch.dtype | None = None,
) -> Tensor:
    """``(X, Y, Z)`` normalised volume -> the network's thin-slice volume, both plane families
    averaged; the slice ``axis`` grows from ``n`` to ``round(n * factor)`` voxels. With ``flips``
    each plane's estimate is the mean over the test-time flips (:func:`predict_flipped`).

    ``advance(k)`` is called after every batch of ``k`` planes (a progress bar). With
    ``amp_dtype`` the network runs under that autocast type (its output is float32).
    """
    network.eval()
    total: Tensor | None = None
    for held in (a for a in range(3) if a != axis):
        planes = _planes(volume, axis, held)
        parts = []
        for start in range(0, planes.shape[0], batch_size):
            batch = planes[start : start + batch_size].contiguous()
            with torch.autocast(batch.device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                parts.append(predict_flipped(network, batch, flips).float())
            if advance is not None:
                advance(batch.shape[0])
        estimate = _unplanes(torch.cat(parts), axis, held)
        total = estimate if total is None else total + estimate
    return total / 2


@torch.no_grad()
def interpolate(volume: Tensor, axis: int, rows: int) -> Tensor:
    """Cubic B-spline interpolation of ``(X, Y, Z)`` along ``axis`` to ``rows`` voxels that tile
    the same field of view (:func:`srmri.models.one_axis.bspline_rows`)."""
    held = next(a for a in range(3) if a != axis)
    planes = _planes(volume, axis, held)
    return _unplanes(bspline_rows(planes, rows), axis, held)
