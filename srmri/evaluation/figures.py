"""The study's figures, drawn with Matplotlib's Agg canvas (no display, no global pyplot state).

Slices are shown turned by 90 degrees (``numpy.rot90``) so that, in RAS volumes, superior (coronal,
sagittal) or anterior (axial) is up; this changes the display only, never a score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from srmri.evaluation.statistics import REFERENCE, Table, curve, select
from srmri.evaluation.study import Example

LABELS = {"psnr": "PSNR (dB)", "ssim": "SSIM"}
BASELINE_COLOURS = {
    "bicubic": "black",
    "linear": "0.45",
    "nearest": "0.65",
    "lanczos": "tab:brown",
    "bspline": "tab:olive",
    "zero_fill": "tab:pink",
    "tricubic": "black",
}
MODEL_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:cyan")


def colours(methods: Sequence[str], models: Sequence[str]) -> dict[str, str]:
    """One colour per method: baselines in greys, models in distinct hues."""
    palette = dict(BASELINE_COLOURS)
    for i, model in enumerate(models):
        palette[model] = MODEL_COLOURS[i % len(MODEL_COLOURS)]
    return {method: palette[method] for method in methods}


def new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def slice_curves(
    table: Table,
    contrast: str,
    view: str,
    region: str,
    methods: Sequence[str],
    models: Sequence[str],
    marks: Mapping[str, Mapping[str, Sequence[int]]],
    reference: str = REFERENCE,
) -> Figure:
    """Per-slice PSNR and SSIM of every method, crossings of each model with the reference
    (bicubic) marked.

    ``marks[model][metric]``: the slices where that model's curve crosses the reference's (the
    summary's ``slices_vs_<reference>`` crossings for this contrast, view and region).
    """
    palette = colours(methods, models)
    figure = new_figure(9, 6.5)
    axes = figure.subplots(2, 1, sharex=True)
    chosen = select(table, contrast=contrast, view=view, region=region)
    subjects = len(set(table["subject"][chosen]))
    angles = len(set(table["angle"][chosen]))
    for ax, metric in zip(axes, ("psnr", "ssim"), strict=True):
        for method in methods:
            slices, values = curve(table, method, contrast, view, region, metric)
            ax.plot(slices, values, color=palette[method], lw=1.4, label=method)
        for model in models:
            for i, k in enumerate(marks.get(model, {}).get(metric, ())):
                label = f"{model} crosses {reference}" if i == 0 else None
                ax.axvline(k, color=palette[model], ls=":", lw=1, label=label)
        ax.set_ylabel(LABELS[metric])
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, ncol=2)
    axes[1].set_xlabel(f"{view} slice index")
    figure.suptitle(
        f"{contrast}, {view}, {region} region: per-slice scores "
        f"(mean over {subjects} subject(s) and {angles} angle(s))"
    )
    return figure


def angle_curves(
    table: Table, view: str, region: str, methods: Sequence[str], models: Sequence[str]
) -> Figure:
    """Mean PSNR and SSIM of every method against the rotation angle."""
    palette = colours(methods, models)
    figure = new_figure(8, 6)
    axes = figure.subplots(2, 1, sharex=True)
    for ax, metric in zip(axes, ("psnr", "ssim"), strict=True):
        for method in methods:
            rows = select(table, method=method, view=view, region=region)
            angles = np.unique(table["angle"][rows])
            values = []
            for angle in angles:
                part = table[metric][rows & (table["angle"] == angle)]
                values.append(part[np.isfinite(part)].mean())
            ax.plot(angles, values, marker="o", ms=3, color=palette[method], label=method)
        ax.set_ylabel(LABELS[metric])
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, ncol=2)
    axes[1].set_xlabel("in-plane rotation angle (degrees)")
    figure.suptitle(
        f"{view}, {region} region: mean scores by rotation angle (same anatomy at every angle)"
    )
    return figure


def difference_maps(example: Example, methods: Sequence[str], table: Table) -> Figure:
    """``|SR - HR|`` of every method on one slice, one shared colour scale."""
    errors = {m: np.abs(example.sr[m] - example.hr) for m in methods}
    # One scale for all panels, set by the largest errors inside the scored region.
    top = max(float(np.percentile(e[example.region], 99.5)) for e in errors.values()) or 1e-3
    figure = new_figure(3.2 * len(methods) + 1, 4.2)
    axes = figure.subplots(1, len(methods), squeeze=False)[0]
    image = None
    for ax, method in zip(axes, methods, strict=True):
        image = ax.imshow(np.rot90(errors[method]), cmap="inferno", vmin=0, vmax=top)
        ax.contour(np.rot90(example.brain), levels=[0.5], colors="cyan", linewidths=0.6)
        if not example.region.all():
            ax.contour(
                np.rot90(example.region),
                levels=[0.5],
                colors="white",
                linewidths=0.6,
                linestyles="--",
            )
        ax.set_title(f"{method}\n{_score_text(table, example, method)}", fontsize=9)
        ax.set_axis_off()
    figure.colorbar(image, ax=axes.tolist(), shrink=0.8, label="|SR - HR| (normalised intensity)")
    figure.suptitle(
        f"{example.subject} {example.contrast} {example.view} slice {example.slice}, angle "
        f"{example.angle:g} deg: absolute differences\n(cyan: brain mask; dashed: scored region; "
        "scores of the scored region)"
    )
    return figure


def error_histograms(
    histograms: Mapping[str, Mapping[str, np.ndarray]],
    edges: np.ndarray,
    methods: Sequence[str],
    models: Sequence[str],
) -> Figure:
    """Distribution of ``|SR - HR|`` inside and outside the brain, per method (scored pixels)."""
    palette = colours(methods, models)
    figure = new_figure(10, 4.2)
    axes = figure.subplots(1, 2, sharey=True)
    for ax, side, title in zip(
        axes, ("inside", "outside"), ("inside the brain", "outside the brain"), strict=True
    ):
        for method in methods:
            counts = histograms[method][side]
            total = counts.sum()
            if total:
                ax.stairs(counts / total, edges, color=palette[method], label=method, lw=1.3)
        ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel(f"|SR - HR| (normalised intensity; last bin: >= {edges[-2]:.3g})")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("fraction of pixels")
    axes[0].legend(fontsize=8)
    figure.suptitle("Absolute differences over every scored slice and angle")
    return figure


def panels(
    example: Example, models: Sequence[str], zoom: float, reference: str = REFERENCE
) -> Figure:
    """LR | the reference (bicubic) | SR of each model | HR, each with a zoomed inset of the same
    box."""
    names = ["LR", reference, *models, "HR"]
    images = {
        "LR": example.lr,
        "HR": example.hr,
        **{m: example.sr[m] for m in [reference, *models]},
    }
    # Displayed arrays are rot90 of the stored ones; work in displayed coordinates.
    shown = {name: np.rot90(image) for name, image in images.items()}
    height, width = shown["HR"].shape
    side = max(round(zoom * min(height, width)), 4)
    rows, cols = (
        np.nonzero(np.rot90(example.brain))
        if example.brain.any()
        else ([height // 2], [width // 2])
    )
    top = int(np.clip(np.mean(rows) - side / 2, 0, height - side))
    left = int(np.clip(np.mean(cols) - side / 2, 0, width - side))
    figure = new_figure(3.0 * len(names), 3.6)
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    extent = (-0.5, width - 0.5, height - 0.5, -0.5)
    for ax, name in zip(axes, names, strict=True):
        # The LR image spans the same field of view, so it is drawn on the HR grid's extent.
        ax.imshow(shown[name], cmap="gray", vmin=0, vmax=1, extent=extent, interpolation="nearest")
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), side, side, fill=False, ec="yellow", lw=1))
        inset = ax.inset_axes((0.52, 0.0, 0.48, 0.48))
        inset.imshow(
            shown[name], cmap="gray", vmin=0, vmax=1, extent=extent, interpolation="nearest"
        )
        inset.set_xlim(left - 0.5, left + side - 0.5)
        inset.set_ylim(top + side - 0.5, top - 0.5)
        inset.set_xticks([])
        inset.set_yticks([])
        for spine in inset.spines.values():
            spine.set_edgecolor("yellow")
        ax.set_title(name if name != "LR" else f"LR ({example.lr.shape[0]}x{example.lr.shape[1]})")
        ax.set_axis_off()
    figure.suptitle(
        f"{example.subject} {example.contrast} {example.view} slice {example.slice}, angle "
        f"{example.angle:g} deg (yellow box: zoomed inset)"
    )
    return figure


def _score_text(table: Table, example: Example, method: str) -> str:
    rows = select(
        table,
        subject=example.subject,
        contrast=example.contrast,
        view=example.view,
        slice=example.slice,
        angle=example.angle,
        method=method,
        region="image",
    )
    if not rows.any():
        return ""
    psnr, ssim = float(table["psnr"][rows][0]), float(table["ssim"][rows][0])
    return f"PSNR {psnr:.2f} dB, SSIM {ssim:.4f}"
