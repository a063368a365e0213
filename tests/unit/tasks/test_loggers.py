"""W&B runs offline unless the user is logged in; checkpoints go up as artifacts only online."""

from __future__ import annotations

import pytest

from srmri.tasks.loggers import resolve_wandb_mode, wandb_credentials_present, wandb_logger


@pytest.fixture
def no_login(tmp_path, monkeypatch):
    """No API key and an empty ~/.netrc."""
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    netrc = tmp_path / "netrc"
    netrc.write_text("")
    monkeypatch.setenv("NETRC", str(netrc))
    return netrc


def test_auto_is_offline_without_a_login(no_login):
    assert not wandb_credentials_present()
    assert resolve_wandb_mode("auto") == "offline"


def test_auto_is_online_after_wandb_login(no_login):
    no_login.write_text("machine api.wandb.ai\n  login user\n  password 0123456789abcdef\n")
    assert wandb_credentials_present()
    assert resolve_wandb_mode("auto") == "online"


def test_an_api_key_logs_in_and_wandb_mode_always_wins(no_login, monkeypatch):
    monkeypatch.setenv("WANDB_API_KEY", "0123456789abcdef")
    assert resolve_wandb_mode("auto") == "online"
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert resolve_wandb_mode("auto") == "offline"
    assert resolve_wandb_mode("online") == "offline"


def test_an_unknown_mode_is_refused(no_login):
    with pytest.raises(ValueError, match=r"logger\.wandb\.mode must be one of"):
        resolve_wandb_mode("cloud")


@pytest.mark.parametrize(("mode", "uploads"), [("offline", False), ("online", True)])
def test_checkpoints_are_artifacts_only_online(no_login, tmp_path, mode, uploads):
    logger = wandb_logger(mode=mode, save_dir=str(tmp_path / "run"), log_model=True)
    assert bool(logger._log_model) is uploads
    assert logger._wandb_init["mode"] == mode
    assert (tmp_path / "run").is_dir()
