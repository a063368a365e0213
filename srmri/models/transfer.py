"""Transfer learning: public RGB weights (EDSR-PyTorch, WDSR) in srmri's networks, used on grey MRI.

Intensity range
---------------
The public networks were trained on 0..255 images; srmri's take [0, 1]. An imported network on
``x`` in [0, 1] computes exactly ``official(255 * x) / 255``: every layer between the mean
subtraction and the mean addition is a convolution or a ReLU, so scaling its input and all its
biases by ``k`` scales its output by ``k``. Writing the official network in srmri's form therefore
only divides every bias by the factor between the two inputs to the first conv:

- EDSR-PyTorch feeds ``X - 255 * mean`` (``rgb_range = 255``), srmri ``x - mean``: biases / 255.
- WDSR feeds ``(X - 255 * mean) / 127.5`` and multiplies the output by 127.5: biases / 2.

Weights (and WDSR's weight-norm magnitudes and directions) are unchanged, and the result is a
plain srmri network to run or fine-tune on [0, 1] data.

Two ways to use RGB weights on grey MRI
--------------------------------------
- ``as_is`` (:class:`GreyAsRGB`): the study's way; the grey slice is copied into 3 channels and
  the 3 outputs are averaged back to grey.
- ``adapted`` (:func:`fold_to_grey`): a 1-channel network; the first convs are summed over the
  input channels, the last convs averaged over the 3 output channels, the mean becomes the average
  of the 3 channel means. It equals ``as_is`` on every pixel when the 3 channel means are equal;
  with the DIV2K mean it equals it everywhere but within the receptive field of the image border,
  where the 3-channel net's zero padding sees a different mean per channel, something a
  1-channel convolution cannot reproduce. It is meant as the starting point of fine-tuning.
"""

from __future__ import annotations

import copy
import os
import pickle
from collections.abc import Mapping
from pathlib import Path

import torch
from hydra.utils import instantiate
from torch import Tensor, nn
from torch.nn.utils import parametrize

from srmri.io.errors import MissingFileError
from srmri.models.blocks import conv2d, wn_conv2d
from srmri.models.edsr import EDSR
from srmri.models.keymaps import EDSR_MEAN_SHIFT_KEYS, edsr_pytorch_keys, wdsr_keys
from srmri.models.wdsr import WDSRA, WDSRB

# srmri: a shipped model (registry name) or a weights-only file of srmri (a 1-channel network).
FORMATS = ("edsr_pytorch", "wdsr", "srmri")
MODES = ("as_is", "adapted")
# 0..255 in both public code bases; WDSR also divides its centred input by 127.5.
RGB_RANGE = 255.0
WDSR_INPUT_DIVISOR = 127.5
PRETRAINED_KEYS = ("path", "format", "mode")


class WeightImportError(ValueError):
    """Pretrained weights that cannot be read or do not fit the network."""


def load_pretrained(
    network: nn.Module, path_or_state_dict: str | os.PathLike | Mapping[str, Tensor], format: str
) -> nn.Module:
    """Copy public RGB weights into ``network`` (in place) and return it.

    Args:
        network: a 3-channel :class:`EDSR` for ``edsr_pytorch``, :class:`WDSRA` or
            :class:`WDSRB` for ``wdsr``, with the checkpoint's blocks, features and scale.
        path_or_state_dict: a ``.pt`` file (read with ``torch.load(weights_only=True)``) or the
            state dict itself.
        format: ``edsr_pytorch`` or ``wdsr`` (see :mod:`srmri.models.keymaps`).

    Raises:
        MissingFileError: if the file does not exist.
        WeightImportError: if the file holds anything but tensors, if keys are missing or
            unexpected (all are listed), or if a tensor's shape differs (key and both shapes).
        TypeError: if the network is not of the kind the format describes.
    """
    keys, bias_divisor = _layout(network, format)
    state, source = _read_state_dict(path_or_state_dict)
    mean_keys = EDSR_MEAN_SHIFT_KEYS if format == "edsr_pytorch" else ()
    has_mean_shift = any(key in state for key in mean_keys)
    expected = set(keys) | (set(mean_keys) if has_mean_shift else set())
    missing = sorted(expected - set(state))
    unexpected = sorted(set(state) - expected)
    if missing or unexpected:
        raise WeightImportError(
            f"{source} does not fit {_describe(network)} as {format} weights: "
            f"missing keys {missing}, unexpected keys {unexpected}"
        )
    own = network.state_dict()
    mismatches = [
        f"{official!r} is {_shape(state[official])} in the checkpoint but {ours!r} is "
        f"{_shape(own[ours])} in the network"
        for official, ours in keys.items()
        if _shape(state[official]) != _shape(own[ours])
    ]
    if mismatches:
        raise WeightImportError(
            f"{source} does not fit {_describe(network)}: " + "; ".join(mismatches)
        )
    for official, ours in keys.items():
        value = state[official].to(own[ours].dtype)
        own[ours] = value / bias_divisor if official.endswith(".bias") else value
    if has_mean_shift:
        own["pixel_mean"] = _edsr_mean(state, source).to(own["pixel_mean"])
    network.load_state_dict(own)
    return network


