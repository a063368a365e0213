"""Print the composed config as a rich tree and save it beside the run, secrets masked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import rich
import rich.syntax
import rich.tree
from omegaconf import DictConfig, OmegaConf

from srmri.io.plain_values import plain
from srmri.tasks.redaction import redact

FIRST = ("data", "degradation", "model", "trainer", "callbacks", "logger", "paths")


def config_tree(cfg: DictConfig, first: Sequence[str] = FIRST) -> rich.tree.Tree:
    """A tree with one branch per top-level key, the main groups first, values resolved."""
    tree = rich.tree.Tree("config", style="dim", guide_style="dim")
    # The hydra node is Hydra's own (saved under .hydra/ in the run directory).
    keys = [k for k in first if k in cfg] + [k for k in cfg if k not in first and k != "hydra"]
    for key in keys:
        branch = tree.add(str(key), style="bold")
        node = cfg[key]
        text = OmegaConf.to_yaml(node, resolve=True) if isinstance(node, DictConfig) else str(node)
        branch.add(rich.syntax.Syntax(text, "yaml"))
    return tree


def print_config(cfg: DictConfig, save_to: Path | None = None) -> None:
    """Print the tree; also write it as text to ``save_to`` when given."""
    tree = config_tree(cfg)
    rich.print(tree)
    if save_to is not None:
        save_to.parent.mkdir(parents=True, exist_ok=True)
        with save_to.open("w") as handle:
            rich.print(tree, file=handle)


def run_config(cfg: DictConfig) -> dict:
    """The run's config as plain values, resolved, without Hydra's node and with every secret
    masked (:mod:`srmri.tasks.redaction`): what may be printed, saved or logged."""
    return redact(plain({key: cfg[key] for key in cfg if key != "hydra"}))


def save_config_tree(cfg: DictConfig, save_to: Path) -> dict:
    """Print :func:`run_config` as a tree and save it as text to ``save_to``; return it."""
    values = run_config(cfg)
    print_config(OmegaConf.create(values), save_to)
    return values
