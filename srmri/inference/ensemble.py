"""Self-ensemble (x8): super-resolve the 8 dihedral transforms of a slice, undo each, average.

The 8 transforms are the 4 rotations by multiples of 90 degrees, each with and without a
left-right flip; they map the pixel grid onto itself, so every undone output lies on the same grid.
"""

from __future__ import annotations

from torch import Tensor

from srmri.inference.tiling import Predictor

DIHEDRAL = tuple((turns, flip) for flip in (False, True) for turns in range(4))
"""The 8 transforms as ``(quarter turns, flip)``: rotate by ``turns * 90`` degrees, then flip."""


def dihedral(image: Tensor, turns: int, flip: bool) -> Tensor:
    """Rotate ``(..., H, W)`` by ``turns`` quarter turns in its last two axes, then flip ``W``."""
    image = image.rot90(turns, dims=(-2, -1))
    return image.flip(-1) if flip else image


def undo_dihedral(image: Tensor, turns: int, flip: bool) -> Tensor:
    """The inverse of :func:`dihedral`."""
    if flip:
        image = image.flip(-1)
    return image.rot90(-turns, dims=(-2, -1))


def predict_self_ensemble(predict: Predictor, lr: Tensor) -> Tensor:
    """Mean over the 8 dihedral transforms ``t`` of ``t^-1(predict(t(lr)))``, in float32.

    The transforms run one after another, so memory stays that of a single prediction.
    """
    total = None
    for turns, flip in DIHEDRAL:
        sr = undo_dihedral(predict(dihedral(lr, turns, flip)), turns, flip).float()
        total = sr if total is None else total + sr
    return total / len(DIHEDRAL)
