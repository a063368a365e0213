"""Every task checks its whole config before any work (unknown keys, types, choices, ???) and
writes its config tree with secrets masked: evaluate and predict as train does."""

from __future__ import annotations

from pathlib import Path

import pytest

from srmri.data import SRDataModule
from srmri.io.errors import ConfigError
from srmri.tasks.evaluate import evaluate
from srmri.tasks.predict import predict
from srmri.tasks.train import train
from tests.conftest import TINY_TRAIN, compose_config

SECRET = "s3cr3t-value-of-a-token"


@pytest.fixture
def no_work(monkeypatch):
    """Any data preparation or checkpoint reading fails the test: the config check comes first."""

    def refuse(*args, **kwargs):
        raise AssertionError("work started before the config was checked")

    monkeypatch.setattr(SRDataModule, "prepare_data", refuse)
    monkeypatch.setattr(SRDataModule, "setup", refuse)
    monkeypatch.setattr("srmri.tasks.predict.load_module", refuse)
    monkeypatch.setattr("srmri.tasks.predict.plan_outputs", refuse)
    monkeypatch.setattr("srmri.tasks.evaluate.build_comparison", refuse)
    monkeypatch.setattr("srmri.tasks.evaluate.check_output_dir", refuse)


def predict_config(tmp_path: Path, *overrides: str):
    inputs = ["ckpt_path=model.ckpt", "input=lr.nii.gz", "output=sr.nii.gz"]
    return compose_config("predict", [*inputs, *overrides], tmp_path / "run", "default")


def evaluate_config(tmp_path: Path, *overrides: str):
    return compose_config("evaluate", ["model=bicubic", *overrides], tmp_path / "run", "study")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["+anything=1"], r"^anything: unknown key for predict"),
        (["+paths.other=x"], r"^paths\.other: unknown key for predict"),
        (["batch_size=many"], r"^batch_size='many': expected an integer"),
        (["tile=1.5"], r"^tile=1\.5: expected an integer or null"),
        (["on_error=ignore"], r"^on_error='ignore': expected one of \('stop', 'skip'\)"),
        (["view=oblique"], r"^view='oblique': expected one of"),
        (["input=???"], r"^input: a value is required"),
    ],
)
def test_predict_refuses_a_bad_config_before_any_work(tmp_path, no_work, overrides, message):
    with pytest.raises(ConfigError, match=message):
        predict(predict_config(tmp_path, *overrides))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["+anything=1"], r"^anything: unknown key for evaluate"),
        (["+rotation.order=3"], r"^rotation\.order: unknown key for evaluate"),
        (["overwrite=maybe"], r"^overwrite='maybe': expected true or false"),
        (["figures.zoom=big"], r"^figures\.zoom='big': expected a number"),
        (["rotation.interpolation=cubic"], r"^rotation\.interpolation='cubic': expected one of"),
        (["angles=[0,360]"], r"^angles=.*: expected distinct angles"),
    ],
)
def test_evaluate_refuses_a_bad_config_before_any_work(tmp_path, no_work, overrides, message):
    with pytest.raises(ConfigError, match=message):
        evaluate(evaluate_config(tmp_path, *overrides))


def test_train_refuses_a_key_it_does_not_read(tmp_path, no_work):
    cfg = compose_config("train", [*TINY_TRAIN, "logger=csv", "+anything=1"], tmp_path / "run")
    with pytest.raises(ConfigError, match=r"^anything: unknown key for train"):
        train(cfg)


def test_evaluate_masks_secrets_in_its_config_tree(tmp_path, monkeypatch):
    monkeypatch.setenv("SRMRI_TEST_API_TOKEN", SECRET)
    report = tmp_path / "report"
    report.mkdir()
    (report / "report.md").write_text("a previous report")
    cfg = evaluate_config(
        tmp_path, "tags=[${oc.env:SRMRI_TEST_API_TOKEN}]", f"output_dir={report}", "angles=[0]"
    )
    # The previous report stops the run after the config tree is written.
    with pytest.raises(FileExistsError, match="holds a previous report"):
        evaluate(cfg)
    tree = (tmp_path / "run" / "config_tree.log").read_text()
    assert SECRET not in tree
    assert "***" in tree
