"""Adapt a model to the scan at hand before predicting (``predict.py adapt=true``).

- :class:`AdaptOptions`: budget, views, from scratch or not, where to keep the result.
- :func:`adapt_to_input`: fine-tune a copy of a module on a NIfTI input's own slices.
- :func:`adapt_to_volume`: the same on a normalised volume in memory.
"""

from __future__ import annotations

from srmri.adapt.options import AdaptOptions
from srmri.adapt.run import adapt_to_input, adapt_to_volume, save_adapted

__all__ = ["AdaptOptions", "adapt_to_input", "adapt_to_volume", "save_adapted"]
