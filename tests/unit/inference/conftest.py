"""Fixtures for the prediction tests: the tiny and bicubic modules, their checkpoint, the default network.

Synthetic volumes and affines are in ``tests/volumes.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from srmri.lightning.module import SRModule
from tests import helpers
from tests.helpers import SCALE


@pytest.fixture(scope="session")
def tiny_module() -> SRModule:
    return helpers.tiny_module().eval()


@pytest.fixture(scope="session")
def bicubic_module() -> SRModule:
    return helpers.tiny_module(kind="bicubic", name="bicubic").eval()


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, tiny_module: SRModule) -> Path:
    return helpers.save_checkpoint(tiny_module, tmp_path_factory.mktemp("ckpt") / "tiny.ckpt")


def default_network(scale: int = SCALE) -> torch.nn.Module:
    """The network of ``conf/model/wdsr_a.yaml`` (the default model), randomly initialised."""
    config = OmegaConf.load(Path(__file__).parents[3] / "conf" / "model" / "wdsr_a.yaml")
    network = OmegaConf.to_container(config.network, resolve=False)
    network["scale"] = scale
    torch.manual_seed(0)
    return instantiate(network).eval()
