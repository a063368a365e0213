"""The data layer: NIfTI volumes -> normalised RAS volumes -> HR patches and slices.

See :mod:`srmri.data.datamodule` for the batches, :mod:`srmri.data.sources` for the sources and
:mod:`srmri.data.volume` for the axis convention of the views.
"""

from srmri.data.datamodule import SRDataModule
from srmri.data.normalisation import (
    DEFAULT_NORMALISATION,
    denormalise,
    intensity_window,
    normalisation_config,
    normalise,
)
from srmri.data.records import NONZERO, SPLITS, DataError, Slab, VolumeRecord
from srmri.data.sources import Mni152Source, MsdBrainSource, NiftiFolderSource, Source
from srmri.data.volume import (
    VIEWS,
    Volume,
    load_volume,
    num_slices,
    read_nifti,
    slice_of,
    slice_shape,
)

__all__ = [
    "DEFAULT_NORMALISATION",
    "NONZERO",
    "SPLITS",
    "VIEWS",
    "DataError",
    "Mni152Source",
    "MsdBrainSource",
    "NiftiFolderSource",
    "SRDataModule",
    "Slab",
    "Source",
    "Volume",
    "VolumeRecord",
    "denormalise",
    "intensity_window",
    "load_volume",
    "normalisation_config",
    "normalise",
    "num_slices",
    "read_nifti",
    "slice_of",
    "slice_shape",
]
