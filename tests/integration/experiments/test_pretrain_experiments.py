"""The shipped models' experiments compose to WDSR-A on data=synth with the seed degradation,
validated on the real T1 slab and synthetic slabs."""

from __future__ import annotations

import pytest
from hydra.utils import instantiate

from srmri.data.sources import SynthSource
from srmri.tasks.config_check import check_config
from srmri.tasks.train import build_module
from tests.conftest import compose_config

EXPERIMENTS = {"pretrain_any_contrast_x2": 2, "pretrain_any_contrast_x4": 4}


@pytest.mark.parametrize(("name", "scale"), EXPERIMENTS.items())
def test_experiment_composes_to_the_default_network_on_synthetic_contrasts(tmp_path, name, scale):
    cfg = compose_config("train", [f"experiment={name}"], tmp_path / "run", name=name)
    check_config(cfg)
    module = build_module(cfg)
    assert cfg.model.name == "wdsr_a" and type(module.network).__name__ == "WDSRA"
    assert module.scale == module.degradation.scale == cfg.data.scale == scale
    assert cfg.degradation.preset == "seed" and cfg.degradation.noise == "none"
    # Every validation runs on freshly generated data: an epoch is whole blocks of batches.
    source = cfg.data.source
    assert cfg.data.samples_per_epoch % (source.refresh_every * cfg.data.batch_size) == 0
    assert cfg.data.patch_size == 24 * scale and cfg.trainer.max_time and cfg.trainer.max_steps > 0
    # Validation: the real T1 slab and synthetic slabs (on the small anatomy, to stay quick).
    source = instantiate(source, downsample=4, eval_contrasts=1, cache_dir=tmp_path / "cache")
    assert isinstance(source, SynthSource) and source.seed == cfg.seed
    val = source.splits()["val"]
    assert [r.contrast for r in val] == ["T1", "synth0"]
    assert {r.slab for r in val} == {val[0].slab}
