"""The end-of-run reports print paths whole when stdout is not a terminal (a pipe, a log file)."""

from __future__ import annotations

import io

from rich.console import Console

from srmri.tasks.evaluate import print_summary
from srmri.tasks.train import print_report

LONG = "logs/train/a_rather_long_experiment_name/runs/2026-11-30_07-00-00/checkpoints"
BEST = f"{LONG}/best-epoch024-step001600.ckpt"


def narrow_pipe() -> tuple[Console, io.StringIO]:
    """What ``python train.py ... | cat`` prints into: no terminal, 40 columns."""
    out = io.StringIO()
    return Console(file=out, width=40, force_terminal=False), out


def test_train_report_prints_each_path_on_one_line():
    console, out = narrow_pipe()
    report = {
        "metrics": {"val/psnr": 30.0, "val/psnr_bicubic": 28.0},
        "best_checkpoint": BEST,
        "wandb_run_dir": f"{LONG}/wandb/offline-run-20261130_070000-abcdefgh",
        "output_dir": f"{LONG}/[run] 1",
    }
    print_report(report, console)
    lines = out.getvalue().splitlines()
    for path in (BEST, report["wandb_run_dir"], report["output_dir"]):
        assert any(line.rstrip().endswith(path) for line in lines), (path, lines)


def test_evaluation_summary_prints_the_report_path_on_one_line(tmp_path):
    console, out = narrow_pipe()
    summary = {"scores": {}, "gains_over_bicubic": {}}
    output_dir = tmp_path / LONG
    print_summary(summary, output_dir, console)
    assert f"report: {output_dir / 'report.md'}" in out.getvalue().splitlines()
