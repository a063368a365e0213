"""End to end: train.py with the k-space degradation (plain and windowed), then evaluate.py on the
checkpoint reports the model against bicubic and zero-fill."""

import math

import pytest

from srmri.degradation import KSpace
from srmri.lightning.module import SRModule
from srmri.tasks.evaluate import evaluate
from srmri.tasks.train import train
from tests.conftest import TINY_TRAIN, compose_config


@pytest.mark.slow
def test_train_with_kspace_then_evaluate_against_bicubic_and_zero_fill(tmp_path):
    # window=none is the default path of the same code; the windowed one exercises the override.
    window = "hamming"
    run_dir = tmp_path / "run"
    overrides = [*TINY_TRAIN, "logger=csv", "degradation=kspace", f"degradation.window={window}"]
    report = train(compose_config("train", overrides, run_dir))
    assert math.isfinite(report["metrics"]["val/psnr"])
    module = SRModule.load_from_checkpoint(report["best_checkpoint"], map_location="cpu")
    assert module.degradation == KSpace(scale=2, window=window)
    assert module.hparams.degradation["_target_"] == "srmri.degradation.KSpace"

    cfg = compose_config(
        "evaluate",
        [
            f"ckpt_path={report['best_checkpoint']}",
            f"output_dir={tmp_path / 'eval'}",
            "angles=[0]",
            "slices=[20]",
            "progress=false",
        ],
        tmp_path / "eval_run",
    )
    summary = evaluate(cfg)
    assert summary["methods"] == ["bicubic", "zero_fill", "wdsr_a"]
    assert summary["setup"]["degradation"]["_target_"] == "srmri.degradation.KSpace"
    assert summary["setup"]["degradation"]["window"] == window
    for method in ("bicubic", "zero_fill", "wdsr_a"):
        assert math.isfinite(summary["scores"][method]["axial"]["brain"]["psnr"])
