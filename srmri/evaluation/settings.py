"""The evaluation's own settings, read from the config and checked before any work starts.

Every check names the config key, the value and what was expected, so a typo in an override fails
in the first second of a run rather than after the volumes are loaded.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srmri.data import VIEWS
from srmri.evaluation.methods import BASELINES
from srmri.evaluation.rotation import BANDS, INTERPOLATIONS
from srmri.io.errors import ConfigError

# The keys of conf/evaluate.yaml that :func:`read_settings` reads, with their types; values are
# checked further there. ``Any``: a path, list or mapping that read_settings checks itself.
SETTINGS_KEYS: dict[str, Any] = {
    "ckpt_path": Any,
    "pretrained": Any,
    "views": Any,
    "angles": Any,
    "slices": Any,
    "baselines": Any,
    "output_dir": str,
    "overwrite": bool,
    "batch_size": int,
    "device": str,
    "seed": int,
    "progress": bool,
    "rotation": {"interpolation": str, "band": str, "tolerance": float},
    "brain_mask": {"use_given": bool, "threshold": float},
    "figures": {"slices": Any, "zoom": float, "histogram_bins": int, "histogram_max": float},
}


@dataclass(frozen=True)
class Settings:
    """What to score and where to write it.

    Attributes:
        checkpoints: method name (None: the checkpoint's own) -> checkpoint path, in order.
        views: slicing directions.
        angles: in-plane rotation angles in degrees.
        slices: slice indices to score in every view, or None for every slice.
        baselines: interpolation methods, ``bicubic`` first.
        output_dir: where the report goes.
        overwrite: replace a previous report in ``output_dir``.
        batch_size: slice-angle pairs per forward pass.
        device: ``cpu``, ``cuda``, ...
        seed: seed of the degradation's noise (when it has any).
        progress: show a progress bar.
        rotation_interpolation: how the HR slice is resampled when rotated.
        rotation_band: ``disk`` (the HR slice low-passed to the disk band at every angle when
            any angle turns) or ``square`` (as it is).
        tolerance: largest first-order change (normalised intensity) that the values rotated in
            from outside the slice may cause in any scored pixel.
        use_given_mask: use a volume's own brain mask when it has one.
        mask_threshold: normalised intensity above which the automatic mask starts.
        figure_slices: slices shown in the example figures, or None to pick one per view.
        zoom: side of the zoomed inset as a fraction of the slice.
        histogram_bins: bins of the absolute-difference histograms over ``[0, histogram_max]``.
        histogram_max: upper end of the histograms (normalised intensity).
    """

    checkpoints: list[tuple[str | None, Path]]
    views: list[str]
    angles: list[float]
    slices: list[int] | None
    baselines: list[str]
    output_dir: Path
    overwrite: bool
    batch_size: int
    device: str
    seed: int
    progress: bool
    rotation_interpolation: str
    rotation_band: str
    tolerance: float
    use_given_mask: bool
    mask_threshold: float
    figure_slices: list[int] | None
    zoom: float
    histogram_bins: int
    histogram_max: float


def read_settings(cfg: Mapping[str, Any]) -> Settings:
    """Check and collect the evaluation keys of a composed ``evaluate.yaml``.

    Raises:
        ConfigError: naming the key, the value and what was expected.
    """
    rotation, mask, figures = cfg["rotation"], cfg["brain_mask"], cfg["figures"]
    tolerance = _number(rotation["tolerance"], "rotation.tolerance")
    zoom = _number(figures["zoom"], "figures.zoom")
    histogram_max = _number(figures["histogram_max"], "figures.histogram_max")
    _require(tolerance >= 0, "rotation.tolerance", tolerance, "a number >= 0")
    _require(0 < zoom <= 1, "figures.zoom", zoom, "a fraction in (0, 1]")
    _require(histogram_max > 0, "figures.histogram_max", histogram_max, "a number > 0")
    _require(
        rotation["interpolation"] in INTERPOLATIONS,
        "rotation.interpolation",
        rotation["interpolation"],
        f"one of {list(INTERPOLATIONS)}",
    )
    _require(rotation["band"] in BANDS, "rotation.band", rotation["band"], f"one of {list(BANDS)}")
    return Settings(
        checkpoints=[
            *read_checkpoints(cfg.get("ckpt_path")),
            *read_pretrained(cfg.get("pretrained")),
        ],
        views=read_views(cfg["views"]),
        angles=read_angles(cfg["angles"]),
        slices=_indices(cfg.get("slices"), "slices"),
        baselines=read_baselines(cfg["baselines"]),
        output_dir=Path(str(cfg["output_dir"])).expanduser(),
        overwrite=_flag(cfg["overwrite"], "overwrite"),
        batch_size=_positive(cfg["batch_size"], "batch_size"),
        device=str(cfg["device"]),
        seed=_integer(cfg["seed"], "seed"),
        progress=_flag(cfg["progress"], "progress"),
        rotation_interpolation=str(rotation["interpolation"]),
        rotation_band=str(rotation["band"]),
        tolerance=tolerance,
        use_given_mask=_flag(mask["use_given"], "brain_mask.use_given"),
        mask_threshold=_number(mask["threshold"], "brain_mask.threshold"),
        figure_slices=_indices(figures.get("slices"), "figures.slices"),
        zoom=zoom,
        histogram_bins=_positive(figures["histogram_bins"], "figures.histogram_bins"),
        histogram_max=histogram_max,
    )


def read_checkpoints(value: Any) -> list[tuple[str | None, Path]]:
    """``ckpt_path``: None, one path, a list of paths, or a mapping ``{name: path}``."""
    if value is None:
        return []
    if isinstance(value, str | Path):
        return [(None, Path(value).expanduser())]
    if isinstance(value, Mapping):
        return [(str(name), Path(str(path)).expanduser()) for name, path in value.items()]
    if isinstance(value, Sequence):
        return [(None, Path(str(path)).expanduser()) for path in value]
    raise ConfigError(
        f"ckpt_path={value!r}: expected a checkpoint path, a list of paths or a mapping "
        "{name: path}"
    )


def read_pretrained(value: Any) -> list[tuple[str | None, Path]]:
    """``pretrained``: None, a shipped model's name or a list of names; each becomes a method of
    that name, its weights file checked against the registry's SHA-256 (:mod:`srmri.pretrained`)."""
    from srmri.pretrained import verified_path

    if value is None:
        return []
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, Sequence) or not all(isinstance(name, str) for name in names):
        raise ConfigError(
            f"pretrained={value!r}: expected a shipped model's name or a list of them"
        )
    return [(name, verified_path(name)) for name in names]


