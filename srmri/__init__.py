"""srmri: deep-learning super resolution for MRI.

The domain core sits at the root (:mod:`srmri.degradation`: HR -> LR; :mod:`srmri.metrics`: PSNR /
SSIM); each subpackage has one role: ``data`` (volumes -> patches and slices), ``models`` (the
networks), ``lightning`` (the LightningModule), ``callbacks`` (what a run adds to the trainer),
``io`` (files and errors), ``tasks`` (what the entry points run), ``evaluation`` (the study),
``inference`` (NIfTI in, NIfTI out), ``pretrained`` (the shipped models) and ``adapt`` (fine-tuning
on the scan at hand).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["predict_volume"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `import srmri` stays light for code that never predicts.
    if name == "predict_volume":
        from srmri.inference import predict_volume

        return predict_volume
    raise AttributeError(f"module 'srmri' has no attribute {name!r}")
