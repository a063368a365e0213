"""The prediction benchmark runs end to end in its smoke mode (and writes nothing)."""

import pytest

from benchmarks import predict
from benchmarks.results import RESULTS


@pytest.mark.slow
def test_benchmark_smoke_run():
    before = RESULTS.read_text() if RESULTS.exists() else None
    results = predict.main(["--smoke"])
    assert [(r["goal"], r["model"]) for r in results] == [("time", "wdsr_a"), ("memory", "bicubic")]
    assert all(r["seconds"] > 0 and r["peak_bytes"] > 0 for r in results)
    assert (RESULTS.read_text() if RESULTS.exists() else None) == before
