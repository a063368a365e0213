"""The prediction task behind ``predict.py``: choose the model, adapt it, super-resolve, report.

The model is ``ckpt_path`` when given; else the shipped model ``pretrained`` (by name); else the
shipped model for ``scale`` (default 2) (:mod:`srmri.pretrained`). With ``adapt.enabled``
(``adapt=true`` on the command line) a copy of it is fine-tuned on each input's own slices before
that input is super-resolved (:mod:`srmri.adapt`).
"""

from __future__ import annotations

import dataclasses
import logging
import typing
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from srmri.adapt import AdaptOptions, adapt_to_input
from srmri.adapt.run import check_save
from srmri.inference.options import PredictOptions
from srmri.inference.paths import plan_outputs
from srmri.inference.predict import predict_file
from srmri.io.checkpoints import load_module
from srmri.io.errors import ConfigError
from srmri.io.plain_values import plain
from srmri.lightning.module import SRModule
from srmri.pretrained import default_for_scale, load_pretrained
from srmri.tasks import batch
from srmri.tasks.batch import batch_keys, run_batch
from srmri.tasks.config_check import check_config

log = logging.getLogger(__name__)

DEFAULT_SCALE = 2
# The keys of conf/predict.yaml: the run's own, every field of PredictOptions and, under
# ``adapt``, every field of AdaptOptions (their types).
PREDICT_KEYS: dict[str, Any] = {
    **batch_keys(PredictOptions, ckpt_path=str | None),
    "pretrained": str | None,
    "scale": int | None,
    "adapt": typing.get_type_hints(AdaptOptions),
}
# ``adapt=true`` on the command line means ``adapt.enabled=true`` (``adapt`` is a node).
SHORTHANDS = {"adapt": "adapt.enabled"}


def options_from_config(cfg: DictConfig) -> PredictOptions:
    """The :class:`PredictOptions` named in ``cfg`` (``conf/predict.yaml``)."""
    return batch.options_from_config(PredictOptions, cfg)


def adapt_options_from_config(cfg: DictConfig) -> AdaptOptions:
    """The :class:`AdaptOptions` of ``cfg.adapt``."""
    values = plain(cfg.get("adapt")) or {}
    fields = {field.name for field in dataclasses.fields(AdaptOptions)}
    return AdaptOptions(**{key: value for key, value in values.items() if key in fields})


def choose_model(cfg: DictConfig) -> tuple[SRModule, str]:
    """The module ``cfg`` names and a description of where it came from.

    ``ckpt_path`` wins over ``pretrained``, which wins over the shipped model for ``scale``.

    Raises:
        ConfigError: ``scale`` differs from the chosen model's, or no shipped model has it.
        MissingFileError, CheckpointError: see :func:`load_module` and :func:`load_pretrained`.
    """
    scale = cfg.get("scale")
    if cfg.get("ckpt_path"):
        if cfg.get("pretrained"):
            log.warning("ckpt_path=%s wins over pretrained=%s", cfg.ckpt_path, cfg.pretrained)
        module, source = load_module(cfg.ckpt_path), str(cfg.ckpt_path)
    else:
        name = cfg.get("pretrained") or default_for_scale(scale or DEFAULT_SCALE)
        module, source = load_pretrained(name), f"shipped model {name}"
    if scale is not None and module.scale != scale:
        raise ConfigError(
            f"scale={scale}: {source} is a x{module.scale} model; drop scale= or choose a "
            f"x{scale} model"
        )
    return module, source


def predict(cfg: DictConfig) -> list[Path]:
    """Super-resolve ``cfg.input`` (file, folder or pattern) into ``cfg.output``; return the outputs.

    The config, every input and every output (and ``adapt.save``) are checked before the model
    is restored or any volume is read. With several inputs, ``cfg.on_error`` says whether a bad
    one stops the run or is skipped (:func:`srmri.tasks.batch.run_batch`).
    """
    check_config(cfg, PREDICT_KEYS)
    options = options_from_config(cfg)
    adapt = adapt_options_from_config(cfg)
    jobs = plan_outputs(cfg.input, cfg.output, options)
    if adapt.enabled:
        if adapt.save and len(jobs) > 1:
            raise ConfigError(
                f"adapt.save={adapt.save}: one adapted model per input, but {len(jobs)} inputs; "
                "adapt.save takes one input"
            )
        check_save(adapt, options.overwrite)
    module, source = choose_model(cfg)
    log.info("restored %s: %s x%d", source, module.hparams.name, module.scale)
    run_dir = Path(cfg.paths.output_dir)

    def work(input: Path, output: Path) -> Path:
        model = module
        if adapt.enabled:
            adapt_dir = run_dir / "adapt" / input.name if len(jobs) > 1 else run_dir / "adapt"
            model = adapt_to_input(input, module, adapt, options, adapt_dir, options.overwrite)
            print(f"{input}: adapted {source} for {model.trained_steps} steps", flush=True)
        return predict_file(input, output, model, options)

    return run_batch(jobs, work, cfg.on_error)
