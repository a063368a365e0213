"""Config mistakes caught before any data is read or any training step is taken.

Hydra itself refuses unknown keys given on the command line without ``+``. Here, at the start of
:func:`srmri.tasks.train.train`:

- a ``???`` left in the config (e.g. ``model.pretrained.path`` of ``experiment=transfer_edsr_x2``)
  fails now rather than halfway through a run;
- every config node with a ``_target_`` under ``data``, ``model``, ``trainer``, ``callbacks`` and
``logger`` (nested ones included: the network, the trainer's plugins, ...) is checked against the
signature of what it builds. An unknown key, or a value of the wrong type for a parameter
annotated with a plain type (``int``, ``float``, ``bool``, ``str``, optionally ``None``), raises
:class:`~srmri.io.errors.ConfigError` naming the key, as does a value outside its choices for the
few keys listed in :func:`choices` (the scale, the failure policies). Other range checks stay in
the classes themselves, which ``train()`` builds before it loads any data. The ``degradation`` node
is built by the module, not by Hydra, and is checked against its ``_target_`` (one without it, as
written before degradations had one, against :class:`~srmri.degradation.Degradation`); the run's own top-level keys against :data:`RUN_KEYS`;
- :func:`check_launch` refuses a multirun that would start DDP ranks by re-running the command.
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any

import hydra.utils
import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue

from srmri.io.errors import ConfigError

GROUPS = ("data", "model", "trainer", "callbacks", "logger")
HYDRA_KEYS = {"_target_", "_partial_", "_recursive_", "_convert_", "_args_"}
PLAIN_TYPES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
# Nodes built by srmri itself rather than by Hydra: checked against what they build.
UNTARGETED = {"degradation": "srmri.degradation.Degradation"}
RUN_KEYS = {"seed": int, "print_config": bool, "optimized_metric": str}


def choices() -> dict[str, tuple]:
    """Keys whose value must be one of a few, with the allowed values (from their own modules)."""
    from srmri.callbacks.nonfinite import POLICIES
    from srmri.degradation import SCALES
    from srmri.io.checkpoints import ON_ERROR

    return {
        "data.scale": SCALES,
        "degradation.scale": SCALES,
        "model.network.scale": SCALES,
        "callbacks.nan_guard.policy": POLICIES,
        "trainer.plugins.on_error": ON_ERROR,
    }


def check_config(cfg: DictConfig) -> None:
    """Raise :class:`ConfigError` on an unknown key, a wrongly typed value or a value outside its
    choices (see the module doc)."""
    _check_missing(cfg)
    for key, kind in RUN_KEYS.items():
        if key in cfg and not _matches(cfg[key], kind):
            raise ConfigError(f"{key}={cfg[key]!r}: expected {_describe(kind)}")
    for group in GROUPS:
        node = cfg.get(group)
        if node is not None:
            _check_tree(node, group)
    for group, target in UNTARGETED.items():
        node = cfg.get(group)
        if node is not None:
            resolved = OmegaConf.to_container(node, resolve=True)
            # A node's own _target_ wins; one without it means the class it always built.
            _check_target(OmegaConf.create({"_target_": target, **resolved}), group)
    for key, allowed in choices().items():
        value = OmegaConf.select(cfg, key, default=None)
        if value is not None and value not in allowed:
            raise ConfigError(f"{key}={value!r}: expected one of {allowed}")


def _check_missing(cfg: DictConfig) -> None:
    """Raise :class:`ConfigError` naming the first ``???`` value (Hydra's own node aside)."""
    for key in cfg:
        if key == "hydra":
            continue
        try:
            node = cfg[key]
            if isinstance(node, DictConfig | ListConfig):
                OmegaConf.to_container(node, resolve=True, throw_on_missing=True)
        except MissingMandatoryValue as error:
            full_key = error.full_key or key
            raise ConfigError(
                f"{full_key}: a value is required (it is ??? in the config); "
                f"set it on the command line, e.g. {full_key}=..."
            ) from None


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
    launcher = getattr(strategy, "launcher", None)
    # Only forked processes inherit this job as it is; the others (the re-run of the command line,
    # or a fresh interpreter) start from the command line or would re-pickle the sweep.
    if (
        launcher is not None
        and not launcher.is_interactive_compatible
        and not strategy.cluster_environment.creates_processes_externally
        and trainer.world_size > 1
    ):
        raise ConfigError(
            f"trainer.strategy=ddp with {trainer.world_size} processes cannot run inside a "
            "multirun (-m, hparams_search): Lightning would start the other ranks by re-running "
            "the whole sweep. Run the jobs one at a time without -m, or use a launcher that "
            "starts the processes (hydra/launcher=submitit_slurm with trainer=ddp)."
        )


def _check_tree(node: Any, key: str) -> None:
    if isinstance(node, DictConfig):
        if "_target_" in node:
            _check_target(node, key)
        for child in node:
            if child not in HYDRA_KEYS:
                _check_tree(node._get_node(child), f"{key}.{child}")
    elif isinstance(node, ListConfig):
        for index in range(len(node)):
            _check_tree(node._get_node(index), f"{key}.{index}")


def _check_target(node: DictConfig, key: str) -> None:
    name = node._target_
    try:
        target = hydra.utils.get_object(name)
    except Exception as error:
        raise ConfigError(f"{key}._target_={name!r} cannot be imported: {error}") from None
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return
    parameters = signature.parameters
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    hints = _type_hints(target)
    for child in node:
        if child in HYDRA_KEYS:
            continue
        if child not in parameters:
            if open_ended:
                continue
            known = sorted(p for p in parameters if p not in ("self", "args", "kwargs"))
            raise ConfigError(f"{key}.{child}: unknown key for {name}; expected one of {known}")
        expected = hints.get(child)
        value = node[child]
        if expected is not None and not _matches(value, expected):
            raise ConfigError(
                f"{key}.{child}={value!r}: expected {_describe(expected)} (parameter of {name})"
            )


def _type_hints(target: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(target.__init__ if inspect.isclass(target) else target)
    except Exception:
        # Annotations that do not resolve at run time are simply not type-checked.
        return {}


def _plain_members(annotation: Any) -> tuple[type, ...] | None:
    """The members of a plain annotation (``int``, ``float | None``, ...); None for anything else."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = typing.get_args(annotation)
    else:
        members = (annotation,)
    if all(member in PLAIN_TYPES or member is type(None) for member in members):
        return members
    return None


def _matches(value: Any, annotation: Any) -> bool:
    members = _plain_members(annotation)
    if members is None:
        return True
    if value is None:
        return type(None) in members
    if isinstance(value, bool):
        return bool in members
    if isinstance(value, int):
        return int in members or float in members
    if isinstance(value, float):
        return float in members
    if isinstance(value, str):
        return str in members
    return False


def _describe(annotation: Any) -> str:
    members = _plain_members(annotation) or ()
    words = [PLAIN_TYPES[m] for m in members if m in PLAIN_TYPES]
    if type(None) in members:
        words.append("null")
    return " or ".join(words)
