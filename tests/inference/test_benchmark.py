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


def test_compute_floor_counts_the_default_network_and_divides_by_the_peak():
    h, w, slices = 24, 20, 6
    floor = predict.compute_floor((h, w, slices), matmul_size=128)
    # conf/model/wdsr_a.yaml, x2, 1 channel: head 1->32 (3x3); 16 blocks of 32->128 and 128->32
    # (3x3); tail 32->4 (3x3) before the pixel shuffle; skip 1->4 (5x5).
    macs_per_pixel = 1 * 32 * 9 + 16 * (32 * 128 * 9 + 128 * 32 * 9) + 32 * 4 * 9 + 1 * 4 * 25
    assert floor["tflop"] == pytest.approx(2 * macs_per_pixel * h * w * slices / 1e12, rel=1e-9)
    for name in ("fp32", "bf16"):
        assert floor["peak_gflops"][name] > 0
        assert floor["floor_seconds"][name] == pytest.approx(
            floor["tflop"] * 1e3 / floor["peak_gflops"][name]
        )
