"""Time to super-resolve a whole volume (the study's 256 x 256 x 176 grid) on a GPU.

Uses srmri's own prediction path (:func:`srmri.inference.predict_volume`) with the demo network,
so the figure covers slicing, batching, tiling and writing the output array, not the network alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

import nibabel as nib
import numpy as np
import torch

from benchmarks.common import compose, time_runs
from srmri.tasks.train import build_module

STUDY_VOLUME = (256, 256, 176)


@dataclass(frozen=True)
class VolumeResult:
    """Median seconds of one volume's prediction and the peak GPU memory (None on a CPU)."""

    shape: tuple[int, int, int]
    scale: int
    seconds: float
    peak_bytes: int | None


def volume_time(
    shape: tuple[int, int, int], device: torch.device, warmup: int, repeats: int
) -> VolumeResult:
    """Super-resolve a random ``shape`` volume (1 mm, RAS, axial slices along the third axis).

    The demo network (untrained: speed does not depend on the weights) runs with the prediction
    path's default options on ``device``.
    """
    from srmri.inference import predict_volume

    rng = np.random.default_rng(0)
    image = nib.Nifti1Image(rng.random(shape, dtype=np.float32), np.eye(4))
    torch.manual_seed(0)
    module = build_module(compose("train")).eval()

    def predict() -> None:
        predict_volume(image, module, device=str(device), view="axial", progress=False)

    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    seconds = median(time_runs(predict, warmup, repeats, device))
    peak = torch.cuda.max_memory_allocated(device) if cuda else None
    return VolumeResult(shape, module.scale, seconds, peak)
