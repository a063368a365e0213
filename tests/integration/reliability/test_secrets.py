"""Secrets from the environment never reach the files of a run, W&B's included."""

from __future__ import annotations

import re
import secrets

import pytest

from srmri.tasks.redaction import MASK
from tests.integration.reliability.conftest import run_train


@pytest.mark.slow
def test_no_run_file_holds_the_wandb_key_or_another_environment_secret(tmp_path):
    api_key, token = secrets.token_hex(20), "tok-" + secrets.token_hex(12)
    logs = tmp_path / "logs"
    result = run_train(
        logs,
        "trainer.max_epochs=1",
        "logger=wandb",
        # A config that reads a secret from the environment, as custom sources or loggers may
        # (a key the run does not read, such as +notes=..., is refused by the config check).
        "paths.data_dir=${oc.env:SOME_TOKEN}",
        WANDB_API_KEY=api_key,
        SOME_TOKEN=token,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    files = [path for path in logs.rglob("*") if path.is_file()]
    assert any("wandb" in path.parts for path in files)
    for secret in (api_key, token):
        assert secret not in result.stdout
        leaks = [path.relative_to(logs) for path in files if secret.encode() in path.read_bytes()]
        assert leaks == []
    # The interpolated secret did reach the config: masked.
    tree = next(path for path in files if path.name == "config_tree.log").read_text()
    assert re.search(rf"data_dir\W+{re.escape(MASK)}", tree)
