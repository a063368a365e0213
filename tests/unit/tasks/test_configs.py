"""Every experiment and every option of the run groups composes, checks and instantiates; bad
configs fail before any work, naming the key."""

from __future__ import annotations

import re

import pytest
from hydra.errors import ConfigCompositionException, InstantiationException
from hydra.utils import instantiate
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger, WandbLogger

from benchmarks.common import compose
from srmri.io.errors import ConfigError
from srmri.tasks.config_check import check_config
from srmri.tasks.train import build_module, instantiate_group, train
from tests.conftest import EXPERIMENTS

# 1-channel EDSR full at x2 (32 blocks, 256 features): the published count for the study's network.
EDSR_FULL_X2_PARAMETERS = 40_720_385


def test_the_study_and_its_future_work_each_have_an_experiment():
    assert {"demo", "thesis_edsr_x2", "thesis_wdsr_x4", "transfer_edsr_x2"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_composes_checks_and_instantiates(compose_train, tmp_path, name):
    overrides = [f"experiment={name}"]
    if name.startswith("transfer"):
        # The weight file is only read when a fit starts; building the network needs its path.
        overrides.append(f"model.pretrained.path={tmp_path / 'edsr_x2.pt'}")
    cfg = compose_train(*overrides, name=name)
    check_config(cfg)
    datamodule = instantiate(cfg.data)
    module = build_module(cfg)
    callbacks = instantiate_group(cfg.callbacks)
    loggers = instantiate_group(cfg.logger)
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers)

    scale = re.search(r"_x(\d)", name)
    if scale:  # the scale the experiment's name promises
        assert datamodule.scale == module.scale == module.degradation.scale == int(scale[1])
    assert datamodule.patch_size % datamodule.scale == 0
    if "edsr" in name:
        assert sum(p.numel() for p in module.network.parameters()) == EDSR_FULL_X2_PARAMETERS
    (wandb,) = loggers
    assert isinstance(wandb, WandbLogger)
    assert wandb._wandb_init["group"] == name
    assert set(wandb._wandb_init["tags"]) == set(cfg.tags) and cfg.tags
    (checkpoint,) = [c for c in trainer.callbacks if isinstance(c, ModelCheckpoint)]
    assert checkpoint.monitor == "val/psnr" and checkpoint.mode == "max" and checkpoint.save_last


def test_the_default_run_is_the_demo(compose_train):
    cfg = compose_train()
    assert cfg.tags == ["demo"] and cfg.model.name == "wdsr_a"
    assert cfg.logger.wandb.mode == "auto" and cfg.seed == 42


@pytest.mark.parametrize(
    ("group", "option"),
    [("trainer", t) for t in ("default", "cpu", "gpu", "ddp", "ddp_sim")]
    + [("logger", lg) for lg in ("wandb", "csv", "tensorboard", "none")]
    + [("debug", d) for d in ("fast_dev_run", "overfit", "limit", "profiler")]
    + [("hparams_search", "optuna")],
)
def test_every_option_of_the_run_groups_composes_and_checks(compose_train, group, option):
    cfg = compose_train(f"{group}={option}")
    check_config(cfg)
    if group == "trainer":
        assert cfg.trainer.use_distributed_sampler is False
        assert (cfg.trainer.devices, cfg.trainer.strategy) == {
            "ddp": (4, "ddp"),
            "ddp_sim": (2, "ddp"),
        }.get(option, (1, "auto"))
    if group == "logger":
        expected = {"wandb": WandbLogger, "csv": CSVLogger, "tensorboard": TensorBoardLogger}
        loggers = instantiate_group(cfg.logger)
        assert [type(lg) for lg in loggers] == ([expected[option]] if option in expected else [])


def test_debug_presets_set_what_their_names_say(compose_train):
    assert compose_train("debug=fast_dev_run").trainer.fast_dev_run is True
    assert not compose_train("debug=fast_dev_run").logger
    assert compose_train("debug=overfit").trainer.overfit_batches == 2
    assert compose_train("debug=profiler").trainer.profiler == "simple"
    limit = compose_train("debug=limit").trainer
    assert 0 < limit.limit_train_batches < 1 and 0 < limit.limit_val_batches < 1


def test_optuna_search_maximises_the_best_validation_psnr(compose_train):
    cfg = compose(
        "train", ["hparams_search=optuna", "experiment_name=demo"], return_hydra_config=True
    )
    sweeper = cfg.hydra.sweeper
    assert cfg.optimized_metric == "val/psnr_best" and str(cfg.hydra.mode) == "RunMode.MULTIRUN"
    assert str(sweeper.direction) == "maximize" and sweeper.storage is None
    assert sweeper.sampler._target_ == "optuna.samplers.TPESampler"
    assert sweeper.sampler.seed == cfg.seed
    assert set(sweeper.params) >= {"model.optimizer.lr", "model.network.n_feats"}


def test_slurm_launcher_follows_the_trainer_and_instantiates():
    cfg = compose(
        "train",
        [
            "hydra/launcher=submitit_slurm",
            "trainer=ddp",
            "trainer.devices=8",
            "trainer.num_nodes=3",
            "hydra.launcher.partition=gpu",
            "experiment_name=demo",
        ],
        return_hydra_config=True,
    )
    launcher = cfg.hydra.launcher
    assert (launcher.gpus_per_node, launcher.tasks_per_node, launcher.nodes) == (8, 8, 3)
    assert launcher.partition == "gpu" and launcher.timeout_min > 0
    assert launcher._target_.endswith("SlurmLauncher")


def test_unknown_keys_fail_at_composition(compose_train):
    with pytest.raises(ConfigCompositionException, match=r"trainer\.max_epoch"):
        compose_train("trainer.max_epoch=3")
    with pytest.raises(ConfigCompositionException, match=r"data\.scales"):
        compose_train("data.scales=2")


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("data.batch_size=many", "data.batch_size"),
        ("data.augment=sometimes", "data.augment"),
        ("trainer.max_epochs=1.5", "trainer.max_epochs"),
        ("degradation.blur_sigma=wide", "degradation.blur_sigma"),
        ("seed=lucky", "seed"),
    ],
)
def test_wrong_types_fail_with_the_full_key(compose_train, override, key):
    with pytest.raises(ConfigError, match=re.escape(f"{key}=")):
        check_config(compose_train(override))


def test_a_missing_value_fails_with_its_key(compose_train):
    cfg = compose_train("experiment=transfer_edsr_x2", name="transfer_edsr_x2")
    with pytest.raises(ConfigError, match=r"model\.pretrained\.path: a value is required"):
        check_config(cfg)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data.scale=5", "data.scale=5"),
        ("data.patch_size=25", "data.patch_size=25"),
        ("data.views=[axial,oblique]", "data.views="),
    ],
)
def test_bad_values_fail_before_any_work(compose_train, tmp_path, override, message):
    cfg = compose_train(override, "logger=csv", "print_config=false")
    # Caught by the config check, or by the data module (Hydra wraps its ValueError, keeping its
    # message) before any data is read.
    with pytest.raises((ConfigError, InstantiationException), match=re.escape(message)):
        train(cfg)
    # Nothing was trained, checkpointed or logged.
    assert not (tmp_path / "run").exists()
