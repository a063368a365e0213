"""Pictures for the experiment logger: LR | bicubic | SR | HR | |SR - HR| strips of fixed slices.

Every picture reaches the loggers as an 8-bit grey image made with one fixed window: normalised
intensity 0 is black and 1 is white (``round(255 * clip(x, 0, 1))``), the absolute error is
multiplied by :data:`ERROR_GAIN` first. No logger rescales it, so W&B and TensorBoard show the same
pixels and a strip of one epoch compares with the next.

Reusable pieces (a task that is not ``train.py`` can log like training with them):

- :func:`to_uint8` and :func:`side_by_side` make a picture of any ``(H, W)`` images in [0, 1];
- :func:`log_images` sends 8-bit pictures to every logger that takes images (W&B, TensorBoard;
  others are skipped) and :func:`takes_images` says whether any does;
- :func:`panel_rows` picks the fixed validation slices and :func:`slice_batch` loads them;
- :func:`score_panels` degrades, super-resolves and scores a batch with an
  :class:`~srmri.lightning.module.SRModule`; :func:`panel_strip` draws one slice of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from pytorch_lightning.loggers import Logger, TensorBoardLogger, WandbLogger
from pytorch_lightning.utilities import rank_zero_only
from torch import Tensor

from srmri.data.datasets import EvalSlices
from srmri.data.slicing import SliceTable, foreground
from srmri.data.volume import Volume, slice_of
from srmri.metrics import psnr
from srmri.models import upsample

# Absolute errors are small next to the [0, 1] range; a fixed gain keeps them visible and comparable.
ERROR_GAIN = 4.0
PANEL_TITLES = ("LR", "bicubic", "SR", "HR", f"|SR - HR| x{ERROR_GAIN:g}")
# Seeds the degradation's noise (if any) so that a slice's LR image is the same at every epoch.
PANEL_SEED = 0


def to_uint8(image: Tensor | np.ndarray) -> np.ndarray:
    """``(H, W)`` in the fixed window [0, 1] -> ``(H, W)`` uint8, 0 -> 0 and 1 -> 255 (rounded)."""
    values = image.detach().float().cpu().numpy() if isinstance(image, Tensor) else image
    return np.round(np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0) * 255).astype(np.uint8)


def side_by_side(images: Sequence[Tensor | np.ndarray]) -> np.ndarray:
    """One ``(H, sum W)`` uint8 picture of ``(H, W_i)`` images in [0, 1], left to right."""
    return np.concatenate([to_uint8(image) for image in images], axis=1)


def panel_strip(batch: dict[str, Tensor], index: int) -> np.ndarray:
    """The ``(H, 5 W)`` uint8 strip LR | bicubic | SR | HR | |SR - HR| x gain of slice ``index``.

    ``batch`` is scored (see :func:`score_panels`): ``hr``, ``sr`` and ``bicubic`` ``(B, C, H, W)``
    and ``lr`` ``(B, C, H/s, W/s)``, normalised intensities; the first channel is drawn. LR is shown
    at HR size by pixel repetition, so each LR pixel is an s x s block.
    """
    hr = batch["hr"][index, 0].float()
    lr = batch["lr"][index : index + 1, :1].float()
    lr = F.interpolate(lr, size=tuple(hr.shape), mode="nearest")[0, 0]
    bicubic = batch["bicubic"][index, 0].float()
    sr = batch["sr"][index, 0].float()
    error = (sr.clamp(0, 1) - hr).abs() * ERROR_GAIN
    return side_by_side([lr, bicubic, sr, hr, error])


def takes_images(loggers: Sequence[Logger]) -> bool:
    """Whether any of ``loggers`` shows pictures (W&B or TensorBoard)."""
    return any(isinstance(logger, WandbLogger | TensorBoardLogger) for logger in loggers)


@rank_zero_only
def log_images(
    loggers: Sequence[Logger],
    key: str,
    images: Sequence[np.ndarray],
    captions: Sequence[str],
    step: int,
    names: Sequence[str] | None = None,
) -> None:
    """Send 8-bit ``(H, W)`` pictures to every logger that takes images; others are skipped.

    W&B gets one key holding the list (same order at every step, so its slider follows each
    picture over steps); TensorBoard one tag per picture, ``<key>/<name>`` (``names`` default to
    the position in the list).
    """
    for image in images:
        if image.dtype != np.uint8 or image.ndim != 2:
            raise ValueError(
                f"{key}: expected (H, W) uint8 pictures, got {image.dtype} {image.shape}"
            )
    names = list(names) if names is not None else [str(i) for i in range(len(images))]
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            logger.log_image(key=key, images=list(images), caption=list(captions), step=step)
        elif isinstance(logger, TensorBoardLogger):
            for name, image in zip(names, images, strict=True):
                logger.experiment.add_image(f"{key}/{name}", image, step, dataformats="HW")


def panel_rows(
    volumes: Sequence[Volume], views: Sequence[str], table: SliceTable, n: int, level: float
) -> list[int]:
    """Rows of ``table`` for ``n`` fixed panel slices of the first volume, spread over the views.

    The views take turns; a view given ``k`` slices has its slices (in order) cut into ``k``
    consecutive runs, and from each run the slice with the most foreground voxels (brain mask, or
    intensity above ``level``) is taken: brain structure, spread through the volume, the same set
    whenever it is asked for. Returned in table order.
    """
    if n <= 0 or len(table) == 0:
        return []
    first = int(table.volume.min())
    mask = foreground(volumes[first], level)
    per_view = [len(range(w, n, len(views))) for w in range(len(views))]
    chosen: list[int] = []
    for w, view in enumerate(views):
        rows = np.flatnonzero((table.volume == first) & (table.view == w))
        rows = rows[np.argsort(table.index[rows], kind="stable")]
        if per_view[w] == 0 or len(rows) == 0:
            continue
        counts = np.array([int(slice_of(mask, view, int(table.index[r])).sum()) for r in rows])
        for run in np.array_split(np.arange(len(rows)), min(per_view[w], len(rows))):
            chosen.append(int(rows[run[np.argmax(counts[run])]]))
    return sorted(chosen)


def slice_batch(
    volumes: Sequence[Volume],
    views: Sequence[str],
    table: SliceTable,
    rows: Sequence[int],
    scale: int,
    with_mask: bool,
) -> list[dict[str, Any]]:
    """The evaluation batches (one slice each, see :class:`~srmri.data.datasets.EvalSlices`) of
    ``rows``: ``hr`` ``(1, 1, H, W)``, ``mask``, ``subject``, ``contrast``, ``view``, ``slice``."""
    dataset = EvalSlices(volumes, views, [np.array([r]) for r in rows], table, scale, with_mask)
    return [dataset[i] for i in range(len(dataset))]


@torch.no_grad()
def score_panels(module: Any, batch: dict[str, Any]) -> dict[str, Any]:
    """Degrade, super-resolve (inference weights) and upsample bicubic one batch of HR slices.

    Adds ``lr``, ``sr``, ``bicubic`` and the per-slice ``psnr`` / ``psnr_bicubic`` ``(B,)`` over the
    whole slice. The LR image is made with a fixed seed, so it is the same at every epoch.
    """
    hr = batch["hr"].to(module.device)
    generator = torch.Generator(device=hr.device).manual_seed(PANEL_SEED)
    lr = module.degrade(hr, generator)
    # The degradation acts on the volume's unclipped intensities; the target is clipped, as the
    # module's batches and every score have it (srmri.data.normalisation).
    hr = hr.clamp(0.0, 1.0)
    was_training = module.training
    module.eval()
    try:
        sr = module(lr)
    finally:
        module.train(was_training)
    baseline = upsample(lr, module.scale, "bicubic")
    return {
        **batch,
        "hr": hr,
        "lr": lr,
        "sr": sr,
        "bicubic": baseline,
        "psnr": psnr(sr, hr, data_range=1.0),
        "psnr_bicubic": psnr(baseline, hr, data_range=1.0),
    }


def panel_caption(batch: dict[str, Any], index: int, epoch: int | None = None) -> str:
    """``<subject> <contrast> <view> slice <k> [epoch e]: LR | ... — PSNR SR x dB, bicubic y dB``."""
    where = " ".join(
        str(batch[key][index]) for key in ("subject", "contrast", "view") if key in batch
    )
    text = f"{where} slice {int(batch['slice'][index])}"
    if epoch is not None:
        text += f", epoch {epoch}"
    text += ": " + " | ".join(PANEL_TITLES)
    if "psnr" in batch:
        text += (
            f"; PSNR SR {float(batch['psnr'][index]):.2f} dB, "
            f"bicubic {float(batch['psnr_bicubic'][index]):.2f} dB"
        )
    return text


def panel_name(batch: dict[str, Any], index: int) -> str:
    """A short stable name of one slice of a batch: ``<view>_<slice>`` (``<subject>_`` first)."""
    return f"{batch['subject'][index]}_{batch['view'][index]}_{int(batch['slice'][index]):03d}"
