"""The data-pipeline benchmark runs end to end in its smoke mode (and writes nothing)."""

from benchmarks import data_pipeline
from benchmarks.results import RESULTS


def test_benchmark_smoke_run(srmri_cache):
    before = RESULTS.read_text() if RESULTS.exists() else None
    results = data_pipeline.main(["--smoke", "--cache-dir", str(srmri_cache)])
    assert set(results) == {(0, 64), (1, 64)}
    assert all(rate > 0 for rate in results.values())
    assert (RESULTS.read_text() if RESULTS.exists() else None) == before
