"""Fine-tuning from a shipped model: ``model.pretrained`` with format ``srmri`` starts the network
from the shipped file's inference weights (its EMA average), and a mismatched network is refused
naming the file."""

from __future__ import annotations

import pytest
import torch

from srmri.models.transfer import build_network
from tests.helpers import save_checkpoint, shipped_folder, trainable_module


def test_a_network_starts_from_the_shipped_models_inference_weights(tmp_path, monkeypatch):
    module = trainable_module(seed=5)
    with torch.no_grad():
        for parameter in module.ema.average.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    folder = shipped_folder(tmp_path / "pretrained", save_checkpoint(module, tmp_path / "a.ckpt"))
    monkeypatch.setenv("SRMRI_PRETRAINED_DIR", str(folder))
    pretrained = {"path": "any_contrast_x2", "format": "srmri", "mode": "adapted"}
    network = build_network(module.hparams.network, pretrained)
    expected = module.ema.average.state_dict()  # what the shipped model predicts with
    got = network.state_dict()
    assert got.keys() == expected.keys()
    assert all(torch.equal(got[k], expected[k]) for k in expected)
    # Restoring a checkpoint builds the structure without reading the file.
    monkeypatch.setenv("SRMRI_PRETRAINED_DIR", str(tmp_path / "nowhere"))
    build_network(module.hparams.network, pretrained, load_weights=False)


def test_a_network_that_does_not_fit_the_file_is_refused_naming_it(tmp_path, monkeypatch):
    module = trainable_module(seed=5)
    folder = shipped_folder(tmp_path / "pretrained", save_checkpoint(module, tmp_path / "a.ckpt"))
    monkeypatch.setenv("SRMRI_PRETRAINED_DIR", str(folder))
    other = {**module.hparams.network, "n_feats": module.hparams.network["n_feats"] * 2}
    pretrained = {"path": "any_contrast_x2", "format": "srmri", "mode": "adapted"}
    with pytest.raises(ValueError, match=r"any_contrast_x2\.pt does not fit"):
        build_network(other, pretrained)


def test_the_finetune_experiment_starts_from_the_shipped_x2_model(tmp_path):
    from srmri.pretrained import load_pretrained
    from srmri.tasks.train import build_module
    from tests.conftest import compose_config

    cfg = compose_config("train", ["experiment=finetune_any_contrast"], tmp_path / "run")
    module = build_module(cfg)
    module.load_pretrained_weights()  # what a fresh fit does first
    shipped = load_pretrained("any_contrast_x2").inference_network.state_dict()
    for weights in (module.network.state_dict(), module.ema.average.state_dict()):
        assert all(torch.equal(weights[k], shipped[k]) for k in shipped)
