"""Floating-point work: the convolution FLOPs of a forward pass and the machine's matmul peak.

A network's achieved GFLOP/s only means something next to what the same machine can do at best,
so the speed benchmark measures a large dense matrix multiply in the same run and reports each
network as a fraction of it.
"""

from __future__ import annotations

from statistics import median

import torch
from torch import Tensor, nn

from benchmarks.common import time_runs


def conv_flops(network: nn.Module, lr: Tensor) -> int:
    """Floating-point operations of every ``Conv2d`` in one forward pass of ``lr``.

    Counts ``2 * MACs``: each output element of a convolution takes
    ``in_channels / groups * kernel_h * kernel_w`` multiply-adds. Biases, activations, additions
    and pixel shuffles are left out (they are a fraction of a percent of the work here).

    Args:
        network: any module; its ``Conv2d`` layers (weight-normalised ones included) are hooked.
        lr: the input ``(B, C, h, w)``; the network runs once on it, without gradients.
    """
    total = 0

    def count(conv: nn.Conv2d, inputs: tuple[Tensor, ...], output: Tensor) -> None:
        nonlocal total
        kh, kw = conv.kernel_size
        total += 2 * output.numel() * (conv.in_channels // conv.groups) * kh * kw

    hooks = [
        module.register_forward_hook(count)
        for module in network.modules()
        if isinstance(module, nn.Conv2d)
    ]
    try:
        with torch.inference_mode():
            network(lr)
    finally:
        for hook in hooks:
            hook.remove()
    return total


def matmul_gflops(
    size: int, repeats: int, device: torch.device, dtype: torch.dtype = torch.float32
) -> float:
    """Median GFLOP/s of ``repeats`` ``size x size`` matrix products (``2 * size**3`` FLOPs each).

    One product is run first and not timed (it allocates and warms the BLAS library up).
    """
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator).to(device, dtype)
    b = torch.randn(size, size, generator=generator).to(device, dtype)
    out = torch.empty(size, size, device=device, dtype=dtype)
    seconds = time_runs(lambda: torch.mm(a, b, out=out), 1, repeats, device)
    return 2 * size**3 / median(seconds) / 1e9
