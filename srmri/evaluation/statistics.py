"""Statistics of the score table: summaries, per-slice curves, crossings and paired comparisons.

Scores that are not finite (PSNR of a slice that a method reproduces exactly, e.g. an all-zero
slice, is +inf) cannot be averaged. Every method's mean is taken over the same places (subject,
contrast, view, slice, angle, region): those that EVERY method scores finitely; the places left out
are counted (``excluded``). Otherwise a slice that bicubic reproduces exactly would be dropped from
bicubic's mean but kept, with a high finite score, in the model's. A model is always compared with
bicubic on the same rows.

The paired comparison's unit is the slice (a subject's slice, differences averaged over its angles):
angles of one slice are near copies, so counting them as separate observations would shrink the
interval for no reason. Neighbouring slices are correlated too, so the 95% interval resamples
what is independent (:mod:`srmri.evaluation.bootstrap`): subjects when there are two or more (a
cluster bootstrap), else blocks of contiguous slices of the one subject (a moving-block
bootstrap, which describes that brain, not new subjects). The Student interval that treats the
slices as independent is kept beside it (``ci95_independent_slices``) to show the difference.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from srmri.evaluation import bootstrap
from srmri.evaluation.scores import REGIONS

METRICS = ("psnr", "ssim")
# The baseline every model is paired with: bicubic for slices; tricubic when volumes are scored.
REFERENCE = "bicubic"
Table = Mapping[str, np.ndarray]


def select(table: Table, **where: Any) -> np.ndarray:
    """Boolean row selector: every given column equals its value."""
    chosen = np.ones(len(table["psnr"]), dtype=bool)
    for column, value in where.items():
        chosen &= table[column] == value
    return chosen


def describe(values: np.ndarray) -> dict[str, float | int | None]:
    """Mean, standard deviation, median and count of the finite values, and how many were not."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"mean": None, "std": None, "median": None, "n": 0, "not_finite": int(values.size)}
    return {
        "mean": float(finite.mean()),
        "std": float(finite.std(ddof=1)) if finite.size > 1 else 0.0,
        "median": float(np.median(finite)),
        "n": int(finite.size),
        "not_finite": int(values.size - finite.size),
    }


def interval(differences: np.ndarray, confidence: float = 0.95) -> dict[str, Any]:
    """Mean of ``differences`` with its Student-t confidence interval (None below two values)."""
    n = differences.size
    mean = float(differences.mean()) if n else None
    if n < 2:
        return {"mean": mean, "ci95": None, "n": int(n)}
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * differences.std(ddof=1) / math.sqrt(n)
    return {"mean": mean, "ci95": [mean - float(half), mean + float(half)], "n": int(n)}


def paired_slices(
    table: Table,
    model: str,
    view: str,
    region: str,
    metric: str,
    contrast: str | None = None,
    reference: str = REFERENCE,
) -> dict[tuple[str, str, int], float]:
    """Model minus the ``reference`` baseline (bicubic) per (subject, contrast, slice), averaged
    over the slice's angles.

    Only rows where both scores are finite enter.
    """
    base = select(table, method=reference, view=view, region=region)
    if contrast is not None:
        base &= table["contrast"] == contrast
    reference = {
        (s, c, int(k), float(a)): v
        for s, c, k, a, v in zip(
            table["subject"][base],
            table["contrast"][base],
            table["slice"][base],
            table["angle"][base],
            table[metric][base],
            strict=True,
        )
    }
    chosen = select(table, method=model, view=view, region=region)
    if contrast is not None:
        chosen &= table["contrast"] == contrast
    sums: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    for s, c, k, a, v in zip(
        table["subject"][chosen],
        table["contrast"][chosen],
        table["slice"][chosen],
        table["angle"][chosen],
        table[metric][chosen],
        strict=True,
    ):
        other = reference.get((s, c, int(k), float(a)))
        if other is not None and math.isfinite(v) and math.isfinite(other):
            sums[(s, c, int(k))].append(v - other)
    return {key: float(np.mean(values)) for key, values in sums.items()}


def comparison(differences: Mapping[tuple[str, str, int], float]) -> dict[str, Any]:
    """Mean gain over bicubic with its 95% interval, and wins / losses / ties over slices.

    ``ci95`` is the bootstrap interval of :func:`srmri.evaluation.bootstrap.interval` (what it
    resampled is under ``interval``); ``ci95_independent_slices`` the Student interval that
    wrongly treats slices as independent, for comparison.
    """
    values = np.array(list(differences.values()), dtype=float)
    result = bootstrap.interval(differences)
    result["n_slices"] = int(values.size)
    result["ci95_independent_slices"] = interval(values)["ci95"]
    result["wins"] = int((values > 0).sum())
    result["losses"] = int((values < 0).sum())
    result["ties"] = int((values == 0).sum())
    return result


def curve(table: Table, method: str, contrast: str, view: str, region: str, metric: str):
    """Per-slice mean over subjects and angles: ``(slices, values)``, non-finite values left out."""
    chosen = select(table, method=method, contrast=contrast, view=view, region=region)
    values = table[metric][chosen]
    slices = table["slice"][chosen]
    finite = np.isfinite(values)
    index = np.unique(slices[finite])
    means = np.array([values[finite & (slices == k)].mean() for k in index], dtype=float)
    return index, means


