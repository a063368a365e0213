"""srmri: deep-learning super resolution for MRI."""

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
