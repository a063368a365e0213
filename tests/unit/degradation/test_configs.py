"""conf/degradation/*.yaml build the classes they name, and the config check names bad keys."""

import re

import pytest
from omegaconf import OmegaConf

from srmri.degradation import BaseDegradation, Degradation, KSpace, SliceProfile, build_degradation
from srmri.io.errors import ConfigError
from srmri.tasks.config_check import check_config
from tests.conftest import ROOT, compose_config


def built(tmp_path, *overrides: str) -> BaseDegradation:
    cfg = compose_config("train", list(overrides), tmp_path / "run")
    check_config(cfg)
    return build_degradation(OmegaConf.to_container(cfg.degradation, resolve=True))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["degradation=seed"], Degradation(2, "seed")),
        (["degradation=thesis_opencv", "data.scale=4"], Degradation(4, "thesis_opencv")),
        (["degradation=seed_rician"], Degradation(2, noise="rician", noise_std=0.02)),
        (["degradation=kspace", "data.scale=3"], KSpace(3)),
        (["degradation=kspace", "degradation.window=tukey"], KSpace(2, window="tukey")),
        (["degradation=slice_profile"], SliceProfile(thickness=4.0, spacing=4.0)),
    ],
)
def test_each_option_builds_its_class(tmp_path, overrides, expected):
    assert built(tmp_path, *overrides) == expected


def test_every_degradation_yaml_names_a_target():
    for path in (ROOT / "conf" / "degradation").glob("*.yaml"):
        text = path.read_text()
        assert "_target_: srmri.degradation." in text or "defaults:" in text, path.name


@pytest.mark.slow
@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("degradation.noise_std=loud", "degradation.noise_std"),
        ("degradation.scale=two", "degradation.scale"),
    ],
)
def test_wrong_types_of_kspace_keys_name_the_key(tmp_path, override, key):
    cfg = compose_config("train", ["degradation=kspace", override], tmp_path / "run")
    with pytest.raises(ConfigError, match=re.escape(f"{key}=")):
        check_config(cfg)


@pytest.mark.slow
def test_a_bad_window_is_refused_with_its_name(tmp_path):
    with pytest.raises(ValueError, match="window must be one of"):
        built(tmp_path, "degradation=kspace", "degradation.window=hann")
