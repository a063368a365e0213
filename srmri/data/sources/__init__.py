"""Where volumes come from: each source lists its records and splits them into train / val / test.

================  =====================================================================
``mni152``        the MNI152 T1 template shipped with nilearn; one volume, split by slab
``nifti_folder``  any folder of NIfTI volumes; subject and contrast parsed from file names
``ixi``           the IXI naming (``IXI002-Guys-0828-T1.nii.gz``), a preset of nifti_folder
``msd_brain``     Medical Segmentation Decathlon Task01_BrainTumour (4-D, four contrasts)
``synth``         random synthetic contrasts of the MNI152 anatomy, generated during training
================  =====================================================================

A source is any object with ``splits() -> {"train": [...], "val": [...], "test": [...]}`` of
:class:`~srmri.data.records.VolumeRecord`; it may also have ``prepare()``, called once on the
first process of a run before any split is read (downloads go there). A source with a
``refresh_every`` > 0 and ``train_records(block)`` renews its training volumes during a run
(every ``refresh_every`` training batches; see :class:`~srmri.data.sources.synth.SynthSource`).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from srmri.data.records import VolumeRecord
from srmri.data.sources.folder import NiftiFolderSource
from srmri.data.sources.mni152 import Mni152Source
from srmri.data.sources.msd import MsdBrainSource
from srmri.data.sources.synth import SynthSource

__all__ = ["Mni152Source", "MsdBrainSource", "NiftiFolderSource", "Source", "SynthSource"]


@runtime_checkable
class Source(Protocol):
    """Anything that lists records per split."""

    def splits(self) -> dict[str, list[VolumeRecord]]: ...
