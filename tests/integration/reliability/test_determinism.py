"""The same seed gives the same metrics on CPU; another seed gives others."""

from __future__ import annotations

import pytest

from srmri.tasks.train import train
from tests.conftest import compose_config
from tests.integration.reliability.conftest import RUN as RELIABILITY_RUN

RUN = [*RELIABILITY_RUN, "trainer.max_epochs=1", "logger=csv", "print_config=false"]


@pytest.mark.slow
def test_the_same_seed_gives_the_same_metrics(tmp_path):
    def metrics(name: str, seed: int) -> dict[str, float]:
        cfg = compose_config(
            "train", [*RUN, f"seed={seed}"], tmp_path / name / "run", name=None, as_run=True
        )
        return train(cfg)["metrics"]

    first, again, other = metrics("first", 7), metrics("again", 7), metrics("other", 8)
    assert {"val/psnr", "val/ssim", "val/psnr_brain"} <= set(first)
    assert first == again
    assert first["val/psnr"] != other["val/psnr"]
