"""Writing a report: ``metrics.csv``, ``summary.json``, ``figures/*.png`` and ``report.md``.

Everything is written into a temporary directory beside ``output_dir`` and moved into place only
when complete (a rename on the same file system), ``report.md`` last, so an interrupted run leaves
no half-written report. A directory that already holds a report is refused unless ``overwrite``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from srmri.evaluation.scores import COLUMNS, Scores

REPORT_FILES = ("metrics.csv", "summary.json", "report.md")
FIGURES = "figures"


def check_output_dir(output_dir: Path, overwrite: bool) -> None:
    """Refuse a directory holding a previous report unless ``overwrite``.

    Raises:
        FileExistsError: naming the directory and the report files found there.
        NotADirectoryError: ``output_dir`` is a file.
    """
    if output_dir.exists() and not output_dir.is_dir():
        raise NotADirectoryError(f"output_dir {output_dir}: exists and is not a directory")
    found = [name for name in (*REPORT_FILES, FIGURES) if (output_dir / name).exists()]
    if found and not overwrite:
        raise FileExistsError(
            f"output_dir {output_dir} holds a previous report ({', '.join(found)}); pass "
            "overwrite=true to replace it or choose another output_dir"
        )


def file_name(*parts: object) -> str:
    """A safe file name from parts (subject ids may hold any character)."""
    return "_".join(re.sub(r"[^A-Za-z0-9.+-]+", "-", str(part)) for part in parts)


def write_report(
    output_dir: Path,
    scores: Scores,
    summary: Mapping[str, Any],
    figures: Mapping[str, Figure],
    markdown: str,
    overwrite: bool,
) -> list[Path]:
    """Write the report atomically; return the paths written (figures relative to ``figures/``)."""
    check_output_dir(output_dir, overwrite)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", dir=output_dir.parent))
    try:
        with (stage / "metrics.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for row in scores.rows():
                writer.writerow(
                    [_cell(name, value) for name, value in zip(COLUMNS, row, strict=True)]
                )
        (stage / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
        (stage / FIGURES).mkdir()
        for name, figure in figures.items():
            figure.savefig(stage / FIGURES / name)
        (stage / "report.md").write_text(markdown)
        _publish(stage, output_dir, overwrite)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return [output_dir / name for name in REPORT_FILES] + [
        output_dir / FIGURES / name for name in figures
    ]


def _cell(column: str, value: object) -> object:
    if column == "angle":
        return f"{value:g}"
    if isinstance(value, float):
        return repr(value) if math.isinf(value) or math.isnan(value) else f"{value:.6f}"
    return value


def _publish(stage: Path, output_dir: Path, overwrite: bool) -> None:
    if not output_dir.exists():
        os.rename(stage, output_dir)
        return
    check_output_dir(output_dir, overwrite)
    old_figures = output_dir / FIGURES
    if old_figures.exists():
        # Moved into the stage, which is deleted afterwards.
        os.rename(old_figures, stage / "previous-figures")
    os.rename(stage / FIGURES, output_dir / FIGURES)
    for name in REPORT_FILES:
        os.replace(stage / name, output_dir / name)
