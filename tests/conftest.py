"""Shared test settings and fixtures: no network, no writes to the user's home, tiny runs.

Configs are composed by :func:`benchmarks.common.compose` (the one Hydra compose helper of the
project); :func:`compose_config` adds what a Hydra run would fill in. Tiny modules and checkpoints
come from ``tests/helpers.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from hypothesis import settings as hypothesis_settings
from omegaconf import DictConfig

from benchmarks.common import CONF, ROOT, compose
from srmri.data import SRDataModule, Volume
from srmri.data.sources import Mni152Source
from tests.helpers import save_checkpoint, tiny_module

__all__ = [
    "CONF",
    "EXPERIMENTS",
    "ROOT",
    "TINY_NETWORK",
    "TINY_RUN",
    "TINY_TRAIN",
    "compose_config",
]

EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))

# Offline W&B and a private cache for every test (and every subprocess a test starts).
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")

# CI runs every property test on the same examples (derived from the test, not from a random seed),
# so a failure there is reproducible and a green run does not depend on luck.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

# The one tiny training run, in two parts: the network (one block of 8 features; a model without
# blocks, such as bicubic, takes the run alone) and the run (one epoch of 8 steps of 4 patches of
# 24 x 24, two validation batches of 4 slices, no progress bar). A train.py run of TINY_TRAIN takes
# seconds on 2 CPU cores; a test adds only what it is about (the logger, the model, ...).
TINY_NETWORK = ["model.network.n_blocks=1", "model.network.n_feats=8"]
TINY_RUN = [
    "data.samples_per_epoch=32",
    "data.batch_size=4",
    "data.eval_batch_size=4",
    "data.patch_size=24",
    "trainer.max_epochs=1",
    "trainer.limit_val_batches=2",
    "trainer.enable_progress_bar=false",
]
TINY_TRAIN = TINY_NETWORK + TINY_RUN


def compose_config(
    config_name: str,
    overrides: list[str],
    output_dir: Path,
    name: str | None = "demo",
    as_run: bool = False,
) -> DictConfig:
    """``conf/<config_name>.yaml`` as the command line would compose it, run into ``output_dir``.

    There is no Hydra run directory or experiment choice to read, so the run directory is
    ``output_dir`` (its ``logs`` folder beside it) and the experiment is ``name``; with
    ``name=None`` and ``as_run`` the experiment choice is read from the installed Hydra config.
    """
    paths = [f"paths.output_dir={output_dir}", f"paths.log_dir={output_dir.parent / 'logs'}"]
    if name is not None:
        paths.append(f"experiment_name={name}")
    return compose(config_name, [*paths, *overrides], as_run=as_run)


@pytest.fixture(scope="session", autouse=True)
def srmri_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache (MNI152 NIfTI files) for the whole session, outside the user's home.

    Set as ``SRMRI_CACHE_DIR``, so composed configs (``paths.cache_dir``) and every ``train.py``,
    ``evaluate.py`` or ``predict.py`` a test starts use it too.
    """
    cache = Path(os.environ.get("SRMRI_CACHE_DIR") or tmp_path_factory.mktemp("srmri-cache"))
    os.environ["SRMRI_CACHE_DIR"] = str(cache)
    return cache


@pytest.fixture(scope="session")
def mni_volume(srmri_cache: Path) -> Volume:
    """The demo's test volume (a slab of the MNI152 template, normalised, with its brain mask)."""
    return SRDataModule(Mni152Source(srmri_cache)).volumes("test")[0]


@pytest.fixture
def compose_train(tmp_path: Path) -> Callable[..., DictConfig]:
    """``compose_train(*overrides, name="demo", run="run")``: the training config as ``train.py``
    would get it, run into ``tmp_path/<run>``."""

    def make(*overrides: str, name: str = "demo", run: str = "run") -> DictConfig:
        return compose_config("train", list(overrides), tmp_path / run, name=name)

    return make


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Tiny networks run fastest on one thread; two spin against each other on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def make_checkpoint(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``make_checkpoint(name, kind, scale, seed, **module_overrides)`` saves a tiny
    module (:func:`tests.helpers.tiny_module`; ``kind="bicubic"`` for the interpolation
    baseline) as Lightning writes a checkpoint, under ``tmp_path/checkpoints``."""

    def make(
        name: str = "tiny", kind: str = "wdsr", scale: int = 2, seed: int = 0, **overrides
    ) -> Path:
        module = tiny_module(kind=kind, scale=scale, seed=seed, name=name, **overrides)
        return save_checkpoint(module, tmp_path / "checkpoints" / f"{name}-{seed}.ckpt")

    return make


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``gpu`` are skipped without CUDA, with the reason in the summary (``-ra``)."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
