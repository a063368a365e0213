"""Cubic B-spline interpolation along one axis: the baseline of the ``slice_profile`` degradation.

The LR samples along ``axis`` are the values of a cubic B-spline ``s(u) = sum_k c_k B3(u - k)`` at
the integers ``u = 0 .. n-1`` (interpolating, not smoothing); the coefficients ``c`` solve
``(c_{k-1} + 4 c_k + c_{k+1}) / 6 = lr_k`` with mirror boundaries (``c_{-1} = c_1``,
``c_n = c_{n-2}``: the samples extended symmetrically about the first and last one). The spline is
then evaluated at any real LR coordinate ``u`` (mirrored back into ``[0, n-1]`` outside it); this is
``scipy.ndimage.map_coordinates(order=3, mode="mirror")``, as one ``(m, n)`` matrix applied to the
whole batch on its device.

:func:`bspline_to_hr` places the spline on the HR grid: it takes the HR coordinates of the LR
sample centres (a degradation's :meth:`~srmri.degradation.BaseDegradation.lr_positions`) and the HR
coordinates to evaluate at, so it follows whatever grid the degradation declares.
"""

from __future__ import annotations

import torch
from torch import Tensor


def cubic_bspline(x: Tensor) -> Tensor:
    """The centred cubic B-spline ``B3(x)``, zero for ``|x| >= 2``."""
    a = x.abs()
    inner = 2.0 / 3.0 - a**2 + a**3 / 2.0
    outer = (2.0 - a).clamp(min=0.0) ** 3 / 6.0
    return torch.where(a < 1.0, inner, outer)


def _mirror(index: Tensor, n: int) -> Tensor:
    """Whole-sample mirror of integer indices into ``[0, n-1]`` (period ``2 (n - 1)``)."""
    if n == 1:
        return torch.zeros_like(index)
    period = 2 * (n - 1)
    folded = torch.remainder(index, period)
    return torch.where(folded > n - 1, period - folded, folded)


def bspline_matrix(n_in: int, coordinates: Tensor) -> Tensor:
    """``(m, n_in)`` float64 matrix taking ``n_in`` samples to the spline at ``coordinates``
    ``(m,)`` (LR index units: sample ``k`` at ``k``)."""
    u = coordinates.to(torch.float64)
    first = torch.floor(u)[:, None] - 1.0
    taps = first + torch.arange(4, dtype=torch.float64)
    evaluate = torch.zeros(u.shape[0], n_in, dtype=torch.float64)
    evaluate.scatter_add_(1, _mirror(taps.long(), n_in), cubic_bspline(u[:, None] - taps))
    # Prefilter: samples = system @ coefficients, with the mirror boundary folded in.
    system = torch.zeros(n_in, n_in, dtype=torch.float64)
    rows = torch.arange(n_in)
    for offset, weight in ((-1, 1.0 / 6.0), (0, 4.0 / 6.0), (1, 1.0 / 6.0)):
        system.index_put_(
            (rows, _mirror(rows + offset, n_in)),
            torch.full((n_in,), weight, dtype=torch.float64),
            True,
        )
    # evaluate @ system^-1, without forming the inverse.
    return torch.linalg.solve(system.T, evaluate.T).T


def bspline_resample(lr: Tensor, coordinates: Tensor, axis: int = -2) -> Tensor:
    """The cubic B-spline of ``lr`` ``(B, C, h, w)`` along ``axis`` evaluated at ``coordinates``
    ``(m,)`` (LR index units): ``(B, C, m, w)`` for ``axis=-2``, ``(B, C, h, m)`` for ``-1``. A
    volume ``(B, C, d, h, w)`` is resampled the same way along ``axis`` -3, -2 or -1."""
    if lr.ndim not in (4, 5):
        raise ValueError(
            f"bspline_resample expects (B, C, h, w) or (B, C, d, h, w), got shape {tuple(lr.shape)}"
        )
    dim = axis if axis < 0 else axis - lr.ndim
    if not -(lr.ndim - 2) <= dim <= -1:
        raise ValueError(f"axis must be a spatial axis (-2 = H, -1 = W, -3 = D), got {axis!r}")
    matrix = bspline_matrix(lr.shape[dim], coordinates).to(device=lr.device, dtype=lr.dtype)
    if dim == -1:
        return lr @ matrix.T
    return (matrix @ lr.movedim(dim, -2)).movedim(-2, dim)


def bspline_to_hr(lr: Tensor, lr_positions: Tensor, hr_positions: Tensor, axis: int = -2) -> Tensor:
    """Cubic B-spline of ``lr`` along ``axis``, from LR samples at HR coordinates
    ``lr_positions`` ``(n,)`` (evenly spaced, increasing) to the HR coordinates ``hr_positions``
    ``(m,)``: ``(B, C, m, w)`` for ``axis=-2``.

    Raises:
        ValueError: if ``lr_positions`` does not match the LR size along ``axis`` or is not an
            evenly spaced increasing grid.
    """
    positions = lr_positions.to(torch.float64)
    n = lr.shape[axis]
    if positions.shape != (n,):
        raise ValueError(f"lr_positions has shape {tuple(positions.shape)}; the LR axis has {n}")
    # One sample: the spline is a constant, so any step gives the same values.
    step = float(positions[1] - positions[0]) if n > 1 else 1.0
    if step <= 0 or not torch.allclose(
        positions, positions[0] + step * torch.arange(n, dtype=torch.float64)
    ):
        raise ValueError("lr_positions must be an evenly spaced increasing grid")
    coordinates = (hr_positions.to(torch.float64) - positions[0]) / step
    return bspline_resample(lr, coordinates, axis)