def _layout(network: nn.Module, format: str) -> tuple[dict[str, str], float]:
    """The key map for ``format`` and the factor that brings its biases to inputs in [0, 1]."""
    if format == "edsr_pytorch":
        if not isinstance(network, EDSR):
            raise TypeError(f"edsr_pytorch weights need an EDSR network, got {_describe(network)}")
        return edsr_pytorch_keys(network), RGB_RANGE
    if format == "wdsr":
        if not isinstance(network, (WDSRA, WDSRB)):
            raise TypeError(f"wdsr weights need a WDSRA or WDSRB network, got {_describe(network)}")
        return wdsr_keys(network), RGB_RANGE / WDSR_INPUT_DIVISOR
    raise ValueError(f"pretrained format must be one of {FORMATS}, got {format!r}")


def _read_state_dict(
    path_or_state_dict: str | os.PathLike | Mapping[str, Tensor],
) -> tuple[Mapping[str, Tensor], str]:
    if isinstance(path_or_state_dict, Mapping):
        return path_or_state_dict, "the given state dict"
    path = Path(path_or_state_dict)
    if not path.is_file():
        raise MissingFileError(f"pretrained weights file {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise WeightImportError(
            f"refused to load {path}: it holds pickled Python objects, not only tensors, and "
            f"unpickling them could run arbitrary code; save a plain state dict instead"
        ) from err
    except (RuntimeError, EOFError) as err:
        raise WeightImportError(f"{path} is not a readable PyTorch weight file: {err}") from err
    if not isinstance(state, Mapping):
        raise WeightImportError(
            f"{path} holds a {type(state).__name__}, expected a state dict of named tensors"
        )
    return state, str(path)


def _edsr_mean(state: Mapping[str, Tensor], source: str) -> Tensor:
    """The RGB mean in [0, 1] of EDSR-PyTorch's mean shifts, shape ``(1, 3, 1, 1)``."""
    for name in ("sub_mean", "add_mean"):
        weight = state[f"{name}.weight"]
        identity = torch.eye(3, dtype=getattr(weight, "dtype", None)).view(3, 3, 1, 1)
        if _shape(weight) != _shape(identity) or not torch.allclose(weight, identity):
            raise WeightImportError(
                f"{source}: {name}.weight must be the 3x3 identity (rgb_std = 1), "
                f"got shape {tuple(weight.shape)}"
            )
    add_bias, sub_bias = state["add_mean.bias"], state["sub_mean.bias"]
    if (
        _shape(add_bias) != (3,)
        or _shape(sub_bias) != (3,)
        or not torch.allclose(sub_bias, -add_bias)
    ):
        raise WeightImportError(
            f"{source}: sub_mean.bias must be the negative of add_mean.bias, shape (3,)"
        )
    return (add_bias / RGB_RANGE).view(1, 3, 1, 1)


