"""Volume super resolution: NIfTI in, NIfTI out, with the input's world geometry kept.

See :mod:`srmri.inference.predict` for the functions, :mod:`srmri.inference.geometry` for the
output grid and :mod:`srmri.inference.tiling` for large slices.
"""

from srmri.inference.options import PredictOptions
from srmri.inference.paths import find_inputs, plan_outputs
from srmri.inference.predict import predict_file, predict_files, predict_volume

__all__ = [
    "PredictOptions",
    "find_inputs",
    "plan_outputs",
    "predict_file",
    "predict_files",
    "predict_volume",
]
