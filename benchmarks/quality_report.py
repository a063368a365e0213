"""The quality benchmark's figures: rows from an evaluation's summary, targets, table, RESULTS.md text.

A row is one (scale, view, region) of the summary that ``evaluate()`` returns (``summary.json``):
mean PSNR / SSIM of the model and of bicubic, and the gains, the mean over slices of model minus
bicubic. The evaluation takes every mean of a row over the same slices: those both methods score
with finite values. A slice that a method reproduces exactly (an empty slice, which bicubic
returns as exact zeros) has an infinite PSNR; it is left out of both methods' means and counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.results import markdown_table
from srmri.evaluation.scores import REGIONS

# The targets for the 10-minute CPU budget: brain-masked PSNR gain over bicubic per scale
# (dB), and an SSIM gain above zero in every view.
PSNR_GAIN_TARGETS = {2: 3.0, 4: 4.5}
HEADER = [
    "scale",
    "view",
    "region",
    "model PSNR",
    "model SSIM",
    "bicubic PSNR",
    "bicubic SSIM",
    "PSNR gain",
    "SSIM gain",
    "slices",
    "target",
    "met?",
]


def summary_rows(
    summary: Mapping[str, Any], model: str, scale: int, views: Sequence[str]
) -> list[dict[str, Any]]:
    """One row per view and region that ``summary`` (what ``evaluate()`` returns) scores.

    The means, counts and gains are the summary's own: ``scores`` (over the slices every method
    scores finitely) and ``gains_over_bicubic`` (the mean over slices of model minus bicubic).
    """
    rows = []
    for view in views:
        for region in REGIONS:
            cell = summary["scores"].get(model, {}).get(view, {}).get(region)
            if cell is None:
                continue
            bicubic = summary["scores"]["bicubic"][view][region]
            gains = summary["gains_over_bicubic"][model][view][region]
            row = {
                "scale": scale,
                "view": view,
                "region": region,
                "model_psnr": cell["psnr"],
                "model_ssim": cell["ssim"],
                "bicubic_psnr": bicubic["psnr"],
                "bicubic_ssim": bicubic["ssim"],
                "psnr_gain": gains["psnr"]["mean"],
                "ssim_gain": gains["ssim"]["mean"],
                "slices": cell["n"],
                "left_out": cell["excluded"],
            }
            row["target"], row["met"] = target(row)
            rows.append(row)
    return rows


def target(row: Mapping[str, Any]) -> tuple[str, bool]:
    """The row's target as text and whether it is met (a missing figure does not meet it).

    Every row needs an SSIM gain above zero; brain rows of a targeted scale also need the PSNR gain.
    """
    ssim_ok = row["ssim_gain"] is not None and row["ssim_gain"] > 0
    psnr_target = PSNR_GAIN_TARGETS.get(row["scale"]) if row["region"] == "brain" else None
    if psnr_target is None:
        return "SSIM gain > 0", ssim_ok
    psnr_ok = row["psnr_gain"] is not None and row["psnr_gain"] >= psnr_target
    return f"PSNR gain >= +{psnr_target:.1f} dB, SSIM gain > 0", psnr_ok and ssim_ok


def table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The rows as a Markdown table (printed and written to RESULTS.md)."""
    cells = [
        [
            f"x{row['scale']}",
            row["view"],
            row["region"],
            _number(row["model_psnr"], ".2f", " dB"),
            _number(row["model_ssim"], ".4f"),
            _number(row["bicubic_psnr"], ".2f", " dB"),
            _number(row["bicubic_ssim"], ".4f"),
            _number(row["psnr_gain"], "+.2f", " dB"),
            _number(row["ssim_gain"], "+.4f"),
            f"{row['slices']} (+{row['left_out']} exact)" if row["left_out"] else row["slices"],
            row["target"],
            "yes" if row["met"] else "**no**",
        ]
        for row in rows
    ]
    return markdown_table(HEADER, cells)


def headline(rows: Sequence[Mapping[str, Any]], scale: int) -> str:
    """``x2: +a dB (axial), +b dB (coronal), ...``: brain-masked PSNR gain per view."""
    gains = [
        f"{_number(row['psnr_gain'], '+.2f', ' dB')} ({row['view']})"
        for row in rows
        if row["scale"] == scale and row["region"] == "brain"
    ]
    return f"x{scale}: " + ", ".join(gains)


