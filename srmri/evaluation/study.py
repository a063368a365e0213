"""The evaluation pass: every volume, view, slice and angle of the test split, every method.

Each volume is loaded and normalised once (by the datamodule's cache); its slices along a view are
stacked once; slice-angle pairs are scored in batches: the HR slices are turned (see
:mod:`srmri.evaluation.rotation`), degraded once by the single degradation, and every method
super-resolves the same LR batch. Scores come only from :mod:`srmri.metrics`, on the same pixels
for every method: the scored region (the whole slice, or the slice less the fill's margin when
angles turn it) and, for the ``brain`` rows, its intersection with the turned brain mask.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch
from rich.progress import Progress
from torch import Tensor

from srmri.data import Volume, VolumeRecord, num_slices, slice_of
from srmri.data.brain_mask import brain_mask
from srmri.degradation import crop_to_scale
from srmri.evaluation.comparison import Comparison
from srmri.evaluation.reach import reach
from srmri.evaluation.rotation import (
    disk_band,
    frame_shape,
    is_identity,
    margin,
    scored_region,
    turn,
)
from srmri.evaluation.scores import Scores
from srmri.evaluation.settings import Settings
from srmri.metrics import SSIM_WINDOW, psnr, ssim


@dataclass
class Example:
    """One scored slice kept for the figures, cropped to the turned slice's box.

    ``hr``, ``sr[name]``: ``(H, W)``; ``lr``: ``(H / s, W / s)`` (the LR of the same box);
    ``brain``, ``region``: ``(H, W)`` bool.
    """

    subject: str
    contrast: str
    view: str
    slice: int
    angle: float
    hr: np.ndarray
    lr: np.ndarray
    sr: dict[str, np.ndarray]
    brain: np.ndarray
    region: np.ndarray


@dataclass
class Outcome:
    """Everything the report is made from."""

    scores: Scores
    histograms: dict[str, dict[str, np.ndarray]]
    bin_edges: np.ndarray
    examples: list[Example]
    reach: dict[str, int]
    margin: float | None
    # "<view> <H>x<W>" -> angle -> scored pixels, when angles turn the slices.
    region_pixels: dict[str, dict[float, int]] = field(default_factory=dict)
    mask_sources: dict[str, str] = field(default_factory=dict)
    # Volume reports: one row per (volume, method, region) with its whole-volume PSNR and SSIM.
    volume_scores: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class ViewSlices:
    """The slices of one volume along one view, stacked once.

    ``hr``: ``(N, H, W)`` in [0, 1]; ``brain``: ``(N, H, W)`` bool; ``indices``: their slice
    numbers; ``shown``: the slices kept for the example figures.
    """

    record: VolumeRecord
    view: str
    indices: list[int]
    hr: Tensor
    brain: Tensor
    shown: set[int]


def method_reach(comparison: Comparison, settings: Settings, largest: int) -> dict[str, int]:
    """The reach (HR pixels) of degradation + each method; see :mod:`srmri.evaluation.reach`."""
    # Noise is added pixel by pixel: it spreads nothing, and would only blur the measurement.
    noiseless = comparison.degradation.noiseless()
    device = settings.device
    return {
        method.name: reach(
            lambda hr, m=method: m.upscale(noiseless(hr.to(device))).cpu(),
            comparison.scale,
            settings.tolerance,
            largest,
            settings.seed,
        )
        for method in comparison.methods
    }


def reference(
    hr: Tensor, angles: Sequence[float], frame: tuple[int, int], settings: Settings
) -> Tensor:
    """The HR slices ``(B, 1, H, W)`` as scored: each turned by its angle into ``frame``.

    When the run turns any slice and ``rotation.band`` is ``disk``, every slice is first
    low-passed to the disk band, so that every angle's reference holds the same frequencies
    (see :mod:`srmri.evaluation.rotation`). Not yet clipped to the data range.
    """
    if settings.rotation_band == "disk" and not all(map(is_identity, settings.angles)):
        hr = disk_band(hr)
    return turn(hr, angles, frame, settings.rotation_interpolation)


def new_outcome(
    comparison: Comparison, settings: Settings, reaches: dict[str, int], margin: float | None
) -> Outcome:
    """An empty outcome: no scores yet, zeroed error histograms for every method."""
    edges = np.linspace(0.0, settings.histogram_max, settings.histogram_bins + 1)
    return Outcome(
        scores=Scores(),
        histograms={
            m.name: {"inside": np.zeros(len(edges) - 1), "outside": np.zeros(len(edges) - 1)}
            for m in comparison.methods
        },
        bin_edges=edges,
        examples=[],
        reach=reaches,
        margin=margin,
    )


def run_study(volumes: Sequence[Volume], comparison: Comparison, settings: Settings) -> Outcome:
    """Score every method on every slice-angle pair of ``volumes``."""
    rotating = not all(is_identity(angle) for angle in settings.angles)
    largest = max(max(v.image.shape) for v in volumes) * 2
    reaches = method_reach(comparison, settings, largest) if rotating else {}
    pad = margin(max(reaches.values()), settings.rotation_interpolation) if rotating else None
    outcome = new_outcome(comparison, settings, reaches, pad)
    generator = torch.Generator(settings.device).manual_seed(settings.seed)
    with Progress(disable=not settings.progress) as progress:
        volume_task = progress.add_task("volumes", total=len(volumes))
        pair_task = progress.add_task("slices x angles", total=0)
        for position, volume in enumerate(volumes):
            brain, source = brain_mask(volume, settings.use_given_mask, settings.mask_threshold)
            outcome.mask_sources[volume.record.name] = source
            for view in settings.views:
                indices = _indices(volume, view, settings.slices)
                # Angle by angle: a batch then shares one scored region and one sampling grid.
                pairs = [(k, angle) for angle in settings.angles for k in indices]
                progress.reset(pair_task, total=len(pairs), description=f"{view} slices x angles")
                masks = _stack(brain, view, indices, comparison.scale)
                slices = ViewSlices(
                    volume.record,
                    view,
                    indices,
                    _stack(volume.image, view, indices, comparison.scale),
                    masks,
                    _example_slices(masks, indices, settings) if position == 0 else set(),
                )
                for chunk in _chunks(pairs, settings.batch_size):
                    _score_chunk(chunk, slices, comparison, settings, generator, outcome)
                    progress.advance(pair_task, len(chunk))
            progress.advance(volume_task)
    return outcome


def _indices(volume: Volume, view: str, wanted: Sequence[int] | None) -> list[int]:
    return slice_indices(
        num_slices(tuple(volume.image.shape), view), view, wanted, volume.record.name
    )


def slice_indices(count: int, view: str, wanted: Sequence[int] | None, name: str) -> list[int]:
    """The slices to score of ``count`` along ``view``: all, or ``wanted`` (each checked)."""
    if wanted is None:
        return list(range(count))
    beyond = [k for k in wanted if k >= count]
    if beyond:
        raise ValueError(
            f"slices={list(wanted)}: {beyond} outside the {count} {view} slices (0..{count - 1}) "
            f"of {name}"
        )
    return list(wanted)


def _stack(image: Tensor, view: str, indices: Sequence[int], scale: int) -> Tensor:
    """``(N, H, W)`` slices, cropped to multiples of the scale like every evaluation slice."""
    return torch.stack([crop_to_scale(slice_of(image, view, k), scale) for k in indices])


def _example_slices(masks: Tensor, indices: Sequence[int], settings: Settings) -> set[int]:
    if settings.figure_slices is not None:
        return set(settings.figure_slices) & set(indices)
    # The slice with the most brain shows the most of what the methods do.
    return {indices[int(masks.flatten(1).sum(1).argmax())]}


def _chunks(pairs: list, size: int) -> Iterator[list]:
    for start in range(0, len(pairs), size):
        yield pairs[start : start + size]


@torch.inference_mode()
def _score_chunk(
    chunk: list[tuple[int, float]],
    slices: ViewSlices,
    comparison: Comparison,
    settings: Settings,
    generator: torch.Generator,
    outcome: Outcome,
) -> None:
    """Turn, degrade, super-resolve and score one batch of (slice, angle) pairs."""
    device = settings.device
    angles = [a for _, a in chunk]
    view, record = slices.view, slices.record
    rows = torch.tensor([slices.indices.index(k) for k, _ in chunk])
    shape = (int(slices.hr.shape[-2]), int(slices.hr.shape[-1]))
    frame = frame_shape(shape, settings.angles, comparison.scale)
    hr = reference(slices.hr[rows, None].to(device), angles, frame, settings)
    # The degradation sees the normalised intensities as they are; the scored HR is clipped.
    lr = comparison.degradation(hr, generator)
    hr = hr.clamp(0.0, 1.0)
    brain = turn(slices.brain[rows, None].float().to(device), angles, frame, "nearest") > 0.5
    region = _region(frame, shape, angles, outcome, view)
    region = None if region is None else region.to(device)
    srs = {method.name: method.upscale(lr) for method in comparison.methods}
    brain_region = brain if region is None else brain & region
    scored = torch.ones_like(brain) if region is None else region
    keep = brain_region.flatten(1).any(1).nonzero().flatten().tolist()
    place = (record.subject, record.contrast, view)
    # Each score reads only its region (and SSIM's window around it): crop to that box first.
    image_box = _scoring_window(region)
    brain_box = _scoring_window(brain_region[keep]) if keep else image_box
    # What every method is scored against, cropped once.
    hr_image = hr[image_box]
    image_mask = None if region is None else region[image_box]
    inner = [chunk[i] for i in keep]
    hr_brain, brain_mask = (
        (hr[keep][brain_box], brain_region[keep][brain_box]) if keep else (None, None)
    )
    sides = {
        "inside": (brain & scored)[image_box],
        "outside": (~brain & scored)[image_box],
    }
    for name, sr in srs.items():
        sr_image = sr[image_box]
        image_scores = (
            psnr(sr_image, hr_image, mask=image_mask),
            ssim(sr_image, hr_image, mask=image_mask),
        )
        outcome.scores.add(place, chunk, name, "image", *(s.tolist() for s in image_scores))
        if keep:
            sr_brain = sr[keep][brain_box]
            brain_scores = (
                psnr(sr_brain, hr_brain, mask=brain_mask),
                ssim(sr_brain, hr_brain, mask=brain_mask),
            )
            outcome.scores.add(place, inner, name, "brain", *(s.tolist() for s in brain_scores))
        error = (sr_image.clamp(0.0, 1.0) - hr_image).abs()
        for side, where in sides.items():
            outcome.histograms[name][side] += histogram(error[where], outcome.bin_edges)
    shown_angle = _example_angle(settings.angles)
    for i, (k, angle) in enumerate(chunk):
        if k in slices.shown and angle == shown_angle:
            box = _box(frame, shape, angle, comparison.scale)
            outcome.examples.append(
                _example(
                    record, view, k, angle, box, comparison.scale, i, hr, lr, srs, brain, scored
                )
            )


def _scoring_window(region: Tensor | None) -> tuple[slice, ...]:
    """Index of ``(B, 1, Hf, Wf)`` tensors: the region's box plus SSIM's half window per side.

    SSIM reads pixels up to half a window from the region, so those stay; nothing else is read.
    """
    if region is None:
        return (...,)
    half = (SSIM_WINDOW - 1) // 2
    rows = torch.nonzero(region.any(dim=(0, 1, 3))).flatten()
    cols = torch.nonzero(region.any(dim=(0, 1, 2))).flatten()
    height, width = region.shape[-2:]
    return (
        ...,
        slice(max(int(rows[0]) - half, 0), min(int(rows[-1]) + 1 + half, height)),
        slice(max(int(cols[0]) - half, 0), min(int(cols[-1]) + 1 + half, width)),
    )


def _example_angle(angles: Sequence[float]) -> float:
    """Example figures show angle 0 when it is scored, else the first angle."""
    return next((a for a in angles if is_identity(a)), angles[0])


@lru_cache(maxsize=1024)
def _scored_region(
    frame: tuple[int, int], shape: tuple[int, int], angle: float, pad: float
) -> Tensor:
    return scored_region(frame, shape, angle, pad)


def _region(
    frame: tuple[int, int],
    shape: tuple[int, int],
    angles: Sequence[float],
    outcome: Outcome,
    view: str,
) -> Tensor | None:
    """``(B, 1, Hf, Wf)`` scored pixels per pair, or None when every pixel is scored."""
    if outcome.margin is None:
        return None
    regions = []
    for angle in angles:
        region = _scored_region(frame, shape, angle, outcome.margin)
        count = int(region.sum())
        if count == 0:
            raise ValueError(
                f"{view} slices are {shape[0]}x{shape[1]}: rotated, no pixel is out of the fill's "
                f"reach ({outcome.margin:.0f} pixels are left out per side); use angles=[0] or "
                "views with larger slices"
            )
        outcome.region_pixels.setdefault(f"{view} {shape[0]}x{shape[1]}", {})[angle] = count
        regions.append(region)
    return torch.stack(regions)[:, None]


def histogram(values: Tensor, edges: np.ndarray) -> np.ndarray:
    """Counts over ``edges``; values beyond the last edge count in the last bin."""
    top = float(edges[-1])
    counts = torch.histc(values.double().clamp(max=top), bins=len(edges) - 1, min=0.0, max=top)
    return counts.cpu().numpy()


def _box(
    frame: tuple[int, int], shape: tuple[int, int], angle: float, scale: int
) -> tuple[int, ...]:
    """``(row0, row1, col0, col1)``, end-exclusive and on the LR grid: the turned slice's box."""
    rows, cols = torch.nonzero(_scored_region(frame, shape, angle, 0.0), as_tuple=True)
    row0, col0 = int(rows.min()) // scale * scale, int(cols.min()) // scale * scale
    row1 = -(-(int(rows.max()) + 1) // scale) * scale
    col1 = -(-(int(cols.max()) + 1) // scale) * scale
    return row0, row1, col0, col1


def _example(record, view, k, angle, box, scale, i, hr, lr, srs, brain, scored) -> Example:
    row0, row1, col0, col1 = box

    def crop(image: Tensor) -> np.ndarray:
        return image[i, 0, row0:row1, col0:col1].float().cpu().numpy()

    return Example(
        subject=record.subject,
        contrast=record.contrast,
        view=view,
        slice=k,
        angle=angle,
        hr=crop(hr),
        lr=lr[i, 0, row0 // scale : row1 // scale, col0 // scale : col1 // scale].cpu().numpy(),
        sr={name: crop(sr.clamp(0.0, 1.0)) for name, sr in srs.items()},
        brain=crop(brain).astype(bool),
        region=crop(scored).astype(bool),
    )
