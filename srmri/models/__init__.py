"""srmri's networks: EDSR, WDSR-A, WDSR-B, mDCSRN, interpolation baselines, and RGB weight import.

Every network maps ``lr`` ``(B, C, h, w)`` in [0, 1] to ``sr`` ``(B, C, h * scale, w * scale)``
and has the attributes ``scale`` and ``channels``; with ``spatial_dims=3`` (EDSR, WDSR, mDCSRN,
Interpolation) it maps volumes ``(B, C, d, h, w)`` to ``(B, C, d s, h s, w s)``.
"""

from srmri.models.bspline import bspline_resample, bspline_to_hr
from srmri.models.edsr import EDSR
from srmri.models.interpolation import Interpolation, upsample
from srmri.models.mdcsrn import MDCSRN
from srmri.models.transfer import (
    GreyAsRGB,
    WeightImportError,
    build_network,
    fold_to_grey,
    load_pretrained,
)
from srmri.models.wdsr import WDSRA, WDSRB

__all__ = [
    "EDSR",
    "MDCSRN",
    "WDSRA",
    "WDSRB",
    "GreyAsRGB",
    "Interpolation",
    "WeightImportError",
    "bspline_resample",
    "bspline_to_hr",
    "build_network",
    "fold_to_grey",
    "load_pretrained",
    "upsample",
]
