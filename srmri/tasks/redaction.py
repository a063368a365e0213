"""Keep secrets out of what srmri writes: the config tree, logged hyperparameters and reports.

A secret is the value of an environment variable whose name says so (``WANDB_API_KEY``,
``HF_TOKEN``, ``AWS_SECRET_ACCESS_KEY``, ...) or the value of a config key named like one
(``api_key``, ``token``, ``password``, ...). A config that interpolates one, e.g.
``${oc.env:HF_TOKEN}``, would otherwise write it in clear into ``config_tree.log`` and the logger's
files. Hydra's own ``.hydra/`` files keep the interpolation unresolved, so they hold no value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

SECRET_VARIABLE = re.compile(r"API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
SECRET_KEY = re.compile(
    r"(^|_)(api_?key|token|secret|password|passwd|credentials?)($|_)", re.IGNORECASE
)
MASK = "***"
# Shorter values (a "1", a "true") would mask ordinary parts of the config.
MIN_SECRET_LENGTH = 8


def environment_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of the secret-named environment variables, longest first."""
    environ = os.environ if environ is None else environ
    values = {
        value
        for name, value in environ.items()
        if SECRET_VARIABLE.search(name) and len(value) >= MIN_SECRET_LENGTH
    }
    return sorted(values, key=len, reverse=True)


def redact(value: Any, secrets: list[str] | None = None) -> Any:
    """A copy of a plain config (dicts, lists, scalars) with every secret replaced by ``***``."""
    secrets = environment_secrets() if secrets is None else secrets
    if isinstance(value, Mapping):
        return {
            key: MASK
            if SECRET_KEY.search(str(key)) and item not in (None, "")
            else redact(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item, secrets) for item in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
    return value