def _number(value: float | None, spec: str, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{unit}"


def results_body(record: Mapping[str, Any], machine: str) -> str:
    """The ``quality`` section of RESULTS.md from the benchmark's record (``quality.json``)."""
    recipe, runs, rows = record["recipe"], record["runs"], record["rows"]
    cores, load = record["machine"]["cores"], record["load_average"]
    parts = []
    if record["deviations"]:
        parts.append(
            "**A shorter check, not the benchmark's standard run**: "
            + "; ".join(record["deviations"])
            + ". The targets refer to the standard run (command at the end), on a quiet machine."
        )
    parts.append(
        f"{machine} Load average (1 min) at the start: {load['start']:.1f}, at the end: "
        f"{load['end']:.1f}, on {cores} cores.\n\nCommand: `{record['command']}`."
    )
    parts.append(_recipe_text(recipe, runs))
    parts.append(
        markdown_table(
            [
                "scale",
                "budget",
                "optimiser steps",
                "epochs",
                "budget / steps",
                "parameters",
                "best",
            ],
            [
                [
                    f"x{scale}",
                    f"{recipe['budget_minutes']:g} min",
                    f"{run['steps']:,}",
                    run["epochs"],
                    f"{recipe['budget_minutes'] * 60 / max(run['steps'], 1):.2f} s",
                    f"{run['parameters']:,}",
                    f"`{run['best_checkpoint_name']}`",
                ]
                for scale, run in runs.items()
            ],
        )
    )
    parts.append(
        "**Evaluation**: `srmri.evaluation` (the code of `evaluate.py`) on the test slab of the "
        "demo (the superior 30 % of the brain's extent, never seen in training or validation), "
        f"every slice of each view ({', '.join(recipe['views'])}), angle 0 only: rotation is a "
        "study of its own (`python evaluate.py ckpt_path=...` scores 20 angles). The means, "
        "counts and gains are the evaluation's own (its `summary.json`): means over slices, both "
        "methods on the same slices and pixels; the gain is the mean over slices of model minus "
        "bicubic; `brain` scores only the voxels inside the template's brain mask. A slice that a "
        "method reproduces exactly (an empty slice, which bicubic returns as exact zeros: PSNR "
        "infinite) is left out of both methods' means and of the PSNR gain, and counted as `exact`."
    )
    parts.append(table(rows))
    unmet = [row for row in rows if not row["met"]]
    parts.append(
        "Brain-masked PSNR gain over bicubic: "
        + "; ".join(headline(rows, int(scale)) for scale in runs)
        + ".\n\nTargets (10-minute budget, 2-core CPU): "
        + "; ".join(_verdict(rows, scale, goal) for scale, goal in PSNR_GAIN_TARGETS.items())
        + "."
    )
    if unmet:
        parts.append("**What limits these figures**: " + " ".join(_limits(record)))
    parts.append(
        "**What they measure**: the fit of a short training run to one brain. The test slab is "
        "another part of the same MNI152 template, an average of many brains that is smoother "
        "than a single scan, so a learned deblurring pays off more than it would on one "
        "subject's scan; bicubic cannot undo the degradation's blur at all. These gains are not "
        "evidence of generalisation to new subjects, contrasts or scanners: for that, train and "
        "evaluate with `data=nifti_folder` on your own subjects (split by subject)."
    )
    parts.append(
        "Rerun (the standard benchmark): `python -m benchmarks.quality`: 10 minutes of training "
        "per scale at x2 and x4, plus data loading, validation and evaluation (about 30 minutes on "
        "2 cores). `--help` lists the recipe's options."
    )
    return "\n\n".join(parts)


def _verdict(rows: Sequence[Mapping[str, Any]], scale: int, goal: float) -> str:
    scale_rows = [row for row in rows if row["scale"] == scale]
    short = [row for row in scale_rows if not row["met"]]
    status = (
        "not run"
        if not scale_rows
        else "**met**"
        if not short
        else f"**short in {len(short)} of {len(scale_rows)} rows**"
    )
    return (
        f"x{scale}, brain-masked PSNR gain >= +{goal:.1f} dB and SSIM gain > 0 in every view "
        f"and region: {status}"
    )


def _recipe_text(recipe: Mapping[str, Any], runs: Mapping[Any, Mapping[str, Any]]) -> str:
    network = next(iter(runs.values()))["network"]
    size = ", ".join(
        f"{key}={value}"
        for key, value in network.items()
        if key not in ("_target_", "scale") and value is not None
    )
    patches = ", ".join(f"{p} at x{s}" for s, p in recipe["patch_sizes"].items())
    extra = ", ".join(f"`{o}`" for o in recipe["overrides"]) or "none"
    every = recipe["val_every_minutes"]
    interval = f"every {every:g} minutes and " if every < recipe["budget_minutes"] else ""
    return (
        f"**Recipe**: `model={recipe['model']}` ({network['_target_'].rsplit('.', 1)[-1]}: {size}), trained from scratch on "
        f"{', '.join(recipe['views'])} slices of the demo's train slab (one MNI152 T1 template, "
        "60 % of the brain's extent) with the study's degradation (`seed` preset: antialiased "
        "bicubic downscale, then a 3 x 3 Gaussian with sigma 1 on the LR image). HR patches "
        f"{patches}; batch {recipe['batch_size']}; Adam, base rate {recipe['lr']:g}; L1 loss; EMA "
        "of the weights. The rate follows a cosine of the elapsed wall-clock time over the budget "
        f"down to {recipe['min_lr_factor']:g} x the base rate (`benchmarks/time_schedule.py`: the "
        "step-count cosine needs a step total, which a time budget cannot know). Validation on "
        f"the val slab {interval}when the budget ends; the checkpoint with the best validation "
        f"PSNR is evaluated. Further overrides: {extra}."
    )


def _limits(record: Mapping[str, Any]) -> list[str]:
    """Facts that bound the figures of a run short of its targets."""
    steps = ", ".join(f"{run['steps']:,} at x{s}" for s, run in record["runs"].items())
    facts = [
        f"Training is short: optimiser steps {steps}, where published SR recipes train for "
        "hundreds of thousands (EDSR: 300,000).",
        "The demo trains on one brain (the template's train slab), so the network sees little "
        "anatomy.",
    ]
    cores = int(record["machine"]["cores"])
    if record["load_average"]["start"] > 0.5 * cores:
        facts.append(
            f"The machine was shared (load {record['load_average']['start']:.1f} on {cores} "
            "cores at the start), so fewer steps fitted in the budget than on a quiet machine."
        )
    if record["deviations"]:
        facts.append("The budget or scope was smaller than the standard run's (see the top).")
    return facts
