"""The report of one evaluation: ``metrics.csv``, ``summary.json``, ``figures/*.png``, ``report.md``
and the same results in the experiment logger.

Everything is written into a temporary directory beside ``output_dir`` and moved into place only
when complete (a rename on the same file system), ``report.md`` last, so an interrupted run leaves
no half-written report. A directory that already holds a report is refused unless ``overwrite``.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from pytorch_lightning.loggers import Logger, WandbLogger

from srmri.evaluation.scores import COLUMNS, REGIONS, Scores
from srmri.evaluation.statistics import curves_key, gains_key, reference_of
from srmri.io.errors import OutputExistsError

REPORT_FILES = ("metrics.csv", "summary.json", "report.md")
FIGURES = "figures"


def check_output_dir(output_dir: Path, overwrite: bool) -> None:
    """Refuse a directory holding a previous report unless ``overwrite``.

    Raises:
        OutputExistsError: naming the directory and the report files found there.
        NotADirectoryError: ``output_dir`` is a file.
    """
    if output_dir.exists() and not output_dir.is_dir():
        raise NotADirectoryError(f"output_dir {output_dir}: exists and is not a directory")
    found = [name for name in (*REPORT_FILES, FIGURES) if (output_dir / name).exists()]
    if found and not overwrite:
        raise OutputExistsError(
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


def report_markdown(summary: Mapping[str, Any], figures: Sequence[str]) -> str:
    """The report text from ``summary.json``'s content and the figure file names."""
    setup = summary["setup"]
    lines = [
        "# Super-resolution evaluation",
        "",
        f"Scale x{setup['scale']}; methods: {', '.join(summary['methods'])}; views: "
        f"{', '.join(setup['views'])}; angles (degrees): {', '.join(f'{a:g}' for a in setup['angles'])}.",
        "",
        "## Setup",
        "",
        f"- Degradation (HR -> LR): `{setup['degradation']}`",
        f"- Normalisation: `{setup['normalisation']}`; scores use a fixed data range of 1.0.",
        *[f"- `{name}`: {source}" for name, source in setup["sources"].items()],
        f"- Brain masks: {', '.join(f'{k}: {v}' for k, v in setup['brain_masks'].items())}",
        f"- Rotation of the HR slice: {_rotation(setup)}",
        f"- Scored region: {setup['region']['rule']}",
        f"- Run time: {setup['seconds']:.1f} s",
    ]
    if setup["notes"]:
        lines += ["", "## Notes", "", *[f"- {note}" for note in setup["notes"]]]
    reference = reference_of(summary)
    if summary.get("volumes"):
        lines += ["", "## Scores per volume", "", _volumes_table(summary["volumes"])]
    lines += ["", "## Scores", "", _scores_table(summary)]
    if summary["models"]:
        lines += [
            "",
            f"## Gains over {reference}",
            "",
            f"Model minus {reference} on the same pixels; the unit is a slice (its angles averaged), "
            "with wins / losses / ties over slices. Neighbouring slices are correlated, so the "
            "95% interval resamples what is independent: subjects (a cluster bootstrap) when "
            "there are two or more, else blocks of contiguous slices of the one subject (a "
            "moving-block bootstrap, block length from the lag-1 autocorrelation of the "
            "per-slice differences), mean +- t x bootstrap standard error with one degree of "
            "freedom fewer than the subjects or blocks. 'effective n' is the number of "
            "independent slices with the same standard error. With one subject the interval "
            "describes that brain, not new subjects.",
            "",
            _gains_table(summary),
            "",
            f"Per-slice crossings with {reference} (slices where model minus {reference} changes "
            "sign, on the per-slice means over subjects and angles) are listed in `summary.json` "
            f"under `{curves_key(reference)}`.",
        ]
    lines += ["", "## Figures", ""]
    lines += [f"- [{name}](figures/{name})" for name in figures]
    lines += [
        "",
        "Files: `metrics.csv` (one row per subject, contrast, view, slice, angle, method and "
        "region), `summary.json` (every number above, and more).",
        "",
    ]
    return "\n".join(lines)


def _rotation(setup: Mapping[str, Any]) -> str:
    rotation = setup["rotation"]
    used = f"`{rotation['interpolation']}`, {rotation['description']}"
    if not rotation["turned"]:
        return f"none (no angle turns the slice; set: {used})"
    # Reports written before rotation.band existed hold the slice as it was.
    band = rotation.get("band", "square")
    return f"{used}; reference band `{band}`: {rotation.get('band_description', band)}"


def _scores_table(summary: Mapping[str, Any]) -> str:
    rows = ["| method | view | region | PSNR (dB) | SSIM | n |", "|---|---|---|---:|---:|---:|"]
    for method, views in summary["scores"].items():
        for view, regions in views.items():
            for region in REGIONS:
                if region in regions:
                    cell = regions[region]
                    rows.append(
                        f"| {method} | {view} | {region} | {_number(cell['psnr'], 2)} | "
                        f"{_number(cell['ssim'], 4)} | {cell['n']} |"
                    )
    return "\n".join(rows)


