"""Volumetric prediction: a 3-D checkpoint super-resolves the whole volume along all three axes,
window by window with MONAI's ``sliding_window_inference``.

Windows
-------
Each window is a core of at most ``volume_tile`` LR voxels per side plus ``overlap`` LR voxels of
context on every side (the same meaning as the 2-D tiles' ``overlap``, see
:mod:`srmri.inference.tiling`): ``roi = volume_tile + 2 overlap`` per axis, shrunk to the volume
where it is smaller (the network then sees the volume's own edge, never MONAI's padding), and
consecutive windows step by at most ``volume_tile``. MONAI places them and adds their outputs with
weights, ``blend``:

- ``core`` (default): weight 1 on the window's core, and on the context of a side where the window
  meets the volume's edge (there the network sees the edge exactly as an untiled run does), and
  :data:`CONTEXT_WEIGHT` (1e-6) on the rest of its context, per axis and multiplied over the
  axes. Every voxel is then the output of a window that sees all it depends on (up to 1e-6 of the
  others): when ``overlap`` covers the network's receptive-field radius (in LR voxels) the result
  equals the untiled one to float rounding (``tests/unit/inference/test_volumes.py``). The weights
  depend on where the window lies, so the predictor returns its weighted output and its weights
  as two outputs that MONAI blends alike (``with_coord``), and their ratio is the result.
- ``constant`` / ``gaussian``: MONAI's own blending over the whole window (the context is averaged
  in, so window seams differ from an untiled run by the network's edge error).

Geometry as for slices (:mod:`srmri.inference.geometry`): output voxel ``j`` of every axis sits at
input coordinate ``(j + 0.5) / s - 0.5``; the field of view is kept, zooms are divided by ``s``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from monai.inferers import sliding_window_inference
from torch import Tensor

from srmri.data import denormalise, normalise
from srmri.inference.options import PredictOptions
from srmri.inference.slices import autocast_dtype, inference_copy, resolve_device
from srmri.lightning.module import SRModule

# The weight of a window's context voxels under blend=core: small enough that a core output wins
# to 1e-6, nonzero so that MONAI never divides by a zero weight sum.
CONTEXT_WEIGHT = 1e-6


def volume_factors(scale: int) -> dict[int, float]:
    """The output grid's factor per voxel axis of a 3-D prediction: ``scale`` on all three."""
    return {axis: float(scale) for axis in range(3)}


def window_sizes(shape: tuple[int, ...], tile: int, overlap: int) -> tuple[list[int], list[float]]:
    """Per axis, the window size ``min(tile + 2 overlap, n)`` and MONAI's overlap fraction that
    makes consecutive windows step by ``tile`` (at most)."""
    roi = [min(tile + 2 * overlap, n) for n in shape]
    fractions = [0.0 if r == n else 2 * overlap / r for r, n in zip(roi, shape, strict=True)]
    return roi, fractions


def core_weights(window: Sequence[slice], shape: Sequence[int], overlap: int, scale: int) -> Tensor:
    """``(1, 1, *roi * scale)`` output weights of the window ``window`` (LR slices per axis) of a
    volume of LR ``shape``: 1 on its core and on any context that ends at the volume's edge,
    :data:`CONTEXT_WEIGHT` elsewhere, per axis and multiplied."""
    lines = []
    for part, n in zip(window, shape, strict=True):
        start, stop = int(part.start), int(part.stop)
        line = torch.ones(stop - start)
        if start > 0:
            line[:overlap] = CONTEXT_WEIGHT
        if stop < n:
            line[max(0, stop - start - overlap) :] = CONTEXT_WEIGHT
        lines.append(line.repeat_interleave(scale))
    weights = lines[0][:, None, None] * lines[1][None, :, None] * lines[2][None, None, :]
    return weights[None, None]


class VolumeResolver:
    """``(X, Y, Z)`` normalised LR volume -> ``(X s, Y s, Z s)`` SR volume in [0, 1].

    Args:
        module: a restored 3-D checkpoint (``spatial_dims == 3``, 1 channel).
        options: device, AMP, ``volume_tile``, ``overlap``, ``blend`` and ``batch_size`` (windows
            per network call).
    """

    def __init__(self, module: SRModule, options: PredictOptions) -> None:
        if options.self_ensemble:
            raise ValueError(
                "self_ensemble=true averages the 8 in-plane flips of slices; a 3-D checkpoint "
                "has no such ensemble here, set self_ensemble=false"
            )
        self.device = resolve_device(options.device)
        self.network = inference_copy(module, self.device)
        self.scale = module.scale
        self.options = options
        self.amp_dtype = autocast_dtype(options.precision, self.device)

    def _predict(self, lr: Tensor) -> Tensor:
        enabled = self.amp_dtype is not None
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=enabled):
            sr = self.network(lr.contiguous(memory_format=torch.channels_last_3d))
        return sr.float()

    @torch.inference_mode()
    def __call__(self, lr: Tensor) -> Tensor:
        """Super-resolve ``lr`` ``(X, Y, Z)``; the result is on the CPU."""
        volume = lr.to(self.device, torch.float32)[None, None]
        shape = tuple(volume.shape[2:])
        tile = self.options.volume_tile
        if tile is None:
            return self._predict(volume)[0, 0].clamp(0.0, 1.0).cpu()
        roi, fractions = window_sizes(shape, tile, self.options.overlap)
        blend = self.options.blend
        if blend != "core":
            sr = sliding_window_inference(
                volume,
                roi_size=roi,
                sw_batch_size=self.options.batch_size,
                predictor=self._predict,
                overlap=fractions,
                mode=blend,
                device=torch.device("cpu"),
            )
            return torch.as_tensor(sr)[0, 0].clamp(0.0, 1.0)

        def weighted(lr: Tensor, windows: Sequence[Sequence[slice]]) -> tuple[Tensor, Tensor]:
            sr = self._predict(lr)
            weights = torch.cat(
                [
                    core_weights(window[2:], shape, self.options.overlap, self.scale)
                    for window in windows
                ]
            ).to(sr.device)
            return sr * weights, weights

        total, weights = sliding_window_inference(
            volume,
            roi_size=roi,
            sw_batch_size=self.options.batch_size,
            predictor=weighted,
            overlap=fractions,
            mode="constant",
            device=torch.device("cpu"),
            with_coord=True,
        )
        return (torch.as_tensor(total) / torch.as_tensor(weights))[0, 0].clamp(0.0, 1.0)


def super_resolve_whole_volume(
    volume: np.ndarray,
    window: tuple[float, float],
    resolver: VolumeResolver,
    out: np.ndarray,
    encode,
) -> None:
    """Fill ``out`` ``(X s, Y s, Z s)`` with the SR volume of ``volume`` ``(X, Y, Z)``."""
    lo, hi = window
    lr = normalise(torch.from_numpy(np.ascontiguousarray(volume)), lo, hi)
    sr = denormalise(resolver(lr), lo, hi)
    expected = tuple(n * resolver.scale for n in volume.shape)
    if tuple(sr.shape) != expected or tuple(out.shape) != expected:
        raise ValueError(f"3-D prediction made {tuple(sr.shape)}, expected {expected}")
    # Written in slabs, so an on-disk output is not held twice in memory.
    step = max(1, math.ceil(out.shape[0] / 8))
    for start in range(0, out.shape[0], step):
        out[start : start + step] = encode(sr[start : start + step].numpy())
