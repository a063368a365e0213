"""A DDP launch that re-runs the command is refused inside a multirun, allowed in a single run."""

from __future__ import annotations

import pytest
import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from benchmarks.common import compose
from srmri.tasks.config_check import check_launch


@pytest.fixture
def multirun_job():
    """Install a Hydra config of mode MULTIRUN, as a sweep's job sees it; removed afterwards."""
    config = compose("train", return_hydra_config=True)

    def install(mode: RunMode) -> None:
        config.hydra.mode = mode
        HydraConfig.instance().set_config(config)

    yield install
    HydraConfig.instance().cfg = None


def cpu_trainer(devices: int, strategy: str) -> pl.Trainer:
    return pl.Trainer(accelerator="cpu", devices=devices, strategy=strategy, logger=False)


def test_ddp_that_reruns_the_command_is_refused_inside_a_multirun(multirun_job):
    multirun_job(RunMode.MULTIRUN)
    with pytest.raises(ValueError, match="cannot run inside a multirun"):
        check_launch(cpu_trainer(2, "ddp"))
    check_launch(cpu_trainer(1, "ddp"))  # one process: nothing to re-run
    check_launch(cpu_trainer(1, "auto"))


def test_ddp_in_a_single_run_is_allowed(multirun_job):
    multirun_job(RunMode.RUN)
    check_launch(cpu_trainer(2, "ddp"))
