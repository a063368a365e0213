"""The quality benchmark's comparison with every baseline (``--degradation kspace``): means over the
slices every method scores finitely, gains as means of per-slice differences, the zero-fill target."""

import math

import pytest

from benchmarks import quality_baselines

PSNR = {  # slice -> method -> (image, brain)
    "0": {"net": (31.0, 30.0), "bicubic": (27.0, 26.0), "zero_fill": (28.0, 27.5)},
    "1": {"net": (33.0, 32.0), "bicubic": (28.0, math.nan), "zero_fill": (29.0, 29.0)},
    "2": {"net": (30.0, 29.0), "bicubic": (26.0, 25.0), "zero_fill": (27.5, 27.0)},
}


def scores() -> list[dict]:
    rows = []
    for slice_, methods in PSNR.items():
        for method, values in methods.items():
            for region, value in zip(("image", "brain"), values, strict=True):
                rows.append(
                    {
                        "subject": "s",
                        "contrast": "T1",
                        "view": "axial",
                        "slice": slice_,
                        "angle": "0",
                        "method": method,
                        "region": region,
                        "psnr": value,
                        "ssim": 0.9,
                    }
                )
    return rows


def test_rows_pair_every_method_on_the_same_slices():
    rows = quality_baselines.baseline_rows(scores(), "net", ["bicubic", "zero_fill"], 2, ["axial"])
    image, brain = rows
    assert image["slices"] == 3 and image["left_out"] == 0
    assert image["gain_zero_fill"] == pytest.approx((3.0 + 4.0 + 2.5) / 3)
    # Slice 1's brain score of bicubic is not finite: slice 1 leaves every brain mean.
    assert brain["slices"] == 2 and brain["left_out"] == 1
    assert brain["model_psnr"] == pytest.approx(29.5)
    assert brain["zero_fill_psnr"] == pytest.approx(27.25)
    assert brain["gain_bicubic"] == pytest.approx(4.0)


def test_section_states_the_zero_fill_target():
    rows = quality_baselines.baseline_rows(scores(), "net", ["bicubic", "zero_fill"], 2, ["axial"])
    record = {
        "degradation": "kspace",
        "command": "python -m benchmarks.quality --degradation kspace --scales 2",
        "runs": {
            2: {
                "baseline_names": ["bicubic", "zero_fill"],
                "baseline_rows": rows,
                "steps": 10,
                "train_seconds": 600.0,
                "evaluate_seconds": 60.0,
            }
        },
    }
    body = quality_baselines.results_body(record, "Measured on a test.")
    assert "| axial | brain | 29.50 dB | 25.50 dB | 27.25 dB | +4.00 dB | +2.25 dB | 2 |" in body
    assert "meets it (+2.25 dB)" in body
