"""Shared test settings: no network, no writes to the user's home, tiny Hydra configs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

ROOT = Path(__file__).resolve().parents[1]

# Offline W&B and a private cache for every test (and every subprocess a test starts).
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")

# CI runs every property test on the same examples (derived from the test, not from a random seed),
# so a failure there is reproducible and a green run does not depend on luck.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

# Small enough that a whole train -> validate -> checkpoint run takes seconds on 2 CPU cores.
TINY_NETWORK = ["model.network.n_blocks=1", "model.network.n_feats=8", "model.network.expansion=2"]
TINY_RUN = [
    "data.samples_per_epoch=32",
    "data.batch_size=4",
    "data.patch_size=24",
    "data.eval_batch_size=4",
    "trainer.max_epochs=1",
    "trainer.limit_val_batches=2",
    "trainer.enable_progress_bar=false",
    "model.images.every_n_epochs=1",
    "model.images.n_slices=2",
]
TINY_TRAIN = TINY_NETWORK + TINY_RUN


@pytest.fixture(scope="session", autouse=True)
def srmri_cache(tmp_path_factory) -> Path:
    """One cache (MNI152 NIfTI files) for the whole session, outside the user's home."""
    cache = Path(os.environ.get("SRMRI_CACHE_DIR") or tmp_path_factory.mktemp("srmri-cache"))
    os.environ["SRMRI_CACHE_DIR"] = str(cache)
    return cache


@pytest.fixture(scope="session")
def mni_cache(srmri_cache: Path) -> Path:
    """The cache the tests that load the MNI152 template share (written once per session)."""
    return srmri_cache


def compose_config(config_name: str, overrides: list[str], output_dir: Path, name: str = "demo"):
    """Compose ``conf/<config_name>.yaml`` as the command line would, outside a Hydra run.

    There is no Hydra run directory or experiment choice to read, so both are given.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose(
            config_name=config_name,
            overrides=[
                f"paths.output_dir={output_dir}",
                f"paths.log_dir={output_dir.parent / 'logs'}",
                f"experiment_name={name}",
                *overrides,
            ],
        )
