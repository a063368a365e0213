"""The data=synth scripts run end to end in their smoke modes (and write no RESULTS.md section)."""

from __future__ import annotations

import pytest

from benchmarks import synth_samples, synth_validation
from benchmarks.results import RESULTS
from tests.helpers import save_checkpoint, tiny_module


@pytest.mark.slow
def test_samples_smoke_run_draws_the_figure(tmp_path, srmri_cache):
    before = RESULTS.read_text() if RESULTS.exists() else None
    seconds = synth_samples.main(["--smoke", "--output", str(tmp_path / "samples.png")])
    assert len(seconds) == 2 and all(s > 0 for s in seconds)
    assert (tmp_path / "samples.png").stat().st_size > 1000
    assert (RESULTS.read_text() if RESULTS.exists() else None) == before


@pytest.mark.slow
def test_validation_scores_a_checkpoint_per_contrast(tmp_path, srmri_cache):
    checkpoint = save_checkpoint(tiny_module(scale=2), tmp_path / "run" / "checkpoints" / "m.ckpt")
    small = ["data.source.downsample=4", "data.source.eval_contrasts=1"]
    results = synth_validation.main([str(checkpoint), *(f"--override={o}" for o in small)])
    groups = results["run"]
    assert set(groups) == {"T1", "synth0", "synthetic"}
    assert groups["synth0"] == groups["synthetic"]  # one synthetic contrast: the pool is it
    for metrics in groups.values():
        assert metrics["slices"] > 0 and 0 < metrics["psnr_bicubic"] < 100
