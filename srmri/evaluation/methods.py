"""The methods an evaluation compares: learned models and interpolation baselines.

A :class:`Method` is a name and a function from an LR batch ``(B, 1, h, w)`` to an SR batch
``(B, 1, h * scale, w * scale)``. Every baseline is a mode of :func:`srmri.models.upsample`, the one
definition the LightningModule also scores against, so all share one pixel-centre convention and
no method is shifted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor

from srmri.models import upsample
from srmri.models.interpolation import MODES

BASELINES = MODES


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
    if name not in BASELINES:
        raise ValueError(f"baseline must be one of {BASELINES}, got {name!r}")
    return Method(name, lambda lr: upsample(lr, scale, name), is_model=False)
