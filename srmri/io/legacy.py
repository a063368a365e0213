"""Checkpoints written by earlier srmri versions keep loading.

A checkpoint stores its network, optimiser and schedule as configs whose ``_target_`` is a dotted
path. When a class or function moves, the old path is mapped to the new one here, once, as the
checkpoint's hyperparameters are read; nothing else in srmri knows the old names.
"""

from __future__ import annotations

from typing import Any

# Old module prefix -> new one (0.1.0 kept the schedules and the module at the package root).
MOVED_MODULES = {
    "srmri.optim.": "srmri.lightning.schedules.",
    "srmri.module.": "srmri.lightning.module.",
}


def upgrade_targets(value: Any) -> Any:
    """``value`` with every ``_target_`` of a moved module rewritten to its current path."""
    if isinstance(value, dict):
        return {
            key: _upgrade(item) if key == "_target_" else upgrade_targets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [upgrade_targets(item) for item in value]
    return value


def _upgrade(target: Any) -> Any:
    if isinstance(target, str):
        for old, new in MOVED_MODULES.items():
            if target.startswith(old):
                return new + target[len(old) :]
    return target


# Before degradations became an open family (srmri 0.1.0), a checkpoint's degradation was the
# keyword arguments of the preset class alone, without a _target_.
LEGACY_DEGRADATION = "srmri.degradation.Degradation"


def upgrade_degradation(config: Any) -> Any:
    """A degradation config with its ``_target_``: an untargeted one (srmri 0.1.0 checkpoints,
    ``{'scale': 2, 'preset': 'seed', ...}``) names the image presets' class, which it always meant."""
    if isinstance(config, dict) and "_target_" not in config:
        return {"_target_": LEGACY_DEGRADATION, **config}
    return upgrade_targets(config)
