"""Tiled super resolution of slices too large to run whole: overlapping tiles, cores kept.

The LR slice is cut into a grid of near-equal cores of at most ``tile x tile`` pixels. Each core
is super-resolved together with ``overlap`` LR pixels of context on every side that has them
(none beyond the slice's border, exactly as in an untiled run), and only the core's part of the
output is kept. The cores partition the slice, so no blending weights are needed: when ``overlap``
covers the network's receptive-field radius the result equals the untiled one, and with less
every output pixel is still computed with at least ``overlap`` LR pixels of true context on each
side, which keeps the difference at the core boundaries, where a seam would show, small
(``tests/unit/inference/test_tiling.py`` measures it). Peak memory follows ``(tile + 2 overlap)^2``,
not the slice size.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

Predictor = Callable[[Tensor], Tensor]


def tile_bounds(size: int, tile: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of ``ceil(size / tile)`` near-equal cores covering ``0..size``."""
    count = -(-size // tile)
    return [(i * size // count, (i + 1) * size // count) for i in range(count)]


def predict_tiled(
    predict: Predictor, lr: Tensor, scale: int, tile: int | None, overlap: int
) -> Tensor:
    """Apply ``predict`` (``(B, C, h, w)`` -> ``(B, C, h*s, w*s)``) tile by tile.

    Args:
        predict: the super-resolving function, applied to each tile with its context.
        lr: ``(B, C, h, w)`` LR slices.
        scale: the predictor's upscaling factor ``s``.
        tile: largest core side in LR pixels; None runs the whole slice at once.
        overlap: LR pixels of context added on each side of a core.

    Returns:
        ``(B, C, h * s, w * s)``.
    """
    if tile is None:
        return predict(lr)
    if tile < 1 or overlap < 0:
        raise ValueError(f"tiling needs tile >= 1 and overlap >= 0, got {tile}, {overlap}")
    height, width = lr.shape[-2:]
    sr: Tensor | None = None
    for top, bottom in tile_bounds(height, tile):
        for left, right in tile_bounds(width, tile):
            y0, y1 = max(0, top - overlap), min(height, bottom + overlap)
            x0, x1 = max(0, left - overlap), min(width, right + overlap)
            part = predict(lr[..., y0:y1, x0:x1])
            if sr is None:
                sr = part.new_empty((*part.shape[:-2], height * scale, width * scale))
            sr[..., top * scale : bottom * scale, left * scale : right * scale] = part[
                ...,
                (top - y0) * scale : (bottom - y0) * scale,
                (left - x0) * scale : (right - x0) * scale,
            ]
    return sr
