"""Secret keys and secret values from the environment are masked anywhere in a config."""

from __future__ import annotations

import secrets

from srmri.tasks.redaction import MASK, environment_secrets, redact


def test_redact_masks_secret_keys_and_secret_values_anywhere_in_a_config():
    token = "hf_" + secrets.token_hex(16)
    environ = {"HF_TOKEN": token, "WANDB_API_KEY": "k" * 40, "HOME": "/home/user", "PIN": "1"}
    found = environment_secrets(environ)
    assert found == ["k" * 40, token]
    config = {
        "data": {"url": f"https://host/?t={token}", "api_key": "literal-value", "token": None},
        "tags": ["a", token],
        "seed": 42,
        "home": "/home/user",
    }
    assert redact(config, found) == {
        "data": {"url": f"https://host/?t={MASK}", "api_key": MASK, "token": None},
        "tags": ["a", MASK],
        "seed": 42,
        "home": "/home/user",
    }
