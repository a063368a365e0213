"""The speed benchmark runs end to end in its smoke mode, prints its tables and writes nothing."""

import subprocess
import sys

import pytest
import torch

from benchmarks.results import RESULTS, update_section
from benchmarks.speed import quoted_figures
from tests.benchmarks.test_flops import conv
from tests.conftest import ROOT

SMOKE_INPUT = (8, 12)


def study_gflop(h: int, w: int) -> dict[str, float]:
    """The study's two networks on a 3-channel ``h x w`` input, layer by layer."""
    pixels = h * w
    edsr = (
        conv(3, 256, 3, pixels)
        + 65 * conv(256, 256, 3, pixels)
        + conv(256, 1024, 3, pixels)
        + conv(256, 3, 3, 4 * pixels)
    )
    wdsr = (
        conv(3, 32, 3, pixels)
        + 32 * (conv(32, 192, 3, pixels) + conv(192, 32, 3, pixels))
        + conv(32, 48, 3, pixels)
        + conv(3, 48, 5, pixels)
    )
    return {"EDSR": edsr / 1e9, "WDSR-A": wdsr / 1e9}


def table_rows(output: str, first_cell: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in output.splitlines()
        if line.startswith(f"| {first_cell} |")
    ]


@pytest.mark.slow
def test_smoke_run_prints_every_table_and_writes_nothing():
    before = RESULTS.read_text() if RESULTS.exists() else None
    # One thread: this checks that the benchmark works, not its figures, and one thread keeps it
    # quick on a shared machine.
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.speed", "--smoke", "--threads", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert (RESULTS.read_text() if RESULTS.exists() else None) == before

    rows = table_rows(run.stdout, "cpu")
    peaks = {row[1]: row[2:] for row in rows if len(row) == 5}
    assert set(peaks) == {"fp32", "bf16"}
    for best, lowest, runs in peaks.values():
        # Measured before the first network and after each of the two.
        assert int(runs) == 3
        assert float(best.replace(",", "")) >= float(lowest.replace(",", "")) > 0
    inference = [row for row in rows if len(row) == 12]
    expected = study_gflop(*SMOKE_INPUT)
    for network, gflop in expected.items():
        mine = [row for row in inference if row[1].startswith(network)]
        assert [row[2].split()[0] for row in mine] == ["nchw", "channels_last", "amp"]
        for row in mine:
            assert float(row[3].replace(",", "")) == pytest.approx(gflop, abs=0.006)
            assert float(row[4].replace(",", "")) > 0
            # Not the study's input: no comparison with its figures or the targets.
            assert row[8:] == ["-", "-", "-", "-"]
    training = table_rows(run.stdout, "cpu 32-true")
    assert len(training) == 1
    lightning_ms, plain_ms = (float(cell.replace(",", "")) for cell in training[0][1:3])
    assert lightning_ms > 0 and plain_ms > 0
    assert "GPU volume: no GPU" in run.stdout or "| GPU volume (demo network) |" in run.stdout


def test_other_benchmarks_headlines_are_quoted_with_their_date(tmp_path):
    results = tmp_path / "RESULTS.md"
    update_section(
        "data_pipeline",
        "Data pipeline",
        "Measured 2031-02-03 on a CPU.\n\n| a |\n\nBest: **1,234 pairs/s** (workers=0).",
        results,
    )
    quoted = quoted_figures(results)
    assert "measured 2031-02-03" in quoted
    assert "Best: **1,234 pairs/s** (workers=0)." in quoted
    assert "Volume prediction: not measured yet" in quoted


@pytest.mark.slow
def test_full_mode_replaces_only_its_own_section(tmp_path, monkeypatch):
    from benchmarks import speed

    results = tmp_path / "RESULTS.md"
    update_section("data_pipeline", "Data pipeline", "Best: **7 pairs/s**.", results)
    others = results.read_text()
    monkeypatch.setattr(speed, "FULL", speed.SMOKE)
    monkeypatch.setattr(
        speed,
        "update_section",
        lambda name, title, body: update_section(name, title, body, results),
    )
    threads = torch.get_num_threads()
    try:
        speed.main(["--threads", "1", "--variants", "channels_last"])
        speed.main(["--threads", "1", "--variants", "channels_last"])
    finally:
        torch.set_num_threads(threads)
    text = results.read_text()
    # Written twice, present once; the other benchmark's section is kept as it was.
    assert text.count("<!-- speed:start -->") == 1 and text.count("<!-- speed:end -->") == 1
    assert text.startswith(others.rstrip())
    section = text.split("<!-- speed:start -->")[1]
    assert "Measured " in section and "torch threads: 1)" in section
    assert "| cpu | fp32 |" in section and "| cpu 32-true |" in section
    assert "channels_last (fp32)" in section and "nchw (fp32)" not in section


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="checks the refusal on a machine without a GPU"
)
def test_asking_for_the_gpu_without_one_is_refused(capsys):
    from benchmarks import speed

    with pytest.raises(SystemExit) as exit_info:
        speed.main(["--smoke", "--devices", "cuda"])
    assert exit_info.value.code == 2
    assert "--devices cuda: torch sees no CUDA GPU here" in capsys.readouterr().err