def _gains_table(summary: Mapping[str, Any]) -> str:
    rows = [
        "| model | view | region | metric | gain | 95% interval | resampling | effective n "
        "| wins / losses / ties |",
        "|---|---|---|---|---:|---|---|---:|---|",
    ]
    for model, views in summary[gains_key(reference_of(summary))].items():
        for view, regions in views.items():
            for region, metrics in regions.items():
                for metric, gain in metrics.items():
                    digits = 2 if metric == "psnr" else 4
                    ci = gain["ci95"]
                    span = f"[{ci[0]:+.{digits}f}, {ci[1]:+.{digits}f}]" if ci else "n/a"
                    mean = f"{gain['mean']:+.{digits}f}" if gain["mean"] is not None else "n/a"
                    rows.append(
                        f"| {model} | {view} | {region} | {metric.upper()} | {mean} | {span} | "
                        f"{_resampling(gain['interval'])} | "
                        f"{_number(gain['interval']['effective_n'], 1)} of "
                        f"{gain['interval']['n_slices']} | "
                        f"{gain['wins']} / {gain['losses']} / {gain['ties']} |"
                    )
    return "\n".join(rows)


def _volumes_table(volumes: Sequence[Mapping[str, Any]]) -> str:
    """One row per volume, method and region: PSNR and SSIM over the whole volume at once."""
    rows = [
        "| subject | contrast | method | region | PSNR (dB) | SSIM |",
        "|---|---|---|---|---:|---:|",
    ]
    for row in volumes:
        rows.append(
            f"| {row['subject']} | {row['contrast']} | {row['method']} | {row['region']} | "
            f"{_number(row['psnr'], 2)} | {_number(row['ssim'], 4)} |"
        )
    return "\n".join(rows)


def _resampling(record: Mapping[str, Any]) -> str:
    """What an interval resampled, in a few words."""
    if record["block_length"] is not None:
        return (
            f"moving blocks of {record['block_length']} slices (lag-1 autocorrelation "
            f"{record['lag1_autocorrelation']:.2f})"
        )
    if record["method"] == "cluster bootstrap over subjects":
        return f"cluster bootstrap over {record['n_subjects']} subjects"
    return str(record["method"])


def _number(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


log = logging.getLogger(__name__)


def log_results(
    loggers: Sequence[Logger],
    scores: Scores,
    summary: Mapping[str, Any],
    figures: Sequence[Path],
    config: Mapping[str, Any] | None = None,
) -> None:
    """Send the evaluation to every W&B logger: ``config`` (the evaluation's settings and the
    training runs it scores) in the run config, the ``metrics.csv`` rows as the table
    ``evaluation/metrics``, every figure as ``evaluation/<file stem>`` (the PNG written to
    ``figures/``, as it is) and :func:`headline` in the run summary."""
    for logger in loggers:
        if not isinstance(logger, WandbLogger):
            log.warning("%s: evaluation results go to output_dir only", type(logger).__name__)
            continue
        import wandb

        run = logger.experiment
        if config:
            run.config.update(dict(config), allow_val_change=True)
        table = wandb.Table(columns=list(COLUMNS), data=[list(row) for row in scores.rows()])
        images = {f"evaluation/{path.stem}": wandb.Image(str(path)) for path in figures}
        run.log({"evaluation/metrics": table, **images})
        run.summary.update(headline(summary))


def headline(summary: Mapping[str, Any]) -> dict[str, float | int]:
    """Flat summary keys: ``evaluation/<metric>/<method>/<view>/<region>`` means and
    ``evaluation/n/...`` slice counts; per model ``evaluation/<metric>_gain/<model>/<view>/<region>``
    (mean gain over bicubic) with ``..._ci95_low`` / ``..._ci95_high`` (its 95% interval) and
    ``evaluation/<metric>_wins/...`` / ``_losses`` / ``_ties`` over slices; when volumes were
    scored whole, ``evaluation/volume_<metric>/<method>/<region>`` (mean over volumes)."""
    values: dict[str, float | int] = {}
    for method, views in summary["scores"].items():
        for view, regions in views.items():
            for region, cell in regions.items():
                where = f"{method}/{view}/{region}"
                for metric in ("psnr", "ssim"):
                    if cell[metric] is not None:
                        values[f"evaluation/{metric}/{where}"] = cell[metric]
                values[f"evaluation/n/{where}"] = cell["n"]
    for model, views in summary[gains_key(reference_of(summary))].items():
        for view, regions in views.items():
            for region, metrics in regions.items():
                where = f"{model}/{view}/{region}"
                for metric, gain in metrics.items():
                    if gain["mean"] is not None:
                        values[f"evaluation/{metric}_gain/{where}"] = gain["mean"]
                    if gain["ci95"]:
                        low, high = gain["ci95"]
                        values[f"evaluation/{metric}_gain_ci95_low/{where}"] = low
                        values[f"evaluation/{metric}_gain_ci95_high/{where}"] = high
                    for count in ("wins", "losses", "ties"):
                        values[f"evaluation/{metric}_{count}/{where}"] = gain[count]
    by_volume: dict[str, list[float]] = {}
    for row in summary.get("volumes", []):
        for metric in ("psnr", "ssim"):
            if row[metric] is not None and math.isfinite(row[metric]):
                where = f"evaluation/volume_{metric}/{row['method']}/{row['region']}"
                by_volume.setdefault(where, []).append(row[metric])
    values.update({key: sum(v) / len(v) for key, v in by_volume.items()})
    return values
