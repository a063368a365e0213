"""The demo source: the MNI152 T1 template (and its brain mask) that the nilearn wheel ships.

It is ONE volume of one "subject", so it cannot be split by subject. Instead the volume is cut into
three disjoint 3-D blocks (slabs) stacked along one axis, by default the superior-inferior axis
(the one axial slices hold fixed), with a gap of a few voxels between blocks; every view is then
sliced inside its block. Splitting per view would leak voxels: an axial training slice crosses every
coronal validation slice. Blocks cover the brain mask's extent along the axis, so each holds brain.

Scores on this source measure how well a model fits one brain, not how it generalises to new
subjects; use a multi-subject source for that.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import nibabel as nib
import nilearn
import numpy as np
from nilearn.datasets import load_mni152_brain_mask, load_mni152_template

from srmri.data.records import SPLITS, Slab, VolumeRecord
from srmri.data.splits import slab_ranges, write_split
from srmri.data.volume import view_axis


class Mni152Source:
    """MNI152 T1 template split into slabs.

    Args:
        cache_dir: writable folder; the template and mask are written there once as NIfTI.
        resolution: template voxel size in mm (1 or 2, as nilearn offers).
        slab_view: the view whose fixed axis the slabs are stacked along (``axial``: superior-inferior).
        fractions: ``{train, val, test}`` shares of the brain's extent along that axis.
        order: the sets' blocks from low to high index along the axis (RAS: inferior to superior).
        gap: voxels left out between neighbouring blocks.
        split_dir: where to write ``split.json`` (the run's output directory), or None.
    """

    def __init__(
        self,
        cache_dir: str | Path,
        resolution: int = 1,
        slab_view: str = "axial",
        fractions: Mapping[str, float] | None = None,
        order: Sequence[str] = SPLITS,
        gap: int = 4,
        split_dir: str | Path | None = None,
    ) -> None:
        self.cache_dir = Path(cache_dir).expanduser()
        self.resolution = int(resolution)
        self.axis = view_axis(slab_view)
        self.slab_view = slab_view
        self.fractions = dict(fractions or {"train": 0.6, "val": 0.1, "test": 0.3})
        self.order = list(order)
        self.gap = int(gap)
        self.split_dir = split_dir

    @property
    def folder(self) -> Path:
        # Keyed by nilearn's version: the shipped template has changed between releases.
        return self.cache_dir / "mni152" / f"nilearn-{nilearn.__version__}"

    @property
    def image_path(self) -> Path:
        return self.folder / f"mni152_t1_{self.resolution}mm.nii.gz"

    @property
    def mask_path(self) -> Path:
        return self.folder / f"mni152_brain_mask_{self.resolution}mm.nii.gz"

    def prepare(self) -> None:
        """Write the template and its mask into the cache (once; atomically)."""
        if not self.image_path.is_file():
            template = load_mni152_template(resolution=self.resolution)
            data = np.asarray(template.get_fdata(), dtype=np.float32)
            save_atomic(nib.Nifti1Image(data, template.affine), self.image_path)
        if not self.mask_path.is_file():
            mask = load_mni152_brain_mask(resolution=self.resolution)
            data = (np.asarray(mask.get_fdata()) > 0).astype(np.uint8)
            save_atomic(nib.Nifti1Image(data, mask.affine), self.mask_path)

    def splits(self) -> dict[str, list[VolumeRecord]]:
        """One record per set, each restricted to its slab of the RAS grid."""
        self.prepare()
        mask = nib.as_closest_canonical(nib.load(self.mask_path)).get_fdata() > 0
        ranges = brain_slabs(mask, self.axis, self.fractions, self.order, self.gap)
        if self.split_dir is not None:
            write_split(
                self.split_dir,
                {
                    "source": str(self.image_path),
                    "by": "slab",
                    "slab_view": self.slab_view,
                    "axis": self.axis,
                    "gap": self.gap,
                    **{name: list(block) if block else None for name, block in ranges.items()},
                },
            )
        return {
            name: [
                VolumeRecord(
                    "mni152", "T1", self.image_path, self.mask_path, slab=Slab(self.axis, *block)
                )
            ]
            if block
            else []
            for name, block in ranges.items()
        }


def brain_slabs(
    mask: np.ndarray, axis: int, fractions: Mapping[str, float], order: Sequence[str], gap: int
) -> dict[str, tuple[int, int] | None]:
    """Slab ranges (see :func:`~srmri.data.splits.slab_ranges`) over the extent of an ``(X, Y, Z)``
    brain ``mask`` along ``axis``."""
    other = tuple(a for a in range(3) if a != axis)
    present = np.flatnonzero(np.asarray(mask).any(axis=other))
    return slab_ranges(int(present[0]), int(present[-1]) + 1, fractions, order, gap)


def save_atomic(image: nib.Nifti1Image, path: Path) -> None:
    """Write a NIfTI image through a temporary file in the same folder, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # nibabel picks the format (compressed or not) from the file name's ending.
    suffix = ".nii.gz" if path.name.endswith(".nii.gz") else path.suffix
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp.", suffix=suffix)
    os.close(fd)
    try:
        nib.save(image, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
