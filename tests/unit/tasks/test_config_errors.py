"""Config mistakes fail before any data is read, any file is written or any step is taken."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig

from srmri.data import SRDataModule
from srmri.io.errors import ConfigError
from srmri.tasks.config_check import check_config
from srmri.tasks.train import train
from tests.conftest import ROOT, compose_config


def composed(root: Path, *overrides: str) -> DictConfig:
    """The train config as train.py composes it, its run, logs and cache inside ``root``."""
    paths = [f"paths.cache_dir={root / 'cache'}", *overrides]
    return compose_config("train", paths, root / "run", name=None, as_run=True)


@pytest.fixture
def no_data_loading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("data were prepared or loaded before the config error was raised")

    monkeypatch.setattr(SRDataModule, "prepare_data", refuse)
    monkeypatch.setattr(SRDataModule, "setup", refuse)


@pytest.mark.parametrize(
    ("override", "error", "message"),
    [
        ("data.scale=5", ConfigError, r"data\.scale=5: expected one of \(2, 3, 4\)"),
        (
            "data.batch_size=sixteen",
            ConfigError,
            r"data\.batch_size='sixteen': expected an integer",
        ),
        ("trainer.max_epochs=1.5", ConfigError, r"trainer\.max_epochs=1\.5: expected an integer"),
        ("model.channels_last=maybe", ConfigError, r"model\.channels_last='maybe': expected true"),
        ("+data.patch=24", ConfigError, r"data\.patch: unknown key for srmri\.data\.SRDataModule"),
        ("+model.network.blocks=4", ConfigError, r"model\.network\.blocks: unknown key"),
        ("callbacks.nan_guard.policy=ignore", ConfigError, r"policy=\'ignore\': expected one of"),
        ("trainer.plugins.on_error=retry", ConfigError, r"on_error=\'retry\': expected one of"),
        ("resume=nowhere", ConfigError, r"resume='nowhere': expected 'latest'"),
    ],
)
def test_a_bad_value_or_key_fails_before_any_work(
    tmp_path, no_data_loading, override, error, message
):
    cfg = composed(tmp_path, "logger=csv", override)
    with pytest.raises(error, match=message):
        train(cfg)
    assert not (tmp_path / "cache").exists()
    assert not (tmp_path / "run" / "checkpoints").exists()
    assert not (tmp_path / "run" / "csv").exists()


def test_a_key_unknown_to_the_config_tree_is_refused_by_hydra(tmp_path):
    with pytest.raises(ConfigCompositionException, match=r"data\.patch"):
        composed(tmp_path, "data.patch=24")


def group_options() -> list[str]:
    return [
        f"{group}={path.stem}"
        for group in ("data", "degradation", "model", "trainer", "logger", "debug", "experiment")
        for path in sorted((ROOT / "conf" / group).glob("[!_]*.yaml"))
    ] + [
        f"model/scheduler={path.stem}"
        for path in sorted((ROOT / "conf/model/scheduler").glob("*.yaml"))
    ]


@pytest.mark.parametrize("choice", group_options())
def test_every_shipped_config_passes_the_check(tmp_path, choice):
    # The transfer experiment asks for the user's weight file (a ??? in the config).
    extra = ["model.pretrained.path=edsr_x2.pt"] if choice == "experiment=transfer_edsr_x2" else []
    check_config(composed(tmp_path, choice, *extra))
