"""The LightningDataModule of srmri: cached HR volumes in, HR patches and slices out.

Volumes are loaded once per split through MONAI's ``CacheDataset`` (load, RAS orientation, checks,
normalisation); everything random (patch position, dihedral augmentation) happens after the cache,
in the DataLoader workers, which only index and crop. The LR image is NOT made here: the
LightningModule degrades the HR batch on the device with :mod:`srmri.degradation`.

Batches
-------
train: ``{"hr": (B, 1, P, P) float32, "mask": (B, 1, P, P) bool}``, ``P = patch_size``; ``hr`` is
normalised, in [0, 1] when the window is measured on HR volumes, unclipped when it is measured on
LR images (the module degrades it as it is and clips the target; see
:mod:`srmri.data.normalisation`).
val / test: ``{"hr": (B, 1, H, W), "mask": (B, 1, H, W) bool, "subject": [str], "contrast": [str],
"view": [str], "slice": (B,) int64}``, H and W cropped to multiples of ``scale`` (trailing rows and
columns dropped); one batch holds slices of one view and shape; ``slice`` indexes the slices of the
volume as returned by :meth:`SRDataModule.volumes`. ``mask`` is present only when every volume of
the source has a brain mask.

Volumes (``spatial_dims=3``): train ``{"hr": (B, 1, P, P, P), "mask": ...}`` random cubes with the
48 symmetries of the cube as augmentation; val / test: each held-out volume cut into blocks of at
most ``eval_block`` voxels per axis, one block per batch ``{"hr": (1, 1, D, H, W), ...}`` with
``view == ["volume"]`` (see :mod:`srmri.data.volume_patches`).

Volumes stay in memory as float32 (4 bytes per voxel, plus 1 per mask voxel); training volumes are
held once more as contiguous axial slice stacks when ``axial`` is among the views (see
:class:`~srmri.data.datasets.TrainPatches`).

Distributed runs (with ``use_distributed_sampler=False``) are sharded here: each rank draws
disjoint training samples, and every validation / test slice goes to exactly one rank.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial

import pytorch_lightning as pl
from monai.data import CacheDataset
from torch.utils.data import DataLoader, Dataset

from srmri.data.datasets import EvalSlices, TrainPatches, batch_as_is, eval_batches
from srmri.data.normalisation import normalisation_config
from srmri.data.records import SPLITS, DataError, VolumeRecord
from srmri.data.refreshing import RefreshingPatches
from srmri.data.sampling import EpochSampler
from srmri.data.slicing import SliceTable, slice_table
from srmri.data.sources import Source
from srmri.data.volume import VIEWS, Volume, load_volume, slice_shape
from srmri.data.volume_patches import EvalVolumeBlocks, TrainVolumePatches
from srmri.degradation import SCALES, BaseDegradation, Degradation, build_degradation
from srmri.io.legacy import upgrade_degradation
from srmri.io.plain_values import plain

log = logging.getLogger(__name__)


class SRDataModule(pl.LightningDataModule):
    """HR training patches and evaluation slices from a source of MR volumes.

    Args:
        source: a :class:`~srmri.data.sources.Source` (lists records per split).
        scale: super-resolution factor, 2, 3 or 4.
        views: slicing directions among ``axial``, ``coronal``, ``sagittal``.
        patch_size: side P of the square HR training patches; a multiple of ``scale``.
        batch_size: training patches per batch (per rank).
        eval_batch_size: validation / test slices per batch (per rank).
        num_workers: DataLoader worker processes.
        samples_per_epoch: training patches per epoch, over all ranks.
        normalisation: intensity normalisation mapping (see :mod:`srmri.data.normalisation`).
        min_foreground: training and validation drop slices whose foreground fraction is lower.
        foreground_level: normalised intensity above which a voxel is foreground, for volumes
            without a brain mask.
        augment: apply a random dihedral transform to every training patch.
        seed: seed of the training samples (a sample is a function of seed, epoch and index).
        cache_workers: threads that load volumes into the cache.
        pin_memory: pin batches in page-locked memory (faster copies to a GPU).
        degradation: the run's degradation (a :class:`~srmri.degradation.BaseDegradation` or its
            keyword arguments; default: the default one at ``scale``); a normalisation with
            ``measured_on: lr`` measures its window on the volumes it degrades.
        spatial_dims: 2 (slices and square patches, default) or 3 (cubic patches and 3-D
            evaluation blocks); the degradation must have the same.
        eval_block: with ``spatial_dims=3``, the largest side of the evaluation blocks.
    """

    def __init__(
        self,
        source: Source,
        scale: int = 2,
        views: Sequence[str] = ("axial",),
        patch_size: int = 48,
        batch_size: int = 16,
        eval_batch_size: int = 8,
        num_workers: int = 0,
        samples_per_epoch: int = 1024,
        normalisation: Mapping | None = None,
        min_foreground: float = 0.05,
        foreground_level: float = 0.05,
        augment: bool = True,
        seed: int = 0,
        cache_workers: int = 1,
        pin_memory: bool = False,
        degradation: BaseDegradation | Mapping | None = None,
        spatial_dims: int = 2,
        eval_block: int = 64,
    ) -> None:
        super().__init__()
        views = [views] if isinstance(views, str) else list(views)
        _check(scale in SCALES, "scale", scale, f"one of {SCALES}")
        _check(
            views and set(views) <= set(VIEWS) and len(set(views)) == len(views),
            "views",
            views,
            f"a non-empty list of distinct views from {VIEWS}",
        )
        _check(
            patch_size > 0 and patch_size % scale == 0,
            "patch_size",
            patch_size,
            f"a positive multiple of scale {scale}",
        )
        for key, value in (
            ("batch_size", batch_size),
            ("eval_batch_size", eval_batch_size),
            ("samples_per_epoch", samples_per_epoch),
            ("cache_workers", cache_workers),
        ):
            _check(value >= 1, key, value, "an integer >= 1")
        _check(num_workers >= 0, "num_workers", num_workers, "an integer >= 0")
        _check(
            0.0 <= min_foreground <= 1.0, "min_foreground", min_foreground, "a fraction in [0, 1]"
        )
        self.source = source
        self.scale = int(scale)
        self.views = views
        self.patch_size = int(patch_size)
        self.batch_size = int(batch_size)
        self.eval_batch_size = int(eval_batch_size)
        self.num_workers = int(num_workers)
        self.samples_per_epoch = int(samples_per_epoch)
        self.normalisation = normalisation_config(normalisation)
        self.min_foreground = float(min_foreground)
        self.foreground_level = float(foreground_level)
        self.augment = bool(augment)
        self.seed = int(seed)
        self.cache_workers = int(cache_workers)
        self.pin_memory = bool(pin_memory)
        _check(spatial_dims in (2, 3), "spatial_dims", spatial_dims, "2 or 3")
        _check(eval_block >= scale, "eval_block", eval_block, f"an integer >= scale {scale}")
        self.spatial_dims = int(spatial_dims)
        self.eval_block = int(eval_block)
        self.degradation = _degradation(degradation, self.scale, self.spatial_dims)
        self._splits: dict[str, list[VolumeRecord]] | None = None
        self._volumes: dict[str, list[Volume]] = {}
        self._tables: dict[str, SliceTable] = {}

    def prepare_data(self) -> None:
        """Let the source fetch or write its files (first process of a run only)."""
        prepare = getattr(self.source, "prepare", None)
        if prepare is not None:
            prepare()

    def setup(self, stage: str | None = None) -> None:
        """Split the source and cache the volumes that ``stage`` needs."""
        needed = {"fit": ("train", "val"), "validate": ("val",), "test": ("test",)}
        for split in needed.get(stage, SPLITS if stage is None else ()):
            self.volumes(split)

    def records(self, split: str) -> list[VolumeRecord]:
        """Records of ``split`` (``train``, ``val`` or ``test``)."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if self._splits is None:
            splits = self.source.splits()
            self._splits = {name: list(splits.get(name, [])) for name in SPLITS}
        return self._splits[split]

    def volumes(self, split: str) -> list[Volume]:
        """Loaded volumes of ``split``, cached after the first call."""
        if split not in self._volumes:
            records = self.records(split)
            start = time.perf_counter()
            load = partial(
                load_volume,
                normalisation=self.normalisation,
                degradation=self.degradation,
                views=self.views,
            )
            self._volumes[split] = _cached_volumes(records, load, self.cache_workers)
            log.info(
                "%s: %d volume(s) cached in %.1f s",
                split,
                len(records),
                time.perf_counter() - start,
            )
        return self._volumes[split]

    @property
    def has_masks(self) -> bool:
        """Whether every volume of the source has a brain mask (then batches carry ``mask``)."""
        return all(record.mask is not None for split in SPLITS for record in self.records(split))

    def table(self, split: str) -> SliceTable:
        """The slices of ``split`` in use (test keeps all; train and val drop low-foreground ones)."""
        if split not in self._tables:
            threshold = 0.0 if split == "test" else self.min_foreground
            self._tables[split] = slice_table(
                self.volumes(split), self.views, threshold, self.foreground_level
            )
        return self._tables[split]

    def train_dataloader(self) -> DataLoader:
        volumes = self.volumes("train")
        if not volumes:
            raise DataError(f"source {type(self.source).__name__} gave no training volume")
        self._check_patch_fits(volumes)
        if self.spatial_dims == 3:
            return self._train_loader(
                TrainVolumePatches(
                    volumes,
                    self.patch_size,
                    self.seed,
                    self.augment,
                    self.has_masks,
                    self.samples_per_epoch,
                    self.foreground_level,
                )
            )
        table = self.table("train")
        if len(table) == 0:
            raise DataError(
                f"no training slice has a foreground fraction >= min_foreground={self.min_foreground} "
                f"in views {self.views} of {[v.record.name for v in volumes]}"
            )
        return self._train_loader(self._patches(volumes, table))

    def _train_loader(self, dataset: Dataset) -> DataLoader:
        rank, world_size = self._shard()
        refresh_every = int(getattr(self.source, "refresh_every", 0) or 0)
        if refresh_every and hasattr(self.source, "train_records") and self.spatial_dims == 2:
            # A generating source renews its volumes every `refresh_every` batches of each rank.
            dataset = RefreshingPatches(
                self._block_patches,
                refresh_every * self.batch_size * world_size,
                self.samples_per_epoch,
                first=dataset,
            )
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            sampler=EpochSampler(self.samples_per_epoch, rank, world_size),
            num_workers=self.num_workers,
            collate_fn=batch_as_is,
            pin_memory=self.pin_memory,
            persistent_workers=self.num_workers > 0,
        )

    def _patches(self, volumes: Sequence[Volume], table: SliceTable) -> TrainPatches:
        return TrainPatches(
            volumes,
            self.views,
            table,
            self.patch_size,
            self.seed,
            self.augment,
            self.has_masks,
            self.samples_per_epoch,
        )

    def _block_patches(self, block: int) -> TrainPatches:
        """Training patches over the volumes of ``block`` of a generating source."""
        records = self.source.train_records(block)
        load = partial(
            load_volume,
            normalisation=self.normalisation,
            degradation=self.degradation,
            views=self.views,
        )
        volumes = _cached_volumes(records, load, self.cache_workers)
        table = slice_table(volumes, self.views, self.min_foreground, self.foreground_level)
        if len(table) == 0:
            raise DataError(f"block {block} of {type(self.source).__name__} has no usable slice")
        return self._patches(volumes, table)

    def val_dataloader(self) -> DataLoader:
        return self._eval_loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._eval_loader("test")

    def _eval_loader(self, split: str) -> DataLoader:
        if self.spatial_dims == 3:
            dataset: Dataset = EvalVolumeBlocks(
                self.volumes(split),
                self.eval_block,
                self.scale,
                self.has_masks,
                *self._shard(),
                min_foreground=0.0 if split == "test" else self.min_foreground,
                foreground_level=self.foreground_level,
            )
        else:
            table = self.table(split)
            batches = eval_batches(table, self.eval_batch_size, *self._shard())
            dataset = EvalSlices(
                self.volumes(split), self.views, batches, table, self.scale, self.has_masks
            )
        return DataLoader(
            dataset,
            batch_size=None,
            num_workers=self.num_workers,
            collate_fn=batch_as_is,
            pin_memory=self.pin_memory,
        )

    def _shard(self) -> tuple[int, int]:
        """(rank, world size) of the attached trainer; (0, 1) outside a distributed run."""
        trainer = self.trainer
        if trainer is None or trainer.world_size <= 1:
            return 0, 1
        return trainer.global_rank, trainer.world_size

    def _check_patch_fits(self, volumes: Sequence[Volume]) -> None:
        for volume in volumes:
            if self.spatial_dims == 3 and min(volume.image.shape) < self.patch_size:
                raise DataError(
                    f"{volume.record.name}: the volume is {tuple(volume.image.shape)}, smaller "
                    f"than the 3-D patch_size {self.patch_size} along some axis"
                )
            for view in self.views:
                height, width = slice_shape(tuple(volume.image.shape), view)
                if min(height, width) < self.patch_size:
                    raise DataError(
                        f"{volume.record.name}: {view} slices are {height}x{width}, smaller than "
                        f"patch_size {self.patch_size}; expected slices at least that large"
                    )


