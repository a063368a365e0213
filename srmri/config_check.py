"""Checks of a training config that run before any work starts.

Hydra already refuses unknown keys (overrides without ``+``) and the data module, the degradation
and the networks check their own values (scale, patch size, views, ...) and name the key. What is
left is checked here, at the start of :func:`srmri.training.train`:

- types: the numbers and switches a user overrides most are typed by a schema (the dataclasses
  below), so ``data.batch_size=many`` fails with OmegaConf's message and the full key;
- missing values: a ``???`` left in the config (e.g. ``model.pretrained.path`` of
  ``experiment=transfer_edsr_x2``) fails now rather than halfway through a run;
- launches: a multirun cannot drive DDP processes that Lightning starts by re-running the command,
  see :func:`check_launch`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.strategies.launchers import _SubprocessScriptLauncher


@dataclass
class DataSchema:
    scale: int = 2
    patch_size: int = 48
    batch_size: int = 16
    eval_batch_size: int = 8
    num_workers: int = 0
    samples_per_epoch: int = 1024
    min_foreground: float = 0.05
    foreground_level: float = 0.05
    augment: bool = True
    seed: int = 0
    cache_workers: int = 1
    pin_memory: bool = False


@dataclass
class DegradationSchema:
    scale: int = 2
    preset: str = "seed"
    blur_kernel: int = 3
    blur_sigma: float = 1.0
    noise: str = "none"
    noise_std: float = 0.0


@dataclass
class TrainerSchema:
    # Lightning accepts several types for devices, precision and the limit_* keys: left untyped.
    devices: Any = 1
    num_nodes: int = 1
    min_epochs: int | None = None
    max_epochs: int | None = None
    max_steps: int = -1
    check_val_every_n_epoch: int | None = 1
    accumulate_grad_batches: int = 1
    gradient_clip_val: float | None = None
    log_every_n_steps: int = 50
    num_sanity_val_steps: int = 0
    use_distributed_sampler: bool = False
    enable_checkpointing: bool = True
    enable_progress_bar: bool = True
    enable_model_summary: bool = True
    detect_anomaly: bool = False


@dataclass
class RunSchema:
    seed: int = 42
    tags: list[str] = field(default_factory=list)
    ckpt_path: str | None = None
    optimized_metric: str = "val/psnr_best"
    print_config: bool = True
    data: DataSchema = field(default_factory=DataSchema)
    degradation: DegradationSchema = field(default_factory=DegradationSchema)
    trainer: TrainerSchema = field(default_factory=TrainerSchema)


def check_config(cfg: DictConfig) -> None:
    """Raise when ``cfg`` has a value of the wrong type or a missing (``???``) value.

    Raises:
        omegaconf.errors.ValidationError: a value does not convert to its key's type; the
            message names the full key (e.g. ``data.batch_size``) and the value.
        omegaconf.errors.MissingMandatoryValue: a ``???`` value; the message names the key.
    """
    schema = OmegaConf.structured(RunSchema)
    # The schema types the keys it lists and lets every other key through unchanged.
    for node in (schema, schema.data, schema.degradation, schema.trainer):
        OmegaConf.set_struct(node, False)
    checked = OmegaConf.merge(schema, cfg)
    OmegaConf.to_container(checked, resolve=True, throw_on_missing=True)


def check_launch(trainer: pl.Trainer) -> None:
    """Refuse a Hydra multirun whose jobs would start DDP processes by re-running the command.

    Lightning starts the other ranks of ``strategy=ddp`` by running the same command line again;
    inside a multirun that command is the whole sweep, so every rank would run other jobs in other
    directories. Under SLURM (``hydra/launcher=submitit_slurm``) or torchrun the processes are
    started from outside, and a single run (no ``-m``) works as is.
    """
    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return
    strategy = trainer.strategy
    if (
        isinstance(getattr(strategy, "launcher", None), _SubprocessScriptLauncher)
        and not strategy.cluster_environment.creates_processes_externally
        and trainer.world_size > 1
    ):
        raise ValueError(
            f"trainer.strategy=ddp with {trainer.world_size} processes cannot run inside a "
            "multirun (-m, hparams_search): Lightning would start the other ranks by re-running "
            "the whole sweep. Run the jobs one at a time without -m, or use a launcher that "
            "starts the processes (hydra/launcher=submitit_slurm with trainer=ddp)."
        )
