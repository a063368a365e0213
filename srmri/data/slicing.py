"""Which slices of which volumes are used: foreground fractions and foreground bounding boxes.

Foreground is the brain mask when the volume has one, else the voxels whose normalised intensity
exceeds ``foreground_level``. Training and validation drop slices whose foreground fraction is below
``min_foreground``; the test split keeps every slice so that evaluation reports empty ones too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from torch import Tensor

from srmri.data.volume import Volume, view_axis


def foreground(volume: Volume, level: float) -> Tensor:
    """``(X, Y, Z)`` bool: the mask if the volume has one, else ``image > level``."""
    return volume.mask if volume.mask is not None else volume.image > level


@dataclass(frozen=True)
class SliceTable:
    """Parallel arrays, one entry per kept slice.

    ``volume`` indexes the volume list, ``view`` the view list, ``index`` the slice along the view;
    ``height`` / ``width`` are the slice's shape and ``box`` its foreground bounding box
    ``(row0, row1, col0, col1)``, inclusive (the whole slice when it has no foreground).
    """

    volume: np.ndarray
    view: np.ndarray
    index: np.ndarray
    height: np.ndarray
    width: np.ndarray
    box: np.ndarray

    def __len__(self) -> int:
        return len(self.index)


def slice_table(
    volumes: Sequence[Volume], views: Sequence[str], min_foreground: float, level: float
) -> SliceTable:
    """Every slice of every volume and view whose foreground fraction is >= ``min_foreground``.

    Order: by volume, then view, then slice index.
    """
    columns: dict[str, list[np.ndarray]] = {name: [] for name in SliceTable.__dataclass_fields__}
    for v, volume in enumerate(volumes):
        fg = foreground(volume, level).numpy()
        for w, view in enumerate(views):
            stack = np.moveaxis(fg, view_axis(view), 0)  # (N, H, W), rows and columns as slice_of
            _, height, width = stack.shape
            keep = np.flatnonzero(stack.mean(axis=(1, 2)) >= min_foreground)
            rows, cols = stack.any(axis=2)[keep], stack.any(axis=1)[keep]
            box = np.stack(
                [_first(rows, 0), _last(rows, height - 1), _first(cols, 0), _last(cols, width - 1)],
                axis=1,
            )
            columns["volume"].append(np.full(len(keep), v))
            columns["view"].append(np.full(len(keep), w))
            columns["index"].append(keep)
            columns["height"].append(np.full(len(keep), height))
            columns["width"].append(np.full(len(keep), width))
            columns["box"].append(box.reshape(-1, 4))
    return SliceTable(
        **{
            name: np.concatenate(parts) if parts else np.zeros((0, 4) if name == "box" else 0, int)
            for name, parts in columns.items()
        }
    )


def _first(present: np.ndarray, empty: int) -> np.ndarray:
    """Index of the first True per row of ``(N, L)``, ``empty`` where a row has none."""
    return np.where(present.any(axis=1), present.argmax(axis=1), empty)


def _last(present: np.ndarray, empty: int) -> np.ndarray:
    last = present.shape[1] - 1 - present[:, ::-1].argmax(axis=1)
    return np.where(present.any(axis=1), last, empty)
