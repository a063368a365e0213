"""The prediction task behind ``predict.py``: restore the checkpoint, super-resolve, report."""

from __future__ import annotations

import logging
from dataclasses import fields
from pathlib import Path

from omegaconf import DictConfig

from srmri.inference.options import PredictOptions
from srmri.inference.paths import plan_outputs
from srmri.inference.predict import predict_file
from srmri.io.checkpoints import load_module

log = logging.getLogger(__name__)


def options_from_config(cfg: DictConfig) -> PredictOptions:
    """The :class:`PredictOptions` named in ``cfg`` (``conf/predict.yaml``)."""
    return PredictOptions(**{field.name: cfg[field.name] for field in fields(PredictOptions)})


def predict(cfg: DictConfig) -> list[Path]:
    """Super-resolve ``cfg.input`` (file, folder or pattern) into ``cfg.output``; return the outputs.

    Every input and output is checked before the checkpoint is restored or any volume is read.
    """
    options = options_from_config(cfg)
    jobs = plan_outputs(cfg.input, cfg.output, options)
    module = load_module(cfg.ckpt_path)
    log.info("restored %s: %s x%d", cfg.ckpt_path, module.hparams.name, module.scale)
    outputs = []
    for source, target in jobs:
        outputs.append(predict_file(source, target, module, options))
        log.info("%s -> %s", source, target)
    return outputs
