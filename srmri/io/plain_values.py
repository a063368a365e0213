"""Turn configs into plain Python containers (dicts, lists, numbers, strings).

Checkpoint hyperparameters must be plain so that ``torch.load(weights_only=True)`` accepts them and
no OmegaConf object (or anything else that unpickles code) travels inside a checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf


def plain(value: Any) -> Any:
    """A deep copy of ``value`` with every OmegaConf node resolved to dicts and lists."""
    if isinstance(value, DictConfig | ListConfig):
        return OmegaConf.to_container(value, resolve=True)
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(item) for item in value]
    return value
