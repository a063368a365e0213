"""The task behind ``isotropic.py``: check every input and output, then make each isotropic."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from srmri.inference.paths import plan_outputs
from srmri.io.checkpoints import load_module
from srmri.isotropic.options import IsotropicOptions
from srmri.isotropic.run import isotropic_file
from srmri.tasks import batch
from srmri.tasks.batch import batch_keys, run_batch
from srmri.tasks.config_check import check_config

log = logging.getLogger(__name__)

# The keys of conf/isotropic.yaml: the run's own, and every field of IsotropicOptions (its types).
ISOTROPIC_KEYS: dict[str, Any] = batch_keys(IsotropicOptions, ckpt_path=str | None)


def options_from_config(cfg: DictConfig) -> IsotropicOptions:
    """The :class:`IsotropicOptions` named in ``cfg`` (``conf/isotropic.yaml``)."""
    return batch.options_from_config(IsotropicOptions, cfg)


def isotropic(cfg: DictConfig) -> list[Path]:
    """Make ``cfg.input`` (file, folder or pattern) isotropic into ``cfg.output``.

    Every input and output is checked before a checkpoint is restored or a volume is read. Each
    input trains its own network in the run directory (``<run>/checkpoints/last.ckpt``, W&B under
    ``<run>/wandb``; ``<run>/<input name>/`` with several inputs) unless ``ckpt_path`` is given.
    With several inputs, ``cfg.on_error`` says whether a bad one stops the run or is skipped
    (:func:`srmri.tasks.batch.run_batch`).
    """
    check_config(cfg, ISOTROPIC_KEYS)
    options = options_from_config(cfg)
    jobs = plan_outputs(cfg.input, cfg.output, options)
    module = None
    if cfg.get("ckpt_path") and options.method == "srmri":
        module = load_module(cfg.ckpt_path)
        log.info("restored %s", cfg.ckpt_path)
    run_dir = Path(cfg.paths.output_dir)

    def make_isotropic(source: Path, target: Path) -> Path:
        run = run_dir / source.name if len(jobs) > 1 else run_dir
        report = isotropic_file(source, target, options, module, run)
        a = report.acquisition
        print(
            f"{source} -> {target}: slice axis {a.axis}, k = {a.factor:.3g} "
            f"({a.spacing:g} mm slices, {a.thickness:g} mm thick, {a.in_plane:g} mm in-plane), "
            f"{a.slices} -> {a.thin_slices} slices of {a.thin_spacing:.4g} mm; method {report.method}"
            + (f", {report.steps} training steps" if report.steps else "")
            + f"; train {report.train_seconds:.0f} s, apply {report.apply_seconds:.0f} s"
        )
        return target

    outputs = run_batch(jobs, make_isotropic, cfg.on_error)
    if module is None and options.method == "srmri":
        print(f"run directory: {run_dir}")
    return outputs
