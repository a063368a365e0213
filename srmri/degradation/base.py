"""What every degradation is: a batched HR -> LR map that declares the LR grid it produces.

A degradation is a class instantiated from ``conf/degradation/<name>.yaml`` (its ``_target_``);
adding one is one subclass of :class:`BaseDegradation` and one YAML. The module, the baselines, the
metrics and prediction only use what this base declares, so none of them special-cases a kind.

The LR grid
-----------
Coordinates are HR pixel coordinates with the pixel-centre convention: HR pixel ``i`` is centred
at ``i`` and covers ``[i - 0.5, i + 0.5]``. Along each axis a degradation has a factor ``f`` (HR
pixels per LR pixel, any positive number: 1 leaves the axis alone, 4.44 is allowed). LR sample
``j`` covers ``[j f, (j + 1) f)`` measured from the field of view's edge, so its centre sits at
HR coordinate ``(j + 0.5) f - 0.5`` and the LR samples tile the field of view from the first edge.
An HR axis of ``n`` pixels gives ``floor(n / f)`` LR samples: a remainder of less than one LR pixel
at the far end is not sampled (for integer factors, :func:`~srmri.degradation.crop_to_scale`
drops it from the HR beforehand so that SR and HR align pixel for pixel).

Spatial dimensions
------------------
A degradation acts on the last ``spatial_dims`` axes of its batch: ``(B, C, H, W)`` slices for 2
(the default), ``(B, C, D, H, W)`` volumes for 3. It declares one factor per spatial axis, so
:meth:`~BaseDegradation.lr_shape` and :meth:`~BaseDegradation.lr_positions` read the same grid
rule along every axis whatever the number of axes.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields, is_dataclass, replace
from typing import Any

import torch
from torch import Tensor

# floor(n / f) with a tolerance, so that e.g. 10 / (10 / 3) counts 3 samples, not 2.
_FLOOR_TOLERANCE = 1e-9


class BaseDegradation(ABC):
    """HR ``(B, C, H, W)`` -> LR ``(B, C, h, w)``, batched on the HR tensor's device; with
    ``spatial_dims == 3``, HR ``(B, C, D, H, W)`` -> LR ``(B, C, d, h, w)``.

    Subclasses are frozen dataclasses; they implement :attr:`factors` and :meth:`__call__`, and
    are deterministic given the ``generator`` (the only source of randomness is their noise).
    """

    @property
    @abstractmethod
    def factors(self) -> tuple[float, ...]:
        """HR pixels per LR pixel along each spatial axis, (H, W) or (D, H, W); 1 where an axis
        is left alone."""

    @property
    def spatial_dims(self) -> int:
        """Number of spatial axes the degradation acts on: 2 (slices) or 3 (volumes)."""
        return len(self.factors)

    @abstractmethod
    def __call__(self, hr: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """The LR image of an HR batch ``(B, C, H, W)``: ``(B, C, *self.lr_shape((H, W)))``."""

    # ------------------------------------------------------------------ the LR grid
    @property
    def scale(self) -> int:
        """The one integer factor of a square, integer degradation (what an SR network needs).

        Raises:
            ValueError: if the factors differ between the axes or are not integers.
        """
        first = self.factors[0]
        if any(f != first for f in self.factors) or first != int(first):
            raise ValueError(
                f"{type(self).__name__} has factors {self.factors} "
                f"({_axis_names(len(self.factors))}): not one integer scale"
            )
        return int(first)

    def lr_size(self, hr_size: int, axis: int = -2) -> int:
        """Number of LR samples along ``axis`` (-1 = W, -2 = H, -3 = D of a volume) of an HR axis
        of ``hr_size``."""
        factor = self.factors[_axis_index(axis, len(self.factors))]
        return math.floor(hr_size / factor + _FLOOR_TOLERANCE)

    def lr_shape(self, hr_shape: Sequence[int]) -> tuple[int, ...]:
        """``(h, w)`` (or ``(d, h, w)`` in 3-D) of the LR image of an HR image whose last
        ``spatial_dims`` sizes are those of ``hr_shape``."""
        n = len(self.factors)
        sizes = hr_shape[-n:]
        return tuple(self.lr_size(size, axis - n) for axis, size in enumerate(sizes))

    def lr_positions(self, hr_size: int, axis: int = -2) -> Tensor:
        """HR coordinates ``(n_lr,)`` (float64) of the LR sample centres along ``axis``."""
        factor = self.factors[_axis_index(axis, len(self.factors))]
        index = torch.arange(self.lr_size(hr_size, axis), dtype=torch.float64)
        return (index + 0.5) * factor - 0.5

    # ------------------------------------------------------------------ config
    @property
    def baselines(self) -> tuple[str, ...]:
        """Interpolation baselines (modes of :func:`srmri.models.upsample`) that invert this
        degradation's sampling model, scored next to bicubic by ``evaluate.py``."""
        return ()

    @property
    def global_support(self) -> bool:
        """True when every LR pixel depends on every HR pixel (k-space truncation): no part of a
        rotated slice is out of the fill's reach, so ``evaluate.py`` scores angle 0 only."""
        return False

    def noiseless(self) -> BaseDegradation:
        """The same degradation without its noise (for the reach of a pipeline, see evaluation)."""
        names = {f.name for f in fields(self)} if is_dataclass(self) else set()
        changes: dict[str, Any] = {"noise_std": 0.0} if "noise_std" in names else {}
        if "noise" in names:
            changes["noise"] = "none"
        return replace(self, **changes) if changes else self  # type: ignore[type-var]

    def config(self) -> dict[str, Any]:
        """The config that rebuilds this degradation: ``_target_`` and the keyword arguments."""
        return {"_target_": target_of(type(self)), **asdict(self)}  # type: ignore[call-overload]

    def describe(self) -> str:
        """One line for reports and notes, e.g. ``KSpace(scale=2, window='hamming', ...)``."""
        arguments = ", ".join(f"{k}={v!r}" for k, v in asdict(self).items())  # type: ignore[call-overload]
        return f"{type(self).__name__}({arguments})"


