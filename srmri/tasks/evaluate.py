"""The evaluation task behind ``evaluate.py``: settings, models, data, the pass, the report."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

import hydra.utils
from matplotlib.figure import Figure
from omegaconf import DictConfig
from rich.console import Console
from rich.table import Table

from srmri.data import DataError
from srmri.evaluation import figures as draw
from srmri.evaluation.comparison import Comparison, build_comparison
from srmri.evaluation.report import (
    check_output_dir,
    file_name,
    log_results,
    report_markdown,
    write_report,
)
from srmri.evaluation.rotation import BANDS
from srmri.evaluation.rotation import DESCRIPTIONS as ROTATION_DESCRIPTIONS
from srmri.evaluation.scores import REGIONS
from srmri.evaluation.settings import SETTINGS_KEYS, Settings, read_settings
from srmri.evaluation.statistics import Table as ScoreTable
from srmri.evaluation.statistics import curves_key, gains_key, reference_of, summarise
from srmri.evaluation.study import Outcome, run_study
from srmri.evaluation.volume_study import run_volume_study
from srmri.io.plain_values import plain
from srmri.tasks.cli import print_lines
from srmri.tasks.config_check import COMMON_KEYS, check_config
from srmri.tasks.config_tree import run_config, save_config_tree
from srmri.tasks.dashboard import evaluation_loggers
from srmri.tasks.train import close_loggers

log = logging.getLogger(__name__)
# The top-level keys of conf/evaluate.yaml: the settings, the groups and the overrides.
EVALUATE_KEYS: dict[str, Any] = {
    **COMMON_KEYS,
    **SETTINGS_KEYS,
    **dict.fromkeys(("data", "degradation", "model", "logger", "normalisation"), Any),
    "print_config": bool,
    "tags": Any,
}


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Run the evaluation that ``cfg`` (``conf/evaluate.yaml``) describes; return the summary."""
    start = time.perf_counter()
    check_config(cfg, EVALUATE_KEYS)
    settings = read_settings({key: plain(cfg.get(key)) for key in SETTINGS_KEYS})
    if cfg.get("print_config", True):
        save_config_tree(cfg, Path(cfg.paths.output_dir) / "config_tree.log")
    check_output_dir(settings.output_dir, settings.overwrite)
    comparison = build_comparison(
        settings.checkpoints,
        cfg.get("model"),
        settings.baselines,
        int(cfg.data.scale),
        plain(cfg.data.normalisation),
        plain(cfg.get("degradation")),
        plain(cfg.get("normalisation")),
        settings.device,
        settings.batch_size,
    )
    settings = unrotated(settings, comparison)
    datamodule = hydra.utils.instantiate(
        cfg.data,
        normalisation=comparison.normalisation,
        # As a config: Hydra would turn a dataclass argument into a config without its _target_.
        degradation=comparison.degradation.config(),
        spatial_dims=comparison.spatial_dims,
    )
    datamodule.prepare_data()
    if not datamodule.records("test"):
        raise DataError(
            f"data source {type(datamodule.source).__name__} gave no test volume; expected at "
            "least one (check data.source and its split fractions)"
        )
    study = run_volume_study if comparison.spatial_dims == 3 else run_study
    outcome = study(datamodule.volumes("test"), comparison, settings)
    table = outcome.scores.arrays()
    methods = [method.name for method in comparison.methods]
    summary = {
        "methods": methods,
        "models": comparison.models,
        **summarise(table, methods, comparison.models, comparison.reference),
    }
    if outcome.volume_scores:
        summary["volumes"] = outcome.volume_scores
    pictures = make_figures(
        table, outcome, comparison, settings, summary[curves_key(comparison.reference)]
    )
    summary["setup"] = setup_record(comparison, settings, outcome, time.perf_counter() - start)
    markdown = report_markdown(summary, list(pictures))
    loggers, links = evaluation_loggers(cfg.get("logger"), settings.checkpoints)
    # The evaluation's settings and the training runs it scores, for the W&B run config.
    logged_config = {**run_config(cfg), **links} if loggers else {}
    try:
        written = write_report(
            settings.output_dir, outcome.scores, summary, pictures, markdown, settings.overwrite
        )
        pngs = [p for p in written if p.suffix == ".png"]
        log_results(loggers, outcome.scores, summary, pngs, logged_config)
    finally:
        close_loggers(loggers)
    print_summary(summary, settings.output_dir)
    return summary


def unrotated(settings: Settings, comparison: Comparison) -> Settings:
    """``settings`` with angle 0 only (and a note) when slices cannot be turned fairly: volumes
    are scored as they lie, and a degradation that spreads every value over the whole slice
    (``global_support``, e.g. ``kspace``) would carry the fill around a turned slice into every
    scored pixel."""
    if settings.angles == [0.0]:
        return settings
    if comparison.spatial_dims == 3:
        reason = "volumes are scored as they lie (a 3-D checkpoint makes this a volume report)"
    elif comparison.degradation.global_support:
        reason = (
            f"{comparison.degradation.describe()} makes every LR pixel depend on every HR pixel, "
            "so the fill around a turned slice would reach every scored pixel"
        )
    else:
        return settings
    comparison.notes.append(f"angles {settings.angles} reduced to [0]: {reason}")
    log.warning(comparison.notes[-1])
    return dataclasses.replace(settings, angles=[0.0])


