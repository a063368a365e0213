"""The evaluation pass of a volume report (a comparison with a 3-D checkpoint).

Each test volume, cropped to multiples of the scale along every axis, is degraded once by the 3-D
degradation; every method super-resolves that same LR volume (see
:mod:`srmri.evaluation.methods`). Scores come only from :mod:`srmri.metrics`, on the same voxels
for every method:

- per volume: PSNR and 3-D SSIM of the whole volume and inside its brain mask (``volume_scores``);
- per slice of each view: the 2-D PSNR and SSIM of every slice of the SR volume against the same
  slice of the HR volume, whole and inside the brain, in the rows of ``metrics.csv`` that slice
  reports hold, so slice and volume models meet in one table and one paired comparison.

There is no rotation: a volume is scored as it lies (angle 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from rich.progress import Progress
from torch import Tensor

from srmri.data import Volume, VolumeRecord
from srmri.data.brain_mask import brain_mask
from srmri.data.volume import view_axis
from srmri.degradation import crop_to_scale
from srmri.evaluation.comparison import Comparison
from srmri.evaluation.settings import Settings
from srmri.evaluation.study import Example, Outcome, histogram, new_outcome, slice_indices
from srmri.metrics import psnr, ssim


def run_volume_study(
    volumes: Sequence[Volume], comparison: Comparison, settings: Settings
) -> Outcome:
    """Score every method on every volume of ``volumes``, whole and slice by slice."""
    outcome = new_outcome(comparison, settings, {}, None)
    generator = torch.Generator(settings.device).manual_seed(settings.seed)
    with Progress(disable=not settings.progress) as progress:
        task = progress.add_task("volumes", total=len(volumes))
        for position, volume in enumerate(volumes):
            _score_volume(volume, position == 0, comparison, settings, generator, outcome)
            progress.advance(task)
    return outcome


@torch.inference_mode()
def _score_volume(
    volume: Volume,
    first: bool,
    comparison: Comparison,
    settings: Settings,
    generator: torch.Generator,
    outcome: Outcome,
) -> None:
    device, scale = settings.device, comparison.scale
    record = volume.record
    mask, source = brain_mask(volume, settings.use_given_mask, settings.mask_threshold)
    outcome.mask_sources[record.name] = source
    hr = crop_to_scale(volume.image, scale, 3)[None, None].float().to(device)
    brain = crop_to_scale(mask, scale, 3)[None, None].bool().to(device)
    # The degradation sees the normalised intensities as they are; the scored HR is clipped.
    lr = comparison.degradation(hr, generator)
    hr = hr.clamp(0.0, 1.0)
    shown = {view: _shown_slices(brain, view, settings) for view in settings.views} if first else {}
    crops: dict[str, dict[str, dict[int, np.ndarray]]] = {}
    for method in comparison.methods:
        sr = method.upscale(lr).to(device)
        if tuple(sr.shape) != tuple(hr.shape):
            raise ValueError(
                f"{method.name} made a volume {tuple(sr.shape[2:])} from the LR "
                f"{tuple(lr.shape[2:])} of {record.name}; expected {tuple(hr.shape[2:])}"
            )
        for region, where in (("image", None), ("brain", brain)):
            if where is not None and not where.any():
                continue
            outcome.volume_scores.append(
                {
                    "subject": record.subject,
                    "contrast": record.contrast,
                    "method": method.name,
                    "region": region,
                    "psnr": float(psnr(sr, hr, mask=where)[0]),
                    "ssim": float(ssim(sr, hr, mask=where)[0]),
                }
            )
        for view in settings.views:
            _score_slices(record, view, method.name, sr, hr, brain, settings, outcome)
            for k in shown.get(view, ()):
                crops.setdefault(view, {}).setdefault(method.name, {})[k] = _plane(sr, view, k)
        error = (sr.clamp(0.0, 1.0) - hr).abs()
        for side, where in (("inside", brain), ("outside", ~brain)):
            outcome.histograms[method.name][side] += histogram(error[where], outcome.bin_edges)
    for view, slices in shown.items():
        for k in sorted(slices):
            inside = _plane(brain, view, k).astype(bool)
            outcome.examples.append(
                Example(
                    subject=record.subject,
                    contrast=record.contrast,
                    view=view,
                    slice=k,
                    angle=0.0,
                    hr=_plane(hr, view, k),
                    # The LR plane that holds HR slice k (LR plane j spans HR slices j s .. j s + s-1).
                    lr=np.clip(_plane(lr, view, k // scale), 0.0, 1.0),
                    sr={name: crops[view][name][k] for name in crops[view]},
                    brain=inside,
                    region=np.ones_like(inside),
                )
            )


def _score_slices(
    record: VolumeRecord,
    view: str,
    name: str,
    sr: Tensor,
    hr: Tensor,
    brain: Tensor,
    settings: Settings,
    outcome: Outcome,
) -> None:
    """2-D scores of every slice of ``view`` (or ``settings.slices``), batch by batch."""
    axis = view_axis(view)
    cropped = f"{record.name} (cropped to multiples of the scale)"
    indices = slice_indices(hr.shape[2 + axis], view, settings.slices, cropped)
    place = (record.subject, record.contrast, view)
    for start in range(0, len(indices), settings.batch_size):
        chunk = indices[start : start + settings.batch_size]
        rows = torch.tensor(chunk, device=hr.device)
        sr_s, hr_s, brain_s = (
            x[0, 0].movedim(axis, 0).index_select(0, rows)[:, None] for x in (sr, hr, brain)
        )
        pairs = [(k, 0.0) for k in chunk]
        outcome.scores.add(
            place, pairs, name, "image", psnr(sr_s, hr_s).tolist(), ssim(sr_s, hr_s).tolist()
        )
        keep = brain_s.flatten(1).any(1).nonzero().flatten()
        if len(keep):
            sr_b, hr_b, mask_b = sr_s[keep], hr_s[keep], brain_s[keep]
            outcome.scores.add(
                place,
                [pairs[i] for i in keep.tolist()],
                name,
                "brain",
                psnr(sr_b, hr_b, mask=mask_b).tolist(),
                ssim(sr_b, hr_b, mask=mask_b).tolist(),
            )


def _shown_slices(brain: Tensor, view: str, settings: Settings) -> set[int]:
    axis = view_axis(view)
    count = brain.shape[2 + axis]
    if settings.figure_slices is not None:
        return {k for k in settings.figure_slices if k < count}
    # The slice with the most brain shows the most of what the methods do.
    per_slice = brain[0, 0].movedim(axis, 0).flatten(1).sum(1)
    return {int(per_slice.argmax())}


def _plane(volume: Tensor, view: str, k: int) -> np.ndarray:
    """Slice ``k`` of ``view`` of a ``(1, 1, X, Y, Z)`` volume, as a float NumPy array."""
    return volume[0, 0].select(view_axis(view), k).float().cpu().numpy()
