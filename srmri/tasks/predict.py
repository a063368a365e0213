"""The prediction task behind ``predict.py``: restore the checkpoint, super-resolve, report."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from srmri.inference.options import PredictOptions
from srmri.inference.paths import plan_outputs
from srmri.inference.predict import predict_file
from srmri.io.checkpoints import load_module
from srmri.tasks import batch
from srmri.tasks.batch import batch_keys, run_batch
from srmri.tasks.config_check import check_config

log = logging.getLogger(__name__)

# The keys of conf/predict.yaml: the run's own, and every field of PredictOptions (its types).
PREDICT_KEYS: dict[str, Any] = batch_keys(PredictOptions, ckpt_path=str)


def options_from_config(cfg: DictConfig) -> PredictOptions:
    """The :class:`PredictOptions` named in ``cfg`` (``conf/predict.yaml``)."""
    return batch.options_from_config(PredictOptions, cfg)


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
