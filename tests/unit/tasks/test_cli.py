"""The entry points' error handling: which errors are expected, and their one line."""

from __future__ import annotations

import logging

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException

from srmri.data import DataError
from srmri.io.errors import CheckpointError
from srmri.tasks.cli import exit_code, log_to_file, one_line
from tests.conftest import ROOT


def test_exit_codes_tell_expected_errors_from_bugs():
    assert exit_code(DataError("x.nii: bad")) == 2
    assert exit_code(CheckpointError("x.ckpt: corrupt")) == 2
    assert exit_code(ValueError("a bug")) == 1
    assert exit_code(KeyError("a bug")) == 1


def test_hydra_unknown_key_is_one_line_naming_the_key():
    with (
        pytest.raises(ConfigCompositionException) as caught,
        initialize_config_dir(str(ROOT / "conf"), version_base="1.3"),
    ):
        compose("predict", ["anything=1"])
    assert exit_code(caught.value) == 2
    assert one_line(caught.value) == "anything: unknown key; --help lists the options"


def test_an_error_from_a_dataloader_worker_is_one_line():
    from torch.utils.data._utils import ExceptionWrapper

    try:
        raise DataError("in/b.nii: 3 NaN/Inf voxels")
    except DataError:
        wrapped = ExceptionWrapper(where="in DataLoader worker process 0")
    with pytest.raises(DataError) as caught:
        wrapped.reraise()
    assert "Traceback" in str(caught.value)
    assert one_line(caught.value) == "in/b.nii: 3 NaN/Inf voxels"


def test_the_traceback_goes_to_the_log_file_only(tmp_path, capsys):
    handler = logging.FileHandler(tmp_path / "run.log")
    logging.getLogger().addHandler(handler)
    try:
        try:
            raise DataError("x.nii: bad")
        except DataError as error:
            log_to_file("predict failed", error)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    text = (tmp_path / "run.log").read_text()
    assert "predict failed" in text and "Traceback" in text and "x.nii: bad" in text
    assert capsys.readouterr().err == ""
