"""Names of the public checkpoints' tensors and where each one goes in an srmri network.

``edsr_pytorch``: EDSR-PyTorch (Lim et al.) ``EDSR`` state dicts, e.g. ``edsr_baseline_x2`` and
``edsr_x4``: ``head.0``, ``body.N.body.0`` / ``body.N.body.2`` (the residual blocks), ``body.{n}``
(the conv after the body), ``tail.0.J`` (the upsampler convs), ``tail.1`` (the last conv), each with
``weight`` and ``bias``, plus the fixed mean shifts ``sub_mean`` / ``add_mean`` (1x1 convs).

``wdsr``: the WDSR reference code (Yu et al., ``wdsr_a.py`` / ``wdsr_b.py``) run in EDSR-PyTorch,
whose convs carry ``torch.nn.utils.weight_norm``: ``weight_g``, ``weight_v`` and ``bias`` under
``head.0``, ``body.N.body.J``, ``tail.0`` and ``skip.0``. Its RGB mean is not in the state dict.
"""

from __future__ import annotations

from torch import nn

from srmri.models.edsr import EDSR
from srmri.models.wdsr import WDSRA, WDSRB

EDSR_MEAN_SHIFT_KEYS = ("sub_mean.weight", "sub_mean.bias", "add_mean.weight", "add_mean.bias")

_EDSR_BLOCK = {"body.0": "conv1", "body.2": "conv2"}
_WDSR_A_BLOCK = {"body.0": "conv_expand", "body.2": "conv_reduce"}
_WDSR_B_BLOCK = {"body.0": "conv_expand", "body.2": "conv_low_rank", "body.3": "conv_spatial"}

_CONV_TENSORS = {"weight": "weight", "bias": "bias"}
# torch.nn.utils.weight_norm's names -> torch.nn.utils.parametrizations.weight_norm's names.
_WEIGHT_NORM_TENSORS = {
    "weight_g": "parametrizations.weight.original0",
    "weight_v": "parametrizations.weight.original1",
    "bias": "bias",
}


def edsr_pytorch_keys(network: EDSR) -> dict[str, str]:
    """EDSR-PyTorch key -> ``network`` state-dict key, for every conv (not the mean shifts)."""
    n_blocks = len(network.body)
    convs = [("head.0", "conv_first")]
    for index in range(n_blocks):
        convs += [(f"body.{index}.{o}", f"body.{index}.{s}") for o, s in _EDSR_BLOCK.items()]
    convs.append((f"body.{n_blocks}", "conv_after_body"))
    # The upsampler's layout [conv, shuffle, conv, shuffle] is the same in both networks.
    convs += [
        (f"tail.0.{index}", f"upsample.{index}")
        for index, layer in enumerate(network.upsample)
        if isinstance(layer, nn.Conv2d)
    ]
    convs.append(("tail.1", "conv_last"))
    return _tensor_keys(convs, _CONV_TENSORS)


def wdsr_keys(network: WDSRA | WDSRB) -> dict[str, str]:
    """WDSR reference key -> ``network`` state-dict key, for every weight-normalised conv."""
    block = _WDSR_A_BLOCK if isinstance(network, WDSRA) else _WDSR_B_BLOCK
    convs = [("head.0", "conv_first")]
    for index in range(len(network.body)):
        convs += [(f"body.{index}.{o}", f"body.{index}.{s}") for o, s in block.items()]
    convs += [("tail.0", "upsample.0"), ("skip.0", "skip.0")]
    return _tensor_keys(convs, _WEIGHT_NORM_TENSORS)


def _tensor_keys(convs: list[tuple[str, str]], tensors: dict[str, str]) -> dict[str, str]:
    return {
        f"{official}.{o}": f"{ours}.{s}" for official, ours in convs for o, s in tensors.items()
    }
