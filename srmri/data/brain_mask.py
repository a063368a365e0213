"""The brain region of a volume: its own mask when it has one, else an automatic one.

The automatic mask is documented, not clever: voxels whose normalised intensity exceeds
``threshold``, the largest 3-D connected component of them (drops noise specks and objects apart
from the head), with enclosed holes filled (ventricles, dark lesions). On images with skull and
scalp it is a head mask rather than a brain mask; brain extraction was the study's future work, and
a skull-stripped mask (``data.source.mask``) should be given when scores must exclude the skull.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage
from torch import Tensor

from srmri.data import Volume


def automatic_mask(image: Tensor, threshold: float) -> Tensor:
    """``(X, Y, Z)`` bool: threshold, largest connected component, holes filled."""
    foreground = image.detach().cpu().numpy() > threshold
    labels, count = ndimage.label(foreground)
    if count == 0:
        return torch.zeros(image.shape, dtype=torch.bool)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    largest = labels == int(sizes.argmax())
    return torch.from_numpy(ndimage.binary_fill_holes(largest))


def brain_mask(volume: Volume, use_given: bool, threshold: float) -> tuple[Tensor, str]:
    """The volume's brain mask ``(X, Y, Z)`` and where it came from (``given`` or ``automatic``)."""
    if use_given and volume.mask is not None:
        return volume.mask.bool(), "given"
    return automatic_mask(volume.image, threshold), "automatic"
