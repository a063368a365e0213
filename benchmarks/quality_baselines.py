"""The quality benchmark's comparison with every baseline an evaluation scored, for runs trained
with another degradation (``--degradation kspace``: bicubic AND zero-fill).

Reads an evaluation's ``metrics.csv`` rows (:func:`benchmarks.quality_report.read_scores`) and
gives, per view and region, the mean PSNR of the model and of each baseline and the mean of the
per-slice differences, over the slices every method scores finitely (so all means share slices).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.quality_report import REGIONS

# The target for a k-space-trained model at x2: brain PSNR gain over zero-fill.
ZERO_FILL_TARGET_DB = 2.0


def baseline_rows(
    scores: Sequence[Mapping[str, Any]],
    model: str,
    baselines: Sequence[str],
    scale: int,
    views: Sequence[str],
) -> list[dict[str, Any]]:
    """One row per view and region: ``model_psnr``, ``<baseline>_psnr`` and ``gain_<baseline>``."""
    methods = (model, *baselines)
    places: dict[tuple[str, str], dict[tuple, dict[str, float]]] = {}
    for score in scores:
        if score["method"] in methods:
            key = (score["subject"], score["contrast"], score["slice"], score["angle"])
            place = places.setdefault((score["view"], score["region"]), {})
            place.setdefault(key, {})[score["method"]] = score["psnr"]
    rows = []
    for view in views:
        for region in REGIONS:
            slices = list(places.get((view, region), {}).values())
            kept = [
                s for s in slices if set(s) == set(methods) and all(map(math.isfinite, s.values()))
            ]
            if not kept:
                continue
            row: dict[str, Any] = {"scale": scale, "view": view, "region": region}
            row["model_psnr"] = _mean([s[model] for s in kept])
            for name in baselines:
                row[f"{name}_psnr"] = _mean([s[name] for s in kept])
                row[f"gain_{name}"] = _mean([s[model] - s[name] for s in kept])
            row["slices"], row["left_out"] = len(kept), len(slices) - len(kept)
            rows.append(row)
    return rows


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def headline(rows: Sequence[Mapping[str, Any]], baselines: Sequence[str]) -> str:
    """Brain-masked PSNR gain over each baseline, averaged over the views' means."""
    brain = [row for row in rows if row["region"] == "brain"]
    if not brain:
        return "no brain-masked scores"
    parts = [f"{_mean([r[f'gain_{b}'] for r in brain]):+.2f} dB over {b}" for b in baselines]
    return ", ".join(parts)


def results_body(record: Mapping[str, Any], machine: str) -> str:
    """The ``quality_<degradation>`` section of RESULTS.md."""
    degradation = record["degradation"]
    lines = [machine, ""]
    lines.append(
        f"Command: `{record['command']}`. The demo recipe of the `quality` section (same network, "
        f"budget and schedule) trained with `degradation={degradation}`, then the best checkpoint "
        "evaluated on the held-out test slab at angle 0 with the checkpoint's own degradation; "
        "every baseline `evaluate.py` scores for it is listed. Means over the slices every method "
        "scores finitely; a gain is the mean of per-slice differences."
    )
    if record.get("deviations"):
        lines.append("")
        lines.append("Deviations from the standard run: " + "; ".join(record["deviations"]) + ".")
    load = record.get("load_average", {})
    if load:
        lines.append("")
        lines.append(
            f"Load average (1 min) at start / end: {load['start']:.2f} / {load['end']:.2f} "
            "(the machine was shared with other jobs while this ran)."
        )
    for scale, run in record["runs"].items():
        baselines = run["baseline_names"]
        rows = run["baseline_rows"]
        header = ["view", "region", "model", *baselines, *(f"gain vs {b}" for b in baselines), "n"]
        lines += [
            "",
            f"x{scale}: {run['steps']} steps in {run['train_seconds'] / 60:.1f} min, "
            f"evaluation {run['evaluate_seconds'] / 60:.1f} min.",
            "",
        ]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for row in rows:
            cells = [row["view"], row["region"], f"{row['model_psnr']:.2f} dB"]
            cells += [f"{row[f'{b}_psnr']:.2f} dB" for b in baselines]
            cells += [f"{row[f'gain_{b}']:+.2f} dB" for b in baselines]
            cells.append(str(row["slices"]))
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", f"Brain-masked PSNR gain (mean of the views): {headline(rows, baselines)}."]
        if "zero_fill" in baselines:
            gain = _mean([r["gain_zero_fill"] for r in rows if r["region"] == "brain"])
            verdict = "meets" if gain >= ZERO_FILL_TARGET_DB else "misses"
            lines.append(
                f"Target: gain over zero-fill >= +{ZERO_FILL_TARGET_DB:.1f} dB inside the brain: "
                f"{verdict} it ({gain:+.2f} dB)."
            )
    lines += ["", f"Rerun: `{record['command']}`."]
    return "\n".join(lines)
