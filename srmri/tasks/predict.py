"""The prediction task behind ``predict.py``: restore the checkpoint, super-resolve, report."""

from __future__ import annotations

import logging
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from srmri.inference.options import PredictOptions
from srmri.inference.paths import plan_outputs
from srmri.inference.predict import predict_file
from srmri.io.checkpoints import load_module
from srmri.tasks.batch import OnError, run_batch
from srmri.tasks.config_check import COMMON_KEYS, check_config

log = logging.getLogger(__name__)

# The keys of conf/predict.yaml: the run's own, and every field of PredictOptions (its types).
PREDICT_KEYS: dict[str, Any] = {
    **COMMON_KEYS,
    "ckpt_path": str,
    "input": str,
    "output": str,
    "on_error": OnError,
    **{
        field.name: typing.get_type_hints(PredictOptions)[field.name]
        for field in fields(PredictOptions)
    },
}


def options_from_config(cfg: DictConfig) -> PredictOptions:
    """The :class:`PredictOptions` named in ``cfg`` (``conf/predict.yaml``)."""
    return PredictOptions(**{field.name: cfg[field.name] for field in fields(PredictOptions)})


def predict(cfg: DictConfig) -> list[Path]:
    """Super-resolve ``cfg.input`` (file, folder or pattern) into ``cfg.output``; return the outputs.

    The config, every input and every output are checked before the checkpoint is restored or
    any volume is read. With several inputs, ``cfg.on_error`` says whether a bad one stops the
    run or is skipped (:func:`srmri.tasks.batch.run_batch`).
    """
    check_config(cfg, PREDICT_KEYS)
    options = options_from_config(cfg)
    jobs = plan_outputs(cfg.input, cfg.output, options)
    module = load_module(cfg.ckpt_path)
    log.info("restored %s: %s x%d", cfg.ckpt_path, module.hparams.name, module.scale)
    return run_batch(
        jobs,
        lambda source, target: predict_file(source, target, module, options),
        cfg.on_error,
    )
