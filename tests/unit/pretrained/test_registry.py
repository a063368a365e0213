"""Shipped models: the exported file is weights-only and reproduces the checkpoint; a file that is
missing or whose SHA-256 differs from the registry's is refused with its name; nothing is replaced
unasked; the package ships the registry and its weights."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import tomllib
import torch

from srmri.io.checkpoints import load_module
from srmri.io.errors import CheckpointError, ConfigError, MissingFileError, OutputExistsError
from srmri.pretrained import load_pretrained, registry
from srmri.pretrained.export import export, main
from tests.helpers import save_checkpoint, shipped_folder, trainable_module

ROOT = Path(__file__).parents[3]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, Path]:
    """A tiny module whose EMA average differs from its live weights, and its checkpoint."""
    module = trainable_module(seed=3)
    with torch.no_grad():
        for parameter in module.ema.average.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    path = save_checkpoint(module, tmp_path_factory.mktemp("ckpt") / "trained.ckpt")
    return module.eval(), path


@pytest.fixture
def folder(tmp_path: Path, trained) -> Path:
    return shipped_folder(tmp_path / "pretrained", trained[1])


def test_shipped_model_gives_the_checkpoints_ema_outputs(folder, trained):
    module, path = trained
    shipped = load_pretrained("any_contrast_x2", folder=folder)
    lr = torch.rand(3, 1, 20, 17, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = module.ema.average(lr)  # what SRModule validates and predicts with
        assert torch.equal(shipped(lr), expected)
        assert torch.equal(load_module(path)(lr), expected)
        assert not torch.equal(module.network(lr), expected)
    assert shipped.hparams.degradation == module.hparams.degradation
    assert shipped.hparams.normalisation == module.hparams.normalisation


def _plain(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool | torch.Tensor)


def test_shipped_file_is_weights_only_and_registered_with_its_sha256(folder):
    path = folder / "weights" / "any_contrast_x2.pt"
    contents = torch.load(path, map_location="cpu", weights_only=True)
    assert _plain(contents)
    assert contents["scale"] == 2 and contents["srmri_version"]
    assert {k.split(".")[0] for k in contents["state_dict"]} == {"network"}
    assert contents["hyper_parameters"]["ema"] == {"enabled": False}
    entry = json.loads((folder / "registry.json").read_text())["models"]["any_contrast_x2"]
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry["scale"] == 2 and entry["file"] == "any_contrast_x2.pt"
    assert registry.default_for_scale(2, folder) == "any_contrast_x2"


def test_a_changed_byte_is_refused_naming_the_file(folder):
    path = folder / "weights" / "any_contrast_x2.pt"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=f"{path}: SHA-256 .* differs from the registry"):
        load_pretrained("any_contrast_x2", folder=folder)


def test_a_missing_or_unregistered_file_is_refused_naming_it(folder):
    path = folder / "weights" / "any_contrast_x2.pt"
    path.unlink()
    with pytest.raises(MissingFileError, match=f"{path}: weights of the shipped model .*export"):
        load_pretrained("any_contrast_x2", folder=folder)
    with pytest.raises(ConfigError, match="no such shipped model; expected one of"):
        load_pretrained("t2_only", folder=folder)
    with pytest.raises(ConfigError, match="scale=3: no shipped model"):
        registry.default_for_scale(3, folder)


def test_export_never_replaces_a_file_unasked(folder, trained, capsys):
    path = folder / "weights" / "any_contrast_x2.pt"
    before = path.read_bytes()
    with pytest.raises(OutputExistsError, match="--overwrite"):
        export(trained[1], "any_contrast_x2", folder)
    assert main([str(trained[1]), "any_contrast_x2", "--dir", str(folder)]) == 2
    assert "error:" in capsys.readouterr().err
    assert path.read_bytes() == before
    assert main([str(trained[1]), "any_contrast_x2", "--dir", str(folder), "--overwrite"]) == 0
    load_pretrained("any_contrast_x2", folder=folder)


def test_a_x2_checkpoint_cannot_take_a_x4_name(folder, trained):
    json_path = folder / "registry.json"
    contents = json.loads(json_path.read_text())
    contents["models"]["any_contrast_x4"] = {"file": "x4.pt", "sha256": None, "scale": 4}
    json_path.write_text(json.dumps(contents))
    with pytest.raises(CheckpointError, match="x2 network, but the registry's 'any_contrast_x4'"):
        export(trained[1], "any_contrast_x4", folder)
    assert not (folder / "weights" / "x4.pt").exists()


def test_the_package_registers_both_scales_and_ships_weights_and_model_card():
    shipped = registry.entries(ROOT / "srmri" / "pretrained")
    assert {name: entry.scale for name, entry in shipped.items()} == {
        "any_contrast_x2": 2,
        "any_contrast_x4": 4,
    }
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["srmri.pretrained"]
    assert {"registry.json", "weights/*.pt", "MODEL_CARD.md"} <= set(package_data)
