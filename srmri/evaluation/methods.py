"""The methods an evaluation compares: learned models and interpolation baselines.

A :class:`Method` is a name and a function from an LR batch ``(B, 1, h, w)`` to an SR batch
``(B, 1, h * scale, w * scale)``. Bicubic is :func:`srmri.models.upsample`, the one definition the
LightningModule also scores against; ``linear`` and ``nearest`` go through it too, and ``lanczos``
is :mod:`srmri.evaluation.lanczos`. All share one pixel-centre convention, so no method is shifted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor

from srmri.evaluation.lanczos import lanczos_upsample
from srmri.models import upsample

BASELINES = ("bicubic", "linear", "nearest", "lanczos")
# Report name -> mode of srmri.models.upsample / Interpolation.
INTERPOLATION_MODES = {"bicubic": "bicubic", "linear": "bilinear", "nearest": "nearest"}


@dataclass(frozen=True)
class Method:
    """One column of the comparison.

    Attributes:
        name: its name in ``metrics.csv`` and the figures.
        upscale: ``lr`` ``(B, 1, h, w)`` -> ``sr`` ``(B, 1, h * scale, w * scale)``.
        is_model: a learned model (scored against bicubic), not an interpolation baseline.
    """

    name: str
    upscale: Callable[[Tensor], Tensor]
    is_model: bool


def baseline(name: str, scale: int) -> Method:
    """The interpolation baseline ``name`` (one of :data:`BASELINES`) at ``scale``."""
    if name == "lanczos":
        return Method(name, lambda lr: lanczos_upsample(lr, scale), is_model=False)
    if name not in INTERPOLATION_MODES:
        raise ValueError(f"baseline must be one of {BASELINES}, got {name!r}")
    mode = INTERPOLATION_MODES[name]
    return Method(name, lambda lr: upsample(lr, scale, mode), is_model=False)
