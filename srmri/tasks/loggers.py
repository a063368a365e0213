"""Experiment loggers. W&B runs offline unless the user has configured it to go online."""

from __future__ import annotations

import netrc
import os
from pathlib import Path
from typing import Any

from pytorch_lightning.loggers import WandbLogger

WANDB_HOST = "api.wandb.ai"
MODES = ("auto", "online", "offline", "disabled")


def wandb_credentials_present() -> bool:
    """True when an API key is in the environment or in ~/.netrc (as ``wandb login`` writes it)."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    path = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    try:
        return netrc.netrc(path).authenticators(WANDB_HOST) is not None
    except (OSError, netrc.NetrcParseError):
        return False


def resolve_wandb_mode(mode: str) -> str:
    """The W&B mode to run in: ``WANDB_MODE`` wins; ``auto`` means online only when logged in."""
    if mode not in MODES:
        raise ValueError(f"logger.wandb.mode must be one of {MODES}, got {mode!r}")
    if os.environ.get("WANDB_MODE"):
        return os.environ["WANDB_MODE"]
    if mode == "auto":
        return "online" if wandb_credentials_present() else "offline"
    return mode


def wandb_logger(
    mode: str = "auto", save_dir: str = ".", log_model: bool | str = False, **kwargs: Any
) -> WandbLogger:
    """A Lightning ``WandbLogger`` whose run files live under ``save_dir/wandb``.

    Args:
        mode: ``auto`` (default: offline unless logged in), ``online``, ``offline`` or ``disabled``.
        save_dir: the run directory; created if missing.
        log_model: upload checkpoints as W&B artifacts; only honoured online (offline runs keep
            their checkpoints on disk, in the run directory).
        kwargs: passed to ``WandbLogger`` (project, group, tags, name, log_model, ...).
    """
    resolved = resolve_wandb_mode(mode)
    Path(save_dir).mkdir(parents=True, exist_ok=True)
    online = resolved == "online"
    return WandbLogger(
        save_dir=save_dir,
        offline=not online,
        mode=resolved,
        log_model=log_model if online else False,
        **kwargs,
    )
