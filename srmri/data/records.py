"""What one training or evaluation volume is: a file (or one channel of it), its subject and contrast.

A :class:`VolumeRecord` is the only thing sources hand to the rest of the data layer, so a split, a
cache key and an evaluation report can all be written from records alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from srmri.io.errors import SrmriError

SPLITS = ("train", "val", "test")
NONZERO = "nonzero"
"""``VolumeRecord.mask`` value meaning "the voxels of the image that are > 0" (skull-stripped data)."""


class DataError(SrmriError, ValueError):
    """Input data that cannot be used as it is; the message names the file or key and what was expected."""


@dataclass(frozen=True)
class Slab:
    """A contiguous block ``[start, stop)`` of voxels along one axis of the RAS-oriented grid.

    Used to split a single volume into disjoint 3-D blocks; every view is sliced inside its block.
    """

    axis: int
    start: int
    stop: int

    def __post_init__(self) -> None:
        if self.axis not in (0, 1, 2) or not 0 <= self.start < self.stop:
            raise DataError(f"slab needs axis in 0..2 and 0 <= start < stop, got {self}")


@dataclass(frozen=True)
class VolumeRecord:
    """One volume of one subject and contrast.

    Args:
        subject: subject identifier; splits never put one subject in two sets.
        contrast: MR contrast name (T1, T2, PD, FLAIR, ...).
        image: NIfTI file (``.nii`` or ``.nii.gz``).
        mask: brain mask NIfTI on the image's grid, ``"nonzero"`` for the image's voxels > 0, or None.
        channel: index along the 4th axis of a 4-D file; None for a 3-D file.
        slab: restrict the volume to this block of its RAS grid (single-volume splits); None for all.
    """

    subject: str
    contrast: str
    image: Path
    mask: Path | Literal["nonzero"] | None = None
    channel: int | None = None
    slab: Slab | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "image", Path(self.image))
        if self.mask is not None and self.mask != NONZERO:
            object.__setattr__(self, "mask", Path(self.mask))

    @property
    def name(self) -> str:
        """Readable identity for messages and logs: the file, its channel and its slab."""
        text = str(self.image)
        if self.channel is not None:
            text += f" (channel {self.channel})"
        if self.slab is not None:
            text += f" (axis {self.slab.axis} voxels {self.slab.start}:{self.slab.stop})"
        return text
