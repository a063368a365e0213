"""The per-slice score table: one row per (subject, contrast, view, slice, angle, method, region)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

COLUMNS = ("subject", "contrast", "view", "slice", "angle", "method", "region", "psnr", "ssim")
REGIONS = ("image", "brain")


@dataclass
class Scores:
    """Columns of equal length (``metrics.csv``), appended batch by batch."""

    columns: dict[str, list] = field(default_factory=lambda: {name: [] for name in COLUMNS})

    def add(
        self,
        place: tuple[str, str, str],
        pairs: Sequence[tuple[int, float]],
        method: str,
        region: str,
        psnr: Sequence[float],
        ssim: Sequence[float],
    ) -> None:
        """Rows of one method and region for (slice, angle) ``pairs`` of one
        ``(subject, contrast, view)`` ``place``."""
        n = len(pairs)
        for name, value in zip(("subject", "contrast", "view"), place, strict=True):
            self.columns[name] += [value] * n
        self.columns["slice"] += [int(k) for k, _ in pairs]
        self.columns["angle"] += [float(a) for _, a in pairs]
        self.columns["method"] += [method] * n
        self.columns["region"] += [region] * n
        self.columns["psnr"] += [float(v) for v in psnr]
        self.columns["ssim"] += [float(v) for v in ssim]

    def arrays(self) -> dict[str, np.ndarray]:
        """Every column as a NumPy array: text as ``object``, ``slice`` int, the rest float."""
        types = {"slice": np.int64, "angle": float, "psnr": float, "ssim": float}
        return {
            name: np.asarray(values, dtype=types.get(name, object))
            for name, values in self.columns.items()
        }

    def rows(self) -> Iterator[tuple]:
        return zip(*(self.columns[name] for name in COLUMNS), strict=True)