def make_figures(
    table: ScoreTable,
    outcome: Outcome,
    comparison: Comparison,
    settings: Settings,
    slices_vs_bicubic: dict[str, Any],
) -> dict[str, Figure]:
    """Every figure of the report by file name; crossings come from the summary's
    ``slices_vs_bicubic`` (computed once there)."""
    methods, models = [m.name for m in comparison.methods], comparison.models
    pictures: dict[str, Figure] = {}
    for contrast in dict.fromkeys(table["contrast"]):
        for view in settings.views:
            for region in REGIONS:
                if (
                    (table["contrast"] == contrast)
                    & (table["view"] == view)
                    & (table["region"] == region)
                ).any():
                    marks = {
                        model: {
                            metric: cell["crossings"]
                            for metric, cell in slices_vs_bicubic.get(model, {})
                            .get(contrast, {})
                            .get(view, {})
                            .get(region, {})
                            .items()
                        }
                        for model in models
                    }
                    pictures[file_name("curves", contrast, view, region) + ".png"] = (
                        draw.slice_curves(
                            table,
                            contrast,
                            view,
                            region,
                            methods,
                            models,
                            marks,
                            comparison.reference,
                        )
                    )
    if len(settings.angles) > 1:
        for view in settings.views:
            for region in REGIONS:
                if ((table["view"] == view) & (table["region"] == region)).any():
                    pictures[file_name("angles", view, region) + ".png"] = draw.angle_curves(
                        table, view, region, methods, models
                    )
    pictures["histograms.png"] = draw.error_histograms(
        outcome.histograms, outcome.bin_edges, methods, models
    )
    for example in outcome.examples:
        name = file_name(example.subject, example.contrast, example.view, example.slice)
        pictures[f"differences_{name}.png"] = draw.difference_maps(example, methods, table)
        pictures[f"panels_{name}.png"] = draw.panels(
            example, models, settings.zoom, comparison.reference
        )
    return pictures


def setup_record(
    comparison: Comparison, settings: Settings, outcome: Outcome, seconds: float
) -> dict[str, Any]:
    """What was compared and how, for ``summary.json`` and the report."""
    rotating = outcome.margin is not None
    if comparison.spatial_dims == 3:
        rule = (
            "the whole volume (cropped to multiples of the scale along every axis) and each of "
            "its slices along the views"
        )
    elif not rotating:
        rule = "the whole slice (no angle turns it)"
    else:
        rule = (
            f"the slice less {outcome.margin:.1f} pixels per side at every angle, so that the "
            "values rotated in from outside the slice move no scored pixel by more than "
            f"{settings.tolerance:g} (reach of degradation + method in HR pixels: "
            f"{', '.join(f'{k} {v}' for k, v in outcome.reach.items())})"
        )
    return {
        "scale": comparison.scale,
        "spatial_dims": comparison.spatial_dims,
        "reference": comparison.reference,
        "degradation": comparison.degradation.config(),
        "normalisation": comparison.normalisation,
        "sources": comparison.sources,
        "notes": comparison.notes,
        "views": settings.views,
        "angles": settings.angles,
        "slices": settings.slices,
        "region": {
            "rule": rule,
            "margin_pixels": outcome.margin,
            "reach_pixels": outcome.reach,
            "tolerance": settings.tolerance,
            "scored_pixels": {
                shape: {f"{angle:g}": n for angle, n in counts.items()}
                for shape, counts in outcome.region_pixels.items()
            },
            "rotation_interpolation": settings.rotation_interpolation,
        },
        "rotation": {
            "interpolation": settings.rotation_interpolation,
            "description": ROTATION_DESCRIPTIONS[settings.rotation_interpolation],
            "band": settings.rotation_band if rotating else "square",
            "band_description": BANDS[settings.rotation_band if rotating else "square"],
            "turned": rotating,
        },
        "brain_masks": outcome.mask_sources,
        "seconds": seconds,
    }


def print_summary(
    summary: dict[str, Any], output_dir: Path, console: Console | None = None
) -> None:
    """The headline table on the console: every method next to bicubic."""
    console = console or Console()
    reference = reference_of(summary)
    if summary.get("volumes"):
        volumes = Table(title="Evaluation per volume")
        for column in ("subject", "contrast", "method", "region", "PSNR (dB)", "SSIM"):
            volumes.add_column(
                column, justify="right" if column in ("PSNR (dB)", "SSIM") else "left"
            )
        for row in summary["volumes"]:
            volumes.add_row(
                row["subject"],
                row["contrast"],
                row["method"],
                row["region"],
                f"{row['psnr']:.2f}",
                f"{row['ssim']:.4f}",
            )
        console.print(volumes)
    table = Table(title="Evaluation (mean over slices and angles)")
    for column in (
        "method",
        "view",
        "region",
        "PSNR (dB)",
        "SSIM",
        f"PSNR gain over {reference}",
        "n",
    ):
        table.add_column(
            column, justify="left" if column in ("method", "view", "region") else "right"
        )
    gains = summary[gains_key(reference)]
    for method, views in summary["scores"].items():
        for view, regions in views.items():
            for region, cell in regions.items():
                gain = gains.get(method, {}).get(view, {}).get(region, {}).get("psnr", {})
                table.add_row(
                    method,
                    view,
                    region,
                    "n/a" if cell["psnr"] is None else f"{cell['psnr']:.2f}",
                    "n/a" if cell["ssim"] is None else f"{cell['ssim']:.4f}",
                    "" if gain.get("mean") is None else f"{gain['mean']:+.2f}",
                    str(cell["n"]),
                )
    console.print(table)
    print_lines(console, f"report: {output_dir / 'report.md'}")
