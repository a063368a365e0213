"""Super-resolving the slices of one volume: device, AMP, orientation, self-ensemble, tiling.

:class:`SliceResolver` turns normalised LR slices into SR slices with a checkpoint's inference
weights (the EMA average when the module keeps one); :func:`super_resolve_volume` walks a volume's
slices along a view in batches and writes each SR batch into the output grid.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from srmri.data import denormalise, normalise
from srmri.inference.ensemble import predict_self_ensemble
from srmri.inference.geometry import Plane
from srmri.inference.options import PredictOptions
from srmri.inference.tiling import predict_tiled
from srmri.lightning.module import SRModule
from srmri.models import build_network


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; anything else as torch reads it."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as error:
        raise ValueError(
            f"predict: device must be auto, cpu, cuda or cuda:N, got {device!r}"
        ) from error


def inference_copy(module: SRModule, device: torch.device) -> nn.Module:
    """A private, frozen copy of the module's inference weights on ``device``, channels-last.

    A copy, so the caller's module is neither moved nor changed. Weight normalisation is folded
    into plain weights (the same values, computed once instead of at every call), which can then
    take the channels-last layout that oneDNN and cuDNN convolve fastest (on a 2-core CPU the
    default WDSR-A ran 1.5x faster at float32 and 3x faster with AMP than with weight
    normalisation left in place).
    """
    network = build_network(module.hparams.network, module.hparams.pretrained, load_weights=False)
    network.load_state_dict(module.inference_network.state_dict())
    # Safe on this fresh network: its parametrized layers have classes of their own.
    for layer in network.modules():
        if parametrize.is_parametrized(layer):
            for name in list(layer.parametrizations):
                parametrize.remove_parametrizations(layer, name)
    keep_image_convolutions_float32(network)
    # Volumes (a 3-D network's 5-D weights) take the 3-D channels-last layout.
    layout = (
        torch.channels_last_3d if getattr(network, "spatial_dims", 2) == 3 else torch.channels_last
    )
    return network.eval().requires_grad_(False).to(device, memory_format=layout)


def _float32_forward(layer: nn.Module, image: Tensor) -> Tensor:
    with torch.autocast(image.device.type, enabled=False):
        return type(layer).forward(layer, image.float())


def keep_image_convolutions_float32(network: nn.Module) -> nn.Module:
    """Make the convolutions that read the image itself run in float32 under autocast.

    Those are the convolutions with as many input channels as the network's first one (the
    image's channels: the head, and WDSR's skip). Autocast would round the image to bfloat16 (8
    bits of mantissa) before them, and a super-resolution network, which sharpens, amplifies that
    rounding: the shipped x2 model lost 0.15 dB of brain PSNR on a development scan under plain
    bfloat16 autocast and 0.0075 dB with these layers in float32. Every other layer still runs in
    the autocast type. Without autocast nothing changes.
    """
    convolutions = [m for m in network.modules() if isinstance(m, nn.Conv2d | nn.Conv3d)]
    if convolutions:
        channels = convolutions[0].in_channels
        for layer in convolutions:
            if layer.in_channels == channels:
                layer.forward = partial(_float32_forward, layer)
    return network


def cpu_has_bfloat16() -> bool:
    """True when this CPU computes in bfloat16 natively (AVX-512 BF16 or AMX), where bfloat16
    autocast is faster than float32; elsewhere it is emulated and slower."""
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(torch.backends.mkldnn.is_available() and check is not None and check())


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast type of ``precision`` on ``device``; None runs float32.

    ``auto`` is bfloat16 on a CPU with native bfloat16 (measured on the development scans:
    README "Predict") and float32 on anything else, CUDA included (not measured there).
    """
    if precision == "auto":
        return torch.bfloat16 if device.type == "cpu" and cpu_has_bfloat16() else None
    return None if precision == "float32" else getattr(torch, precision)


class SliceResolver:
    """``(B, H, W)`` normalised LR slices -> ``(B, H * s, W * s)`` SR slices in [0, 1].

    Args:
        module: the restored checkpoint (1 channel).
        plane: where the slices lie in the input's grid (sets the network's orientation).
        options: device, AMP, self-ensemble and tiling settings.
    """

    def __init__(self, module: SRModule, plane: Plane, options: PredictOptions) -> None:
        self.device = resolve_device(options.device)
        self.network = inference_copy(module, self.device)
        self.scale = module.scale
        self.plane = plane
        self.options = options
        self.amp_dtype = autocast_dtype(options.precision, self.device)

    def _predict(self, lr: Tensor) -> Tensor:
        """``(B, 1, h, w)`` -> ``(B, 1, h * s, w * s)`` float32, one network call."""
        enabled = self.amp_dtype is not None
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=enabled):
            sr = self.network(lr.contiguous(memory_format=torch.channels_last))
        return sr.float()

    @torch.inference_mode()
    def __call__(self, lr: Tensor) -> Tensor:
        """Super-resolve ``lr`` ``(B, H, W)`` (any device); the result is on :attr:`device`."""
        predict = self._predict
        if self.options.self_ensemble:
            predict = partial(predict_self_ensemble, predict)
        lr = self.plane.to_network(lr.to(self.device, torch.float32)[:, None])
        sr = predict_tiled(predict, lr, self.scale, self.options.tile, self.options.overlap)
        return self.plane.from_network(sr)[:, 0].clamp(0.0, 1.0)


def super_resolve_volume(
    volume: np.ndarray,
    window: tuple[float, float],
    resolver: SliceResolver,
    out: np.ndarray,
    encode: Callable[[np.ndarray], np.ndarray],
    batch_size: int,
    after_batch: Callable[[int], None] | None = None,
) -> None:
    """Fill ``out`` with the SR volume of ``volume``, slice batch by slice batch.

    Args:
        volume: ``(X, Y, Z)`` input intensities (float32).
        window: ``(lo, hi)`` of the checkpoint's normalisation, measured on ``volume``.
        resolver: super-resolves normalised slices along its plane.
        out: the output grid, ``volume``'s shape with the in-plane axes times ``scale``.
        encode: float32 intensities -> the output's data type.
        batch_size: slices per network call.
        after_batch: called with the number of slices done after each batch is written.
    """
    lo, hi = window
    through = resolver.plane.through
    source = np.moveaxis(volume, through, 0)
    target = np.moveaxis(out, through, 0)
    for start in range(0, source.shape[0], batch_size):
        stop = min(start + batch_size, source.shape[0])
        lr = normalise(torch.from_numpy(np.ascontiguousarray(source[start:stop])), lo, hi)
        sr = denormalise(resolver(lr), lo, hi)
        target[start:stop] = encode(sr.cpu().numpy())
        if after_batch is not None:
            after_batch(stop - start)
