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
    """HR ``(B, C, H, W)`` -> LR ``(B, C, h, w)``, batched on the HR tensor's device.

    Subclasses are frozen dataclasses; they implement :attr:`factors` and :meth:`__call__`, and
    are deterministic given the ``generator`` (the only source of randomness is their noise).
    """

    @property
    @abstractmethod
    def factors(self) -> tuple[float, float]:
        """HR pixels per LR pixel along (H, W); 1 where an axis is left alone."""

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
        fh, fw = self.factors
        if fh != fw or fh != int(fh):
            raise ValueError(
                f"{type(self).__name__} has factors {self.factors} (H, W): not one integer scale"
            )
        return int(fh)

    def lr_size(self, hr_size: int, axis: int = -2) -> int:
        """Number of LR samples along ``axis`` (-2 = H, -1 = W) of an HR axis of ``hr_size``."""
        factor = self.factors[_axis_index(axis)]
        return math.floor(hr_size / factor + _FLOOR_TOLERANCE)

    def lr_shape(self, hr_shape: Sequence[int]) -> tuple[int, int]:
        """``(h, w)`` of the LR image of an HR image whose last two sizes are ``hr_shape[-2:]``."""
        height, width = hr_shape[-2:]
        return self.lr_size(height, -2), self.lr_size(width, -1)

    def lr_positions(self, hr_size: int, axis: int = -2) -> Tensor:
        """HR coordinates ``(n_lr,)`` (float64) of the LR sample centres along ``axis``."""
        factor = self.factors[_axis_index(axis)]
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


def describe_factors(factors: tuple[float, float]) -> str:
    """``x4`` for a square factor, ``x4.44 (H) x1 (W)`` otherwise."""
    fh, fw = factors
    if fh == fw:
        return f"x{fh:g}"
    return f"x{fh:g} (H) x{fw:g} (W)"


def _axis_index(axis: int) -> int:
    if axis in (-2, 2):
        return 0
    if axis in (-1, 3):
        return 1
    raise ValueError(f"axis must be -2 (H) or -1 (W) of a (B, C, H, W) batch, got {axis!r}")


def check_batch(hr: Tensor, name: str) -> None:
    """Raise ValueError unless ``hr`` is a 4-D floating batch ``(B, C, H, W)``."""
    if hr.ndim != 4:
        raise ValueError(f"{name} expects an HR batch (B, C, H, W), got shape {tuple(hr.shape)}")
    if not hr.is_floating_point():
        raise ValueError(f"{name} expects a floating-point HR batch, got {hr.dtype}")