def crossings(
    slices: np.ndarray, difference: np.ndarray, reference: str = REFERENCE
) -> dict[str, Any]:
    """Where model minus the reference (bicubic) changes sign along the slices.

    Returns the slices where the model is better, worse or tied, and ``crossings``: each slice
    where the sign differs from the last non-zero sign before it.
    """
    sign = np.sign(difference)
    changes = []
    previous = 0.0
    for k, s in zip(slices.tolist(), sign.tolist(), strict=True):
        if s != 0 and previous != 0 and s != previous:
            changes.append(int(k))
        previous = s if s != 0 else previous
    return {
        "model_better": int((sign > 0).sum()),
        f"{reference}_better": int((sign < 0).sum()),
        "tied": int((sign == 0).sum()),
        "crossings": changes,
    }


def difference_curve(
    table: Table,
    model: str,
    contrast: str,
    view: str,
    region: str,
    metric: str,
    reference: str = REFERENCE,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-slice mean of the paired differences model minus the reference (over subjects and
    angles)."""
    paired = paired_slices(table, model, view, region, metric, contrast, reference)
    by_slice: dict[int, list[float]] = defaultdict(list)
    for (_, _, k), value in paired.items():
        by_slice[k].append(value)
    slices = np.array(sorted(by_slice), dtype=int)
    return slices, np.array([np.mean(by_slice[k]) for k in slices], dtype=float)


def comparable(table: Table, methods: Sequence[str]) -> np.ndarray:
    """Rows whose place (subject, contrast, view, slice, angle, region) every method scores finitely."""
    places = list(
        zip(
            table["subject"],
            table["contrast"],
            table["view"],
            table["slice"].tolist(),
            table["angle"].tolist(),
            table["region"],
            strict=True,
        )
    )
    finite = np.isfinite(table["psnr"]) & np.isfinite(table["ssim"])
    finite_methods: dict[tuple, set] = defaultdict(set)
    for place, method, ok in zip(places, table["method"], finite, strict=True):
        if ok:
            finite_methods[place].add(method)
    wanted = set(methods)
    return np.array([wanted <= finite_methods[place] for place in places], dtype=bool)


def summarise(
    table: Table, methods: Sequence[str], models: Sequence[str], reference: str = REFERENCE
) -> dict[str, Any]:
    """The content of ``summary.json`` (see :func:`srmri.evaluation.report.write_report`): the
    gains are over ``reference``, under the keys :func:`gains_key` and :func:`curves_key`."""
    shared = comparable(table, methods)
    views = _unique(table["view"])
    contrasts = _unique(table["contrast"])
    angles = sorted({float(a) for a in table["angle"]})
    scores: dict[str, Any] = {}
    by_contrast: dict[str, Any] = {}
    by_angle: dict[str, Any] = {}
    for method in methods:
        for view in views:
            for region in REGIONS:
                rows = select(table, method=method, view=view, region=region)
                if not rows.any():
                    continue
                scores.setdefault(method, {}).setdefault(view, {})[region] = _scores(
                    table, rows, shared
                )
                for contrast in contrasts:
                    part = rows & (table["contrast"] == contrast)
                    if part.any():
                        node = by_contrast.setdefault(method, {}).setdefault(contrast, {})
                        node.setdefault(view, {})[region] = _scores(table, part, shared)
                node = by_angle.setdefault(method, {}).setdefault(view, {}).setdefault(region, {})
                for angle in angles:
                    part = rows & (table["angle"] == angle)
                    if part.any():
                        node[_angle_key(angle)] = _scores(table, part, shared)
    gains: dict[str, Any] = {}
    curves: dict[str, Any] = {}
    for model in models:
        for view in views:
            for region in REGIONS:
                if region not in scores.get(model, {}).get(view, {}):
                    continue
                node = gains.setdefault(model, {}).setdefault(view, {})
                node[region] = {
                    metric: comparison(
                        paired_slices(table, model, view, region, metric, reference=reference)
                    )
                    for metric in METRICS
                }
                for contrast in contrasts:
                    target = curves.setdefault(model, {}).setdefault(contrast, {})
                    target.setdefault(view, {})[region] = {
                        metric: crossings(
                            *difference_curve(
                                table, model, contrast, view, region, metric, reference
                            ),
                            reference,
                        )
                        for metric in METRICS
                    }
    return {
        "scores": scores,
        "reference": reference,
        gains_key(reference): gains,
        curves_key(reference): curves,
        "by_contrast": by_contrast,
        "by_angle": by_angle,
    }


def gains_key(reference: str = REFERENCE) -> str:
    """``summary.json``'s key of the models' gains: ``gains_over_bicubic`` for slice models."""
    return f"gains_over_{reference}"


def curves_key(reference: str = REFERENCE) -> str:
    """``summary.json``'s key of the per-slice sign changes: ``slices_vs_bicubic``."""
    return f"slices_vs_{reference}"


def reference_of(summary: Mapping[str, Any]) -> str:
    """The baseline a summary's gains are over (bicubic in summaries older than the key)."""
    return str(summary.get("reference", REFERENCE))


def _scores(table: Table, rows: np.ndarray, shared: np.ndarray) -> dict[str, Any]:
    used = rows & shared
    psnr, ssim = describe(table["psnr"][used]), describe(table["ssim"][used])
    return {
        "psnr": psnr["mean"],
        "ssim": ssim["mean"],
        "n": int(used.sum()),
        "excluded": int(rows.sum() - used.sum()),
        "psnr_stats": psnr,
        "ssim_stats": ssim,
    }


def _unique(values: Iterable) -> list:
    return list(dict.fromkeys(values))


def _angle_key(angle: float) -> str:
    return f"{angle:g}"
