"""Inference speed of the study's two networks on the study's input, per execution variant.

The study (a C++ library on CPU) super-resolved one 510 x 339 RGB image with EDSR x2 (full size)
and WDSR-A x4 (32 blocks, 32 features, expansion 6). Here the same networks run on the same input
size; each variant is timed after a warm-up run, and its convolution FLOPs give the achieved
GFLOP/s, compared with a dense matrix multiply of the same precision measured in the same run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from statistics import median

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from benchmarks.common import time_runs
from benchmarks.flops import conv_flops
from srmri.models import EDSR, WDSRA

# The study's test image: 510 pixels wide, 339 high, 3 channels.
STUDY_INPUT = (339, 510)
STUDY_CHANNELS = 3


@dataclass(frozen=True)
class NetworkSpec:
    """One of the study's networks and the study's figure for it.

    Attributes:
        name: the row label.
        build: builds the network (random weights: speed does not depend on their values).
        study_seconds: the study's CPU time for one 510 x 339 image.
        study_threads: the threads the study's figure used.
        target_seconds: srmri's target at the benchmark's thread count.
    """

    name: str
    build: Callable[[], nn.Module]
    study_seconds: float
    study_threads: int
    target_seconds: float


NETWORKS = (
    NetworkSpec(
        "EDSR x2 (32 blocks, 256 features)",
        lambda: EDSR(scale=2, channels=3, n_blocks=32, n_feats=256, res_scale=0.1),
        study_seconds=576.92,
        study_threads=32,
        target_seconds=60.0,
    ),
    NetworkSpec(
        "WDSR-A x4 (32 blocks, 32 features, x6)",
        lambda: WDSRA(scale=4, channels=3, n_blocks=32, n_feats=32, expansion=6),
        study_seconds=403.5,
        study_threads=2,
        target_seconds=10.0,
    ),
)

# nchw: the network as built, weight norm recomputed at every convolution call.
# channels_last: what srmri's volume prediction does: channels-last weights and input (oneDNN and
#   cuDNN convolve fastest in that layout) and each weight-normalised weight computed once per
#   forward (parametrize.cached).
# amp: channels_last under autocast, the prediction path's `amp` option: bfloat16 on CPUs,
#   float16 on CUDA GPUs.
VARIANTS = ("nchw", "channels_last", "amp")


def amp_dtype(device: torch.device) -> torch.dtype:
    """The autocast type of srmri's prediction path on ``device``."""
    return torch.float16 if device.type == "cuda" else torch.bfloat16


def variant_dtype(variant: str, device: torch.device) -> torch.dtype:
    """The type the variant's convolutions compute in (the matmul peak it is compared with)."""
    return amp_dtype(device) if variant == "amp" else torch.float32


@dataclass(frozen=True)
class InferenceResult:
    """The timing of one network in one variant on one device."""

    network: NetworkSpec
    variant: str
    device: torch.device
    input_hw: tuple[int, int]
    gflop: float
    seconds: float

    @property
    def gflops(self) -> float:
        return self.gflop / self.seconds


@contextlib.contextmanager
def _variant_context(variant: str, device: torch.device) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        stack.enter_context(torch.inference_mode())
        if variant != "nchw":
            stack.enter_context(parametrize.cached())
        if variant == "amp":
            stack.enter_context(torch.autocast(device.type, dtype=amp_dtype(device)))
        yield


def measure_network(
    spec: NetworkSpec,
    device: torch.device,
    input_hw: tuple[int, int],
    variants: tuple[str, ...],
    warmup: int,
    repeats: int,
) -> list[InferenceResult]:
    """Time ``spec``'s network on a ``(1, 3, H, W)`` input in each of ``variants``.

    Variants run in the order of :data:`VARIANTS`, as the channels-last conversion is one-way.

    Raises:
        ValueError: for a variant name not in :data:`VARIANTS`.
    """
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise ValueError(f"unknown inference variant(s) {unknown}; expected some of {VARIANTS}")
    torch.manual_seed(0)
    network = spec.build().eval().requires_grad_(False).to(device)
    lr = torch.rand(1, STUDY_CHANNELS, *input_hw, device=device)
    gflop = conv_flops(network, lr) / 1e9
    results = []
    for variant in (name for name in VARIANTS if name in variants):
        if variant != "nchw":
            network = network.to(memory_format=torch.channels_last)
            lr = lr.contiguous(memory_format=torch.channels_last)
        seconds = _time_forward(network, lr, variant, device, warmup, repeats)
        results.append(InferenceResult(spec, variant, device, input_hw, gflop, seconds))
    return results


def _time_forward(
    network: nn.Module, lr: Tensor, variant: str, device: torch.device, warmup: int, repeats: int
) -> float:
    def forward() -> None:
        with _variant_context(variant, device):
            network(lr)

    # fp32 means fp32: cuDNN would otherwise run float32 convolutions in TF32.
    tf32 = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    try:
        return median(time_runs(forward, warmup, repeats, device))
    finally:
        torch.backends.cudnn.allow_tf32 = tf32