def _shape(value: object) -> tuple[int, ...] | str:
    return tuple(value.shape) if isinstance(value, Tensor) else f"a {type(value).__name__}"


def _describe(network: nn.Module) -> str:
    channels = getattr(network, "channels", "?")
    return f"{type(network).__name__} ({channels} channels)"


class GreyAsRGB(nn.Module):
    """The study's as-is use of an RGB network on grey MRI.

    ``lr`` ``(B, 1, h, w)`` is copied into 3 channels, super-resolved by ``network`` and the 3
    output channels are averaged: ``(B, 1, h * scale, w * scale)``.

    Args:
        network: a 3-channel srmri network.
    """

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        if getattr(network, "channels", None) != 3:
            raise ValueError(f"GreyAsRGB needs a 3-channel network, got {_describe(network)}")
        self.network = network
        self.scale = network.scale
        self.channels = 1

    def forward(self, lr: Tensor) -> Tensor:
        """``(B, 1, h, w)`` -> ``(B, 1, h * scale, w * scale)``."""
        if lr.ndim != 4 or lr.shape[1] != 1:
            raise ValueError(f"GreyAsRGB expects (B, 1, h, w), got shape {tuple(lr.shape)}")
        return self.network(lr.expand(-1, 3, -1, -1)).mean(dim=1, keepdim=True)


def fold_to_grey(network: EDSR | WDSRA | WDSRB) -> EDSR | WDSRA | WDSRB:
    """A 1-channel copy of a 3-channel network that, on grey input, computes what
    :class:`GreyAsRGB` of it computes (exactly away from the border, see the module docstring).

    Convs reading the centred input are summed over their 3 input channels, with the bias
    corrected for the change of mean; convs producing the output are averaged over the 3 output
    channels; before a PixelShuffle, output channel ``c`` comes from conv channels
    ``c * s * s .. c * s * s + s * s - 1``, so each of the ``s * s`` positions is averaged over
    ``c``. ``network`` is left unchanged.

    Raises:
        ValueError: if ``network`` is not a 3-channel EDSR, WDSRA or WDSRB.
    """
    if not isinstance(network, (EDSR, WDSRA, WDSRB)) or network.channels != 3:
        raise ValueError(
            f"fold_to_grey needs a 3-channel EDSR, WDSRA or WDSRB, got {_describe(network)}"
        )
    rgb_mean = network.pixel_mean.flatten()
    grey_mean = rgb_mean.mean()
    groups = network.scale * network.scale
    # conv path -> (reads the centred input, channels per image channel of its output or None)
    folds = (
        {"conv_first": (True, None), "conv_last": (False, 1)}
        if isinstance(network, EDSR)
        else {"conv_first": (True, None), "upsample.0": (False, groups), "skip.0": (True, groups)}
    )
    grey = copy.deepcopy(network)
    for path, (reads_input, out_group) in folds.items():
        conv = network.get_submodule(path)
        grey.set_submodule(path, _fold_conv(conv, reads_input, out_group, rgb_mean, grey_mean))
    grey.channels = 1
    grey.pixel_mean = grey_mean.view(1, 1, 1, 1).clone()
    return grey


def _fold_conv(
    conv: nn.Conv2d, reads_input: bool, out_group: int | None, rgb_mean: Tensor, grey_mean: Tensor
) -> nn.Conv2d:
    weight, bias = conv.weight.detach(), conv.bias.detach()
    if reads_input:
        # sum_c W_c * (g - m_c) = (sum_c W_c) * (g - m) + sum_c W_c * (m - m_c) inside the image.
        offset = (grey_mean - rgb_mean).view(1, 3, 1, 1)
        bias = bias + (weight * offset).sum(dim=(1, 2, 3))
        weight = weight.sum(dim=1, keepdim=True)
    if out_group is not None:
        weight = weight.view(3, out_group, *weight.shape[1:]).mean(dim=0)
        bias = bias.view(3, out_group).mean(dim=0)
    weight_normed = parametrize.is_parametrized(conv, "weight")
    make = wn_conv2d if weight_normed else conv2d
    folded = make(weight.shape[1], weight.shape[0], weight.shape[-1]).to(weight)
    with torch.no_grad():
        if weight_normed:
            # Assigning goes through weight norm's right inverse: g = ||weight||, v = weight.
            folded.weight = weight
        else:
            folded.weight.copy_(weight)
        folded.bias.copy_(bias)
    return folded


