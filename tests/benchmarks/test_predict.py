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


def test_whole_volume_report_states_the_measured_peak(tmp_path, monkeypatch):
    """With the whole-volume run, RESULTS.md quotes its measured peak, not the estimate."""
    from benchmarks.results import update_section

    results_md = tmp_path / "RESULTS.md"
    monkeypatch.setattr(
        predict,
        "update_section",
        lambda name, title, body: update_section(name, title, body, results_md),
    )
    run = {"seconds": 90.0, "peak_bytes": int(1.0e9)}
    results = [
        {
            **run,
            "goal": "time",
            "model": "wdsr_a",
            "shape": predict.TIME_SHAPE,
            "options": {"precision": "float32"},
        },
        {
            **run,
            "goal": "time",
            "model": "wdsr_a",
            "shape": predict.TIME_SHAPE,
            "options": {"precision": "bfloat16"},
        },
        {**run, "goal": "memory", "model": "bicubic", "shape": predict.MEMORY_SHAPE, "options": {}},
        {**run, "goal": "memory", "model": "wdsr_a", "shape": predict.SLAB_SHAPE, "options": {}},
    ]
    floor = {
        "tflop": 27.0,
        "peak_gflops": {"fp32": 300.0, "bf16": 2000.0},
        "floor_seconds": {"fp32": 90.0, "bf16": 13.5},
    }
    predict._write(results, floor)
    estimated = results_md.read_text()
    assert "gives an estimated **1.42 GB**" in estimated
    assert "Rerun: `python -m benchmarks.predict`." in estimated

    whole = {"goal": "memory", "model": "wdsr_a", "shape": predict.MEMORY_SHAPE, "options": {}}
    predict._write([*results, {**whole, "seconds": 1500.0, "peak_bytes": int(2.5e9)}], floor)
    text = results_md.read_text()
    assert (
        "on the whole volume: **2.50 GB** (measured, 25 minutes), which misses the target" in text
    )
    assert "Rerun: `python -m benchmarks.predict --whole-volume`." in text
