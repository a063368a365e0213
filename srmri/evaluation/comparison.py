"""What one evaluation compares, at which scale, on which LR image, with which normalisation.

Models come from checkpoints (``SRModule.load_from_checkpoint``) and, for parameter-free networks
such as ``model=bicubic``, from the model config. By default the checkpoints' own scale,
degradation and normalisation are used; the config may override the last two. Every difference
from the data config, or between a model's training setup and the evaluation's, becomes a note
that is printed and written into the report.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import hydra.utils
import torch

from srmri.data import normalisation_config
from srmri.degradation import BaseDegradation, Degradation, build_degradation, describe_factors
from srmri.evaluation.methods import (
    BASELINES,
    VOLUME_COUNTERPARTS,
    Method,
    baseline,
    slice_model_in_volume,
    volume_baseline,
    volume_model,
)
from srmri.inference.options import PredictOptions
from srmri.io.checkpoints import load_module
from srmri.io.errors import CheckpointError
from srmri.io.legacy import upgrade_degradation
from srmri.lightning.module import SRModule
from srmri.models import Interpolation

log = logging.getLogger(__name__)
CONFIG_SOURCE = "model config"


@dataclass
class Comparison:
    """The methods of one report and the setup they are scored under.

    Attributes:
        methods: bicubic first, then the other baselines, then the models.
        scale: the super-resolution factor shared by every method.
        degradation: the HR -> LR definition every method is given.
        normalisation: the volumes' intensity normalisation (a full mapping).
        sources: method name -> where it came from (a checkpoint path, the model config, or
            ``interpolation``).
        notes: differences worth a reader's attention, in plain sentences.
        spatial_dims: 2 (slices are degraded and super-resolved) or 3 (whole volumes: a report
            with a 3-D checkpoint, see :mod:`srmri.evaluation.methods`).
        reference: the baseline every model is paired with: ``bicubic``, or ``tricubic`` for
            volumes.
    """

    methods: list[Method]
    scale: int
    degradation: BaseDegradation
    normalisation: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    spatial_dims: int = 2
    reference: str = "bicubic"

    @property
    def models(self) -> list[str]:
        return [method.name for method in self.methods if method.is_model]


def build_comparison(
    checkpoints: Sequence[tuple[str | None, Path]],
    model: Mapping[str, Any] | None,
    baselines: Sequence[str],
    data_scale: int,
    data_normalisation: Mapping[str, Any],
    degradation: Mapping[str, Any] | None = None,
    normalisation: Mapping[str, Any] | None = None,
    device: str | torch.device = "cpu",
    batch_size: int = 8,
) -> Comparison:
    """Load the models and settle the scale, degradation and normalisation of the run.

    A 3-D checkpoint makes it a volume comparison (``spatial_dims=3``): the 3-D degradation of
    the volume, 3-D baselines with ``tricubic`` as the reference, slice models applied to the LR
    volume's axial slices (see :mod:`srmri.evaluation.methods`).

    Args:
        checkpoints: ``(name or None, path)`` pairs; None takes the checkpoint's own name.
        model: a model config (``conf/model/*``) to evaluate without a checkpoint (parameter-free
            networks only), or None.
        baselines: interpolation baselines to score (``bicubic`` first).
        data_scale: ``data.scale`` of the config, used only when no model fixes the scale.
        data_normalisation: ``data.normalisation`` of the config.
        degradation: overrides the checkpoints' degradation (a ``conf/degradation`` config; its
            ``scale``, when it has one, follows the models').
        normalisation: overrides the checkpoints' normalisation.
        device: where the models run.
        batch_size: slices per call of a slice model on a volume.

    Raises:
        CheckpointError: checkpoints with different scales, or different degradations or
            normalisations that the config does not settle; two methods of one name.
        ValueError: a model config with trainable parameters and no checkpoint.
    """
    notes: list[str] = []
    modules: dict[str, SRModule] = {}
    sources: dict[str, str] = {}
    for name, path in checkpoints:
        module = load_module(path, map_location=device)
        _add(modules, sources, name or str(module.hparams.name), module, str(path))
    if model is not None:
        module = _module_from_config(model, data_scale, data_normalisation, device)
        _add(modules, sources, str(module.hparams.name), module, CONFIG_SOURCE)

    scale = _scale(modules, sources, data_scale, notes)
    spatial_dims = 3 if any(m.spatial_dims == 3 for m in modules.values()) else 2
    chosen_degradation = _degradation(modules, sources, degradation, scale, notes, spatial_dims)
    chosen_normalisation = _normalisation(
        modules, sources, normalisation, data_normalisation, notes
    )

    # The degradation's own baselines (zero_fill for kspace) are always scored next to bicubic.
    baselines = [*baselines, *(b for b in chosen_degradation.baselines if b not in baselines)]
    if spatial_dims == 3:
        methods, baselines = _volume_methods(
            modules, sources, baselines, scale, notes, device, batch_size
        )
    else:
        methods = _slice_methods(modules, sources, baselines, scale, notes)
    sources.update({name: "interpolation" for name in baselines})
    for note in notes:
        log.warning(note)
    return Comparison(
        methods,
        scale,
        chosen_degradation,
        chosen_normalisation,
        sources,
        notes,
        spatial_dims,
        reference="tricubic" if spatial_dims == 3 else "bicubic",
    )


def _slice_methods(
    modules: Mapping[str, SRModule],
    sources: Mapping[str, str],
    baselines: Sequence[str],
    scale: int,
    notes: list[str],
) -> list[Method]:
    """The baselines, then the models, each upscaling a batch of LR slices."""
    methods = [baseline(name, scale) for name in baselines]
    for name, module in modules.items():
        if name in BASELINES:
            if _is_baseline(module, name):
                notes.append(f"{name} ({sources[name]}) is the {name} baseline itself: scored once")
                continue
            raise _baseline_name(name, sources)
        methods.append(Method(name, module, is_model=True))
    return methods


def _volume_methods(
    modules: Mapping[str, SRModule],
    sources: Mapping[str, str],
    baselines: Sequence[str],
    scale: int,
    notes: list[str],
    device: str | torch.device,
    batch_size: int,
) -> tuple[list[Method], list[str]]:
    """The methods of a report with a 3-D checkpoint, each upscaling the same LR volume, and the
    3-D baselines' names (each slice baseline's counterpart)."""
    names: list[str] = []
    for name in baselines:
        counterpart = VOLUME_COUNTERPARTS[name]
        if counterpart is None:
            notes.append(f"baseline {name} has no 3-D form: left out of this volume report")
        elif counterpart not in names:
            names.append(counterpart)
    methods = [volume_baseline(name, scale) for name in names]
    options = PredictOptions(device=str(device), precision="float32", progress=False)
    notes.append(
        "volumes are scored whole: the 3-D degradation of each test volume, tricubic (the cubic "
        "B-spline along every axis) as the reference, 3-D models run as predict.py runs them "
        f"(sliding windows of {options.volume_tile} LR voxels plus {options.overlap} of context, "
        f"{options.blend} blending)"
    )
    for name, module in modules.items():
        if name in names or name in BASELINES:
            raise _baseline_name(name, sources)
        if module.spatial_dims == 3:
            methods.append(volume_model(name, module, options))
            continue
        methods.append(slice_model_in_volume(name, module, options.view, scale, batch_size))
        notes.append(
            f"{name} is a slice model: it super-resolves the LR volume's {options.view} slices and "
            "the cubic B-spline upsamples the axis across them"
        )
    return methods, names


def _baseline_name(name: str, sources: Mapping[str, str]) -> CheckpointError:
    return CheckpointError(
        f"{sources[name]}: model name {name!r} is also a baseline's name; name it with "
        f"ckpt_path={{my_name: {sources[name]}}}"
    )


def _add(
    modules: dict[str, SRModule], sources: dict[str, str], name: str, module: SRModule, source: str
) -> None:
    if name in modules:
        raise CheckpointError(
            f"{source} and {sources[name]}: two models named {name!r}; give them names with "
            "ckpt_path={first: a.ckpt, second: b.ckpt}"
        )
    modules[name], sources[name] = module, source


def _module_from_config(
    model: Mapping[str, Any], scale: int, normalisation: Mapping[str, Any], device
) -> SRModule:
    module = hydra.utils.instantiate(
        model, degradation={"scale": scale}, normalisation=dict(normalisation)
    )
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    if trainable:
        raise ValueError(
            f"model={module.hparams.name} has {trainable} trainable parameters and no checkpoint; "
            "evaluate a trained model with ckpt_path=..."
        )
    return module.to(device).eval()


def _is_baseline(module: SRModule, name: str) -> bool:
    network = module.network
    return name in BASELINES and isinstance(network, Interpolation) and network.mode == name


def _scale(
    modules: Mapping[str, SRModule], sources: Mapping[str, str], data_scale: int, notes: list[str]
) -> int:
    scales = {name: module.scale for name, module in modules.items()}
    if len(set(scales.values())) > 1:
        listed = ", ".join(f"{sources[n]} x{s}" for n, s in scales.items())
        raise CheckpointError(
            f"models of one report must share one scale, got {listed}; evaluate them separately"
        )
    scale = next(iter(scales.values()), int(data_scale))
    if scale != data_scale:
        notes.append(
            f"data.scale={data_scale}, but the models are x{scale}: evaluating at x{scale}"
        )
    return scale


def _degradation(
    modules: Mapping[str, SRModule],
    sources: Mapping[str, str],
    override: Mapping[str, Any] | None,
    scale: int,
    notes: list[str],
    spatial_dims: int = 2,
) -> BaseDegradation:
    """The one degradation of the run: the override, else the models' shared one (in a volume
    report, the 3-D models'; the slice models' own are noted)."""
    trained = {
        name: module.degradation
        for name, module in modules.items()
        if module.spatial_dims == spatial_dims
    }
    for name, module in modules.items():
        if module.spatial_dims != spatial_dims:
            notes.append(
                f"{name} was trained with degradation {module.degradation.describe()} on slices; "
                "scored on the volume's 3-D degradation"
            )
    if override is not None:
        settings = upgrade_degradation(dict(override))
        if spatial_dims == 3 and "spatial_dims" in _fields(settings):
            settings["spatial_dims"] = 3
        if "scale" in _fields(settings) or "scale" in settings:
            if settings.get("scale", scale) != scale:
                notes.append(
                    f"degradation.scale={settings['scale']} replaced by the models' x{scale}"
                )
            settings["scale"] = scale
        try:
            chosen = build_degradation(settings)
        except ValueError as error:
            raise CheckpointError(str(error)) from None
        if chosen.factors != (float(scale),) * spatial_dims:
            raise CheckpointError(
                f"degradation {chosen.describe()} has factors "
                f"{describe_factors(chosen.factors)}; the models upsample by x{scale} along "
                f"{'every axis' if spatial_dims == 3 else 'both axes'}"
            )
    elif len(set(trained.values())) > 1:
        listed = "; ".join(f"{sources[n]}: {d.describe()}" for n, d in trained.items())
        raise CheckpointError(
            f"the models were trained with different degradations ({listed}); choose the one to "
            "evaluate with, e.g. degradation=seed"
        )
    elif trained:
        return next(iter(trained.values()))
    else:
        chosen = Degradation(scale=scale)
        notes.append(
            f"no checkpoint fixes the degradation: using srmri's default {chosen.describe()} "
            "(choose another with degradation=...)"
        )
    for name, own in trained.items():
        if own != chosen:
            notes.append(
                f"{name} was trained with degradation {own.describe()}; evaluated on "
                f"{chosen.describe()}"
            )
    return chosen


def _normalisation(
    modules: Mapping[str, SRModule],
    sources: Mapping[str, str],
    override: Mapping[str, Any] | None,
    data_normalisation: Mapping[str, Any],
    notes: list[str],
) -> dict[str, Any]:
    data = normalisation_config(data_normalisation)
    trained = {name: normalisation_config(m.hparams.normalisation) for name, m in modules.items()}
    distinct = {tuple(sorted(n.items())) for n in trained.values()}
    if override is not None:
        chosen = normalisation_config(override)
        for name, own in trained.items():
            if own != chosen:
                notes.append(
                    f"{name} was trained with normalisation {own}; evaluated with {chosen}"
                )
    elif len(distinct) > 1:
        listed = "; ".join(f"{sources[n]}: {c}" for n, c in trained.items())
        raise CheckpointError(
            f"the models were trained with different normalisations ({listed}); choose one with "
            "normalisation={method: percentile, lower: 0.5, upper: 99.5, use_mask: true}"
        )
    else:
        chosen = next(iter(trained.values()), data)
    if chosen != data:
        notes.append(
            f"volumes are normalised with {chosen} (the models'), not data.normalisation {data}"
        )
    return chosen


def _fields(settings: Mapping[str, Any]) -> set[str]:
    """The dataclass fields of the class a degradation config names (empty if it cannot tell)."""
    try:
        cls = hydra.utils.get_class(str(settings.get("_target_")))
    except Exception:
        return set()
    return {f.name for f in fields(cls)} if is_dataclass(cls) else set()