def read_views(value: Any) -> list[str]:
    views = [value] if isinstance(value, str) else list(value or [])
    _require(
        bool(views) and set(views) <= set(VIEWS) and len(set(views)) == len(views),
        "views",
        views,
        f"a non-empty list of distinct views from {list(VIEWS)}",
    )
    return views


def read_angles(value: Any) -> list[float]:
    """Rotation angles in degrees: one number or a list of numbers, no angle twice (mod 360)."""
    values = [value] if _is_number(value) or isinstance(value, str) else value
    if not isinstance(values, Sequence) or isinstance(values, str) or not values:
        raise ConfigError(f"angles={value!r}: expected a non-empty list of numbers (degrees)")
    angles = []
    for position, angle in enumerate(values):
        if not _is_number(angle) or not math.isfinite(angle):
            raise ConfigError(
                f"angles: item {position} is {angle!r}; expected a finite number of degrees "
                "(e.g. angles=[0,90])"
            )
        angles.append(float(angle))
    turns = [round(a % 360.0, 9) % 360.0 for a in angles]
    repeated = sorted({a for a, t in zip(angles, turns, strict=True) if turns.count(t) > 1})
    _require(not repeated, "angles", angles, f"distinct angles modulo 360 (repeated: {repeated})")
    return angles


def read_baselines(value: Any) -> list[str]:
    names = [value] if isinstance(value, str) else list(value or [])
    _require(
        set(names) <= set(BASELINES) and len(set(names)) == len(names),
        "baselines",
        names,
        f"distinct names from {list(BASELINES)}",
    )
    # Bicubic is the reference every gain is measured against: always scored, always first.
    return ["bicubic", *[name for name in names if name != "bicubic"]]


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _number(value: Any, key: str) -> float:
    _require(_is_number(value), key, value, "a number")
    return float(value)


def _integer(value: Any, key: str) -> int:
    _require(
        isinstance(value, numbers.Integral) and not isinstance(value, bool),
        key,
        value,
        "an integer",
    )
    return int(value)


def _positive(value: Any, key: str) -> int:
    number = _integer(value, key)
    _require(number >= 1, key, value, "an integer >= 1")
    return number


def _flag(value: Any, key: str) -> bool:
    _require(isinstance(value, bool), key, value, "true or false")
    return bool(value)


def _indices(value: Any, key: str) -> list[int] | None:
    if value is None:
        return None
    values = [value] if not isinstance(value, Sequence) or isinstance(value, str) else value
    indices = [_integer(v, key) for v in values]
    _require(
        all(i >= 0 for i in indices) and len(set(indices)) == len(indices),
        key,
        indices,
        "distinct slice indices >= 0, or null for every slice",
    )
    return sorted(indices)


def _require(ok: bool, key: str, value: Any, expected: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r}: expected {expected}")