def target_of(cls: type) -> str:
    """The dotted path a config names ``cls`` by: the package's public name where it has one."""
    import srmri.degradation as package

    if getattr(package, cls.__name__, None) is cls:
        return f"{package.__name__}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def build_degradation(config: Mapping[str, Any]) -> BaseDegradation:
    """The degradation a config (``_target_`` and keyword arguments) describes.

    Raises:
        ValueError: if ``_target_`` is missing, does not name a degradation, or the arguments are
            rejected by the class (the message names the offending key or value).
    """
    import hydra.utils

    settings = dict(config)
    target = settings.pop("_target_", None)
    if not isinstance(target, str):
        raise ValueError(
            f"degradation config needs a _target_ naming its class (see conf/degradation/), "
            f"got {dict(config)!r}"
        )
    try:
        cls = hydra.utils.get_class(target)
    except Exception as error:
        raise ValueError(f"degradation._target_={target!r} cannot be imported: {error}") from None
    if not (isinstance(cls, type) and issubclass(cls, BaseDegradation)):
        raise ValueError(f"degradation._target_={target!r} is not a srmri degradation class")
    try:
        return cls(**settings)
    except TypeError as error:
        raise ValueError(f"degradation {target}: {error}") from None


def describe_factors(factors: Sequence[float]) -> str:
    """``x4`` for a square (or cubic) factor, ``x4.44 (H) x1 (W)`` otherwise."""
    if all(f == factors[0] for f in factors):
        return f"x{factors[0]:g}"
    names = _axis_names(len(factors)).split(", ")
    return " ".join(f"x{f:g} ({name})" for f, name in zip(factors, names, strict=True))


def _axis_names(spatial_dims: int) -> str:
    return "D, H, W" if spatial_dims == 3 else "H, W"


def _axis_index(axis: int, spatial_dims: int = 2) -> int:
    """Index into :attr:`BaseDegradation.factors` of a negative spatial axis, or of a
    non-negative axis of a ``(B, C, *spatial)`` batch."""
    index = axis + spatial_dims if axis < 0 else axis - 2
    if not 0 <= index < spatial_dims:
        shape = "(B, C, D, H, W)" if spatial_dims == 3 else "(B, C, H, W)"
        raise ValueError(f"axis must be a spatial axis of a {shape} batch, got {axis!r}")
    return index


def check_spatial_dims(spatial_dims: int, name: str) -> None:
    """Raise ValueError unless ``spatial_dims`` is 2 or 3."""
    if spatial_dims not in (2, 3):
        raise ValueError(f"{name} spatial_dims must be 2 or 3, got {spatial_dims!r}")


def check_batch(hr: Tensor, name: str, spatial_dims: int = 2) -> None:
    """Raise ValueError unless ``hr`` is a floating batch ``(B, C, H, W)`` (``spatial_dims=2``)
    or ``(B, C, D, H, W)`` (``spatial_dims=3``)."""
    if hr.ndim != 2 + spatial_dims:
        shape = "(B, C, D, H, W)" if spatial_dims == 3 else "(B, C, H, W)"
        raise ValueError(f"{name} expects an HR batch {shape}, got shape {tuple(hr.shape)}")
    if not hr.is_floating_point():
        raise ValueError(f"{name} expects a floating-point HR batch, got {hr.dtype}")


def check_scale(hr: Tensor, scale: int) -> list[int]:
    """The LR sizes of ``hr``'s spatial axes; ValueError unless each is a multiple of ``scale``."""
    sizes = hr.shape[2:]
    if any(n % scale for n in sizes):
        raise ValueError(
            f"HR size {'x'.join(map(str, sizes))} is not a multiple of scale {scale}; crop it with "
            "crop_to_scale first"
        )
    return [n // scale for n in sizes]
