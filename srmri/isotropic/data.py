"""Training pairs from a thick-slice scan's own in-plane slices.

The in-plane axes of a thick-slice scan are high resolution. An HR patch of an in-plane slice,
degraded along its rows by the scan's own slice profile (thickness and spacing converted to in-plane
pixels; the degradation runs batched inside :class:`srmri.lightning.module.SRModule`), is an LR/HR
pair of the kind the network must undo along the slice axis. Both in-plane axes serve as the
degraded axis (a random transpose), with random flips, and patch centres are drawn among pixels
with structure (a strong in-plane gradient inside the foreground), not in the background.

Samples are a pure function of ``(seed, key)`` (:mod:`srmri.data.sampling`), as in training.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytorch_lightning as pl
import torch
from scipy import ndimage
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from srmri.data.datasets import batch_as_is
from srmri.data.sampling import EpochSampler, sample_uniforms

# Patch centres: foreground pixels whose gradient magnitude is in the top share of the foreground's.
FOREGROUND = 0.05
STRUCTURE_QUANTILE = 0.5


def patch_rows(factor: float, target: int = 64, lowest: int = 8) -> tuple[int, int]:
    """``(lr_rows, hr_rows)`` of a training patch for upscaling factor ``factor``.

    ``hr_rows = round(lr_rows * factor)`` must hold exactly ``lr_rows`` slabs
    (``floor(hr_rows / factor) == lr_rows``), so that the network's output, ``round(lr_rows *
    factor)`` rows, lines up with the HR patch. Among LR heights giving about ``target`` HR rows
    the one whose ``lr_rows * factor`` is closest to an integer wins (exact for integer factors):
    the output grid then matches the HR pixels to within a few hundredths of a pixel.
    """
    best: tuple[float, int, int] | None = None
    centre = max(lowest, round(target / factor))
    for lr_rows in range(lowest, 2 * centre + 1):
        hr_rows = round(lr_rows * factor)
        if int(np.floor(hr_rows / factor + 1e-9)) != lr_rows:
            continue
        error = abs(hr_rows - lr_rows * factor) + 0.01 * abs(lr_rows - centre)
        if best is None or error < best[0]:
            best = (error, lr_rows, hr_rows)
    if best is None:
        raise ValueError(f"no training patch height fits factor {factor}")
    return best[1], best[2]


def structure_points(slices: np.ndarray, foreground: float = FOREGROUND) -> np.ndarray:
    """``(N, 3)`` int64 ``(slice, row, col)`` of the pixels with structure in ``(S, H, W)`` [0, 1].

    Structure: inside the foreground (> ``foreground``) and a gradient magnitude (Sobel, in-plane)
    above the median of the foreground's. Falls back to the whole foreground, then everything.
    """
    gradient = np.hypot(ndimage.sobel(slices, axis=1), ndimage.sobel(slices, axis=2))
    inside = slices > foreground
    if not inside.any():
        inside = np.ones_like(inside)
    threshold = np.quantile(gradient[inside], STRUCTURE_QUANTILE)
    chosen = inside & (gradient > threshold)
    return np.argwhere(chosen if chosen.any() else inside).astype(np.int64)


class BatchedPatches(Dataset):
    """A dataset of ``samples_per_epoch`` patches drawn a batch at a time: subclasses implement
    ``__getitems__(keys) -> {"hr": (B, 1, H, W)}``; one item is a batch of one."""

    samples_per_epoch: int

    def __len__(self) -> int:
        return self.samples_per_epoch

    def __getitem__(self, key: int) -> dict[str, Tensor]:
        return {name: value[0] for name, value in self.__getitems__([key]).items()}

    def __getitems__(self, keys: Sequence[int]) -> dict[str, Tensor]:
        raise NotImplementedError


class InPlanePatches(BatchedPatches):
    """HR patches ``(1, hr_rows, width)`` of in-plane slices; rows are the axis to degrade.

    Args:
        slices: ``(S, H, W)`` float32 in [0, 1], the in-plane slices (both axes high resolution).
        hr_rows: patch rows (the degraded axis; :func:`patch_rows`).
        width: patch columns (kept at full resolution).
        seed: sampling seed.
        samples_per_epoch: patches per epoch.

    Sample ``key``: a structure point (:func:`structure_points`) as the patch centre, a transpose
    (which in-plane axis is degraded) and two flips, each from ``sample_uniforms(seed, key)``; the
    patch is shifted to lie inside the slice. ``__getitems__`` returns ``{"hr": (B, 1, hr_rows,
    width)}``.
    """

    def __init__(
        self, slices: np.ndarray, hr_rows: int, width: int, seed: int, samples_per_epoch: int
    ) -> None:
        slices = np.ascontiguousarray(slices, dtype=np.float32)
        if slices.ndim != 3:
            raise ValueError(f"InPlanePatches expects (S, H, W) slices, got {slices.shape}")
        side = max(hr_rows, width)
        if min(slices.shape[1:]) < side:
            raise ValueError(
                f"in-plane slices {slices.shape[1:]} are smaller than a training patch of "
                f"{hr_rows} x {width} (either orientation)"
            )
        self.slices = slices
        self.points = structure_points(slices)
        self.hr_rows = hr_rows
        self.width = width
        self.seed = seed
        self.samples_per_epoch = samples_per_epoch

    def __getitems__(self, keys: Sequence[int]) -> dict[str, Tensor]:
        u = sample_uniforms(self.seed, np.asarray(keys), 4)
        pick = np.minimum((u[:, 0] * len(self.points)).astype(np.int64), len(self.points) - 1)
        hr = np.empty((len(keys), 1, self.hr_rows, self.width), dtype=np.float32)
        for i, (point, transpose, flip_rows, flip_cols) in enumerate(
            zip(self.points[pick], u[:, 1] < 0.5, u[:, 2] < 0.5, u[:, 3] < 0.5, strict=True)
        ):
            hr[i, 0] = self.patch(*point.tolist(), transpose, flip_rows, flip_cols)
        return {"hr": torch.from_numpy(hr)}

    def patch(
        self, index: int, row: int, col: int, transpose: bool, flip_rows: bool, flip_cols: bool
    ) -> np.ndarray:
        """The ``(hr_rows, width)`` patch centred (as near as fits) on ``(row, col)`` of slice
        ``index``; with ``transpose`` the slice's columns become the patch's (degraded) rows."""
        image = self.slices[index]
        if transpose:
            image, row, col = image.T, col, row
        top = int(np.clip(row - self.hr_rows // 2, 0, image.shape[0] - self.hr_rows))
        left = int(np.clip(col - self.width // 2, 0, image.shape[1] - self.width))
        patch = image[top : top + self.hr_rows, left : left + self.width]
        if flip_rows:
            patch = patch[::-1]
        if flip_cols:
            patch = patch[:, ::-1]
        return patch


class PatchDataModule(pl.LightningDataModule):
    """Training batches of a patch dataset whose ``__getitems__`` gives ``{"hr": (B, 1, H, W)}``
    (no validation: a scan alone has no HR truth)."""

    def __init__(self, dataset: Dataset, batch_size: int) -> None:
        super().__init__()
        self.dataset = dataset
        self.batch_size = batch_size

    def train_dataloader(self) -> DataLoader:
        return DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            sampler=EpochSampler(len(self.dataset)),
            collate_fn=batch_as_is,
            num_workers=0,
        )


class InPlaneDataModule(PatchDataModule):
    """Training batches of :class:`InPlanePatches`."""

    def __init__(
        self,
        slices: np.ndarray,
        hr_rows: int,
        width: int,
        batch_size: int,
        samples_per_epoch: int,
        seed: int,
    ) -> None:
        super().__init__(
            InPlanePatches(slices, hr_rows, width, seed, samples_per_epoch), batch_size
        )