def _check(ok: bool, key: str, value: object, expected: str) -> None:
    if not ok:
        raise ValueError(f"data.{key}={value!r}: expected {expected}")


def _degradation(
    degradation: BaseDegradation | Mapping | None, scale: int, spatial_dims: int = 2
) -> BaseDegradation:
    if isinstance(degradation, BaseDegradation):
        chosen = degradation
    elif degradation:
        config = plain(degradation)
        # An untargeted (srmri 0.1.0) config may leave its scale to the data's.
        config = config if "_target_" in config else {"scale": scale, **config}
        chosen = build_degradation(upgrade_degradation(config))
    else:
        chosen = Degradation(scale=scale, spatial_dims=spatial_dims)
    _check(chosen.scale == scale, "scale", scale, f"the degradation's scale x{chosen.scale}")
    _check(
        chosen.spatial_dims == spatial_dims,
        "spatial_dims",
        spatial_dims,
        f"the degradation's spatial_dims {chosen.spatial_dims}",
    )
    return chosen


def _cached_volumes(
    records: Sequence[VolumeRecord], load: Callable[[VolumeRecord], Volume], workers: int
) -> list[Volume]:
    """Load every record once into MONAI's in-memory cache."""
    if not records:
        return []
    try:
        cache = CacheDataset(
            list(records),
            transform=load,
            cache_rate=1.0,
            num_workers=workers,
            progress=False,
            copy_cache=False,
        )
    except RuntimeError as error:
        # MONAI wraps transform errors; surface ours, which name the file and what was expected.
        cause = error.__cause__
        while cause is not None and not isinstance(cause, (DataError, OSError)):
            cause = cause.__cause__
        if cause is None:
            raise
        raise cause from None
    return [cache[i] for i in range(len(cache))]
