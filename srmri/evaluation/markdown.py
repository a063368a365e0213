"""``report.md``: a human summary of one evaluation that links its figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from srmri.evaluation.scores import REGIONS


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
        f"- Scored region: {setup['region']['rule']}",
        f"- Run time: {setup['seconds']:.1f} s",
    ]
    if setup["notes"]:
        lines += ["", "## Notes", "", *[f"- {note}" for note in setup["notes"]]]
    lines += ["", "## Scores", "", _scores_table(summary)]
    if summary["models"]:
        lines += [
            "",
            "## Gains over bicubic",
            "",
            "Model minus bicubic on the same pixels; the unit is a slice (its angles averaged), "
            "with a Student-t 95% interval over slices (slices of one volume are correlated: the "
            "interval describes these slices, not new subjects) and wins / losses / ties over "
            "slices.",
            "",
            _gains_table(summary),
            "",
            "Per-slice crossings with bicubic (slices where model minus bicubic changes sign, on "
            "the per-slice means over subjects and angles) are listed in `summary.json` under "
            "`slices_vs_bicubic`.",
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
        "| model | view | region | metric | gain | 95% interval | wins / losses / ties |",
        "|---|---|---|---|---:|---|---|",
    ]
    for model, views in summary["gains_over_bicubic"].items():
        for view, regions in views.items():
            for region, metrics in regions.items():
                for metric, gain in metrics.items():
                    digits = 2 if metric == "psnr" else 4
                    ci = gain["ci95"]
                    span = f"[{ci[0]:+.{digits}f}, {ci[1]:+.{digits}f}]" if ci else "n/a"
                    mean = f"{gain['mean']:+.{digits}f}" if gain["mean"] is not None else "n/a"
                    rows.append(
                        f"| {model} | {view} | {region} | {metric.upper()} | {mean} | {span} | "
                        f"{gain['wins']} / {gain['losses']} / {gain['ties']} |"
                    )
    return "\n".join(rows)


def _number(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"