def build_network(
    network: Mapping, pretrained: Mapping | None = None, load_weights: bool = True
) -> nn.Module:
    """Instantiate a network from its config and, optionally, start it from public RGB weights.

    Args:
        network: a plain dict (or DictConfig) with a ``_target_``, e.g.
            ``{"_target_": "srmri.models.EDSR", "scale": 2, "n_blocks": 16}``.
        pretrained: ``None`` (default) for a freshly initialised network, or
            ``{"path": ..., "format": "edsr_pytorch" | "wdsr", "mode": "as_is" | "adapted"}``:
            the 3-channel variant of ``network`` is built (RGB mean per :mod:`.blocks` unless the
            file carries it), loaded, then wrapped in :class:`GreyAsRGB` (``as_is``) or folded
            with :func:`fold_to_grey` (``adapted``) into a 1-channel network.
        load_weights: ``False`` builds the same structure without reading ``path``, for
            restoring a checkpoint that already holds the trained weights.

    Raises:
        ValueError: if ``pretrained`` has unknown or missing keys, an unknown format or mode, or
            ``network`` asks for other than 1 channel.
    """
    if pretrained is None:
        return instantiate(network)
    path, format, mode = _check_pretrained(pretrained)
    if format == "srmri":
        return _srmri_network(network, path, load_weights)
    channels = network.get("channels", 1)
    if channels != 1:
        raise ValueError(
            f"network.channels must be 1 when pretrained RGB weights are used on grey MRI, "
            f"got {channels!r}"
        )
    # The RGB weights need the RGB mean they were trained with, not the grey default.
    overrides = {"channels": 3, **({"pixel_mean": None} if "pixel_mean" in network else {})}
    rgb = instantiate(network, **overrides)
    if load_weights:
        load_pretrained(rgb, path, format)
    else:
        _layout(rgb, format)
    return GreyAsRGB(rgb) if mode == "as_is" else fold_to_grey(rgb)


def _srmri_network(network: Mapping, name_or_path: str, load_weights: bool) -> nn.Module:
    """``network`` started from a shipped srmri model (registry name) or srmri weights file.

    The file's inference weights (what it predicts with) are copied as they are: the network
    config must describe the same network (a shipped model: ``model=wdsr_a``, its scale).
    """
    fresh = instantiate(network)
    if not load_weights:
        return fresh
    # Imported here: the loader builds SRModules, which import this module.
    from srmri.io.checkpoints import load_module
    from srmri.pretrained import entries, verified_path

    path = verified_path(name_or_path) if name_or_path in entries() else Path(name_or_path)
    source = load_module(path).inference_network.state_dict()
    try:
        fresh.load_state_dict(source)
    except RuntimeError as error:
        raise ValueError(
            f"{path} does not fit {_describe(fresh)} as srmri weights (choose the model and "
            f"data.scale it was trained with): {str(error).splitlines()[0]}"
        ) from error
    return fresh


def _check_pretrained(pretrained: Mapping) -> tuple[str, str, str]:
    unknown = sorted(set(pretrained) - set(PRETRAINED_KEYS))
    missing = [key for key in PRETRAINED_KEYS if key not in pretrained]
    if unknown or missing:
        raise ValueError(
            f"pretrained must have exactly the keys {PRETRAINED_KEYS}; "
            f"missing {missing}, unknown {unknown}"
        )
    if pretrained["format"] not in FORMATS:
        raise ValueError(
            f"pretrained.format must be one of {FORMATS}, got {pretrained['format']!r}"
        )
    if pretrained["mode"] not in MODES:
        raise ValueError(f"pretrained.mode must be one of {MODES}, got {pretrained['mode']!r}")
    return str(pretrained["path"]), pretrained["format"], pretrained["mode"]
