"""Synthetic any-contrast volumes from the MNI152 anatomy (see :mod:`srmri.data.synth`).

Training volumes are generated on the fly: every ``refresh_every`` training batches the data
module asks :meth:`SynthSource.train_records` for the next block of ``volumes`` new volumes, and
the patches of those batches are drawn from them. Validation and test hold fixed volumes: the
real T1 template and ``eval_contrasts`` synthetic ones of fixed seeds, generated once into the
cache. Every set is cut to its slab of the grid exactly as ``data=mni152`` cuts the template
(train / val / test blocks along the superior-inferior axis), so no anatomy is shared between
training and evaluation whatever the contrast.

Volumes travel to the data module as NIfTI files, so they go through the one loading path of
every source (:func:`~srmri.data.volume.load_volume`: orientation, normalisation, slab).
Training files are written to a folder of this process and replaced at every block.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import nibabel as nib
import nilearn
import numpy as np

from srmri.data.records import SPLITS, Slab, VolumeRecord
from srmri.data.sources.mni152 import brain_slabs, save_atomic
from srmri.data.splits import write_split
from srmri.data.synth.anatomy import mni152_anatomy
from srmri.data.synth.generator import SynthGenerator
from srmri.data.volume import view_axis
from srmri.io.plain_values import plain

SUBJECT = "mni152"
# Seeds of the evaluation volumes live apart from training seeds (a different entropy prefix).
EVAL_STREAM = 7_919


class SynthSource:
    """Synthetic contrasts of the MNI152 anatomy, split by slab.

    Args:
        cache_dir: writable folder; evaluation volumes are written there once, training volumes
            in a temporary folder below it.
        generator: keyword arguments of :class:`~srmri.data.synth.generator.SynthGenerator`
            (``real_fraction``, ``contrast``, ``deformation``, ``artefacts``).
        seed: seed of the training volumes (volume ``j`` of block ``b`` is a function of
            ``(seed, b, j)``).
        volumes: training volumes generated per block.
        refresh_every: training batches drawn from one block before the next is generated;
            0 keeps block 0 for the whole run.
        eval_contrasts: synthetic volumes in each of validation and test, besides the real T1.
        eval_seed: seed of the evaluation volumes.
        downsample: block-average the anatomy this many times (1: the 1 mm template; 4: tests).
        slab_view, fractions, order, gap, split_dir: the slab split, as
            :class:`~srmri.data.sources.Mni152Source`.
    """

    def __init__(
        self,
        cache_dir: str | Path,
        generator: Mapping | None = None,
        seed: int = 0,
        volumes: int = 2,
        refresh_every: int = 200,
        eval_contrasts: int = 3,
        eval_seed: int = 0,
        downsample: int = 1,
        slab_view: str = "axial",
        fractions: Mapping[str, float] | None = None,
        order: Sequence[str] = SPLITS,
        gap: int = 4,
        split_dir: str | Path | None = None,
    ) -> None:
        for key, value, low in (
            ("volumes", volumes, 1),
            ("refresh_every", refresh_every, 0),
            ("eval_contrasts", eval_contrasts, 0),
            ("downsample", downsample, 1),
        ):
            if int(value) != value or value < low:
                raise ValueError(f"data.source.{key}={value!r}: expected an integer >= {low}")
        self.cache_dir = Path(cache_dir).expanduser()
        self.generator_config = plain(dict(generator or {}))
        self.seed = int(seed)
        self.volumes = int(volumes)
        self.refresh_every = int(refresh_every)
        self.eval_contrasts = int(eval_contrasts)
        self.eval_seed = int(eval_seed)
        self.downsample = int(downsample)
        self.slab_view = slab_view
        self.axis = view_axis(slab_view)
        self.fractions = dict(fractions or {"train": 0.6, "val": 0.1, "test": 0.3})
        self.order = list(order)
        self.gap = int(gap)
        self.split_dir = split_dir
        self._generator: SynthGenerator | None = None
        self._train_dir: Path | None = None

    @property
    def generator(self) -> SynthGenerator:
        """The generator, built on first use (loading the anatomy takes a few seconds)."""
        if self._generator is None:
            anatomy = mni152_anatomy(self.downsample)
            self._generator = SynthGenerator(anatomy, **self.generator_config)
        return self._generator

    @property
    def folder(self) -> Path:
        """Cache folder of the evaluation volumes, keyed by everything that shapes them."""
        key = json.dumps(
            [nilearn.__version__, self.downsample, self.eval_seed, self.generator_config],
            sort_keys=True,
        )
        return self.cache_dir / "synth" / hashlib.sha256(key.encode()).hexdigest()[:16]

    def slabs(self) -> dict[str, tuple[int, int] | None]:
        """The ``[start, stop)`` block of each set along the slab axis (None: an empty set)."""
        mask = self.generator.anatomy.brain.numpy() >= 0.5
        return brain_slabs(mask, self.axis, self.fractions, self.order, self.gap)

    def splits(self) -> dict[str, list[VolumeRecord]]:
        """Block 0 of training volumes; the fixed evaluation volumes of validation and test."""
        ranges = self.slabs()
        if self.split_dir is not None:
            write_split(
                self.split_dir,
                {
                    "source": "synth",
                    "by": "slab",
                    "slab_view": self.slab_view,
                    "axis": self.axis,
                    "gap": self.gap,
                    **{name: list(block) if block else None for name, block in ranges.items()},
                },
            )
        splits = {"train": self.train_records(0) if ranges["train"] else []}
        for index, name in enumerate(("val", "test"), start=1):
            splits[name] = self._eval_records(name, index, ranges[name]) if ranges[name] else []
        return splits

    def train_records(self, block: int) -> list[VolumeRecord]:
        """The training volumes of ``block``, written as NIfTI (replacing the previous block's)."""
        block_range = self.slabs()["train"]
        if block_range is None:
            return []
        folder = self._private_folder()
        for old in folder.iterdir():
            old.unlink()
        records = []
        for j in range(self.volumes):
            seed = _seed(self.seed, block, j)
            volume = self.generator(seed)
            contrast = "T1" if volume.real else "synthetic"
            stem = folder / f"block{block}_{j}"
            records.append(self._write(stem, volume, contrast, Slab(self.axis, *block_range)))
        return records

    def _eval_records(self, split: str, index: int, block: tuple[int, int]) -> list[VolumeRecord]:
        slab = Slab(self.axis, *block)
        anatomy = self.generator.anatomy
        real = self._cached(f"{split}_t1", lambda: (anatomy.t1, anatomy.brain >= 0.5), "T1", slab)
        records = [real]
        for i in range(self.eval_contrasts):

            def make(i: int = i) -> tuple:
                volume = self.generator(_seed(self.eval_seed, EVAL_STREAM + index, i))
                return volume.image, volume.mask

            records.append(self._cached(f"{split}_synth{i}", make, f"synth{i}", slab))
        return records

    def _cached(self, name: str, make, contrast: str, slab: Slab) -> VolumeRecord:
        """The record of cached evaluation volume ``name``, generating it by ``make()`` once."""
        image, mask = self.folder / f"{name}.nii", self.folder / f"{name}_mask.nii"
        if not (image.is_file() and mask.is_file()):
            data, brain = make()
            self._save(image, mask, data, brain)
        return VolumeRecord(SUBJECT, contrast, image, mask, slab=slab)

    def _write(self, stem: Path, volume, contrast: str, slab: Slab) -> VolumeRecord:
        image, mask = stem.with_suffix(".nii"), stem.parent / f"{stem.name}_mask.nii"
        self._save(image, mask, volume.image, volume.mask)
        return VolumeRecord(SUBJECT, contrast, image, mask, slab=slab)

    def _save(self, image: Path, mask: Path, data, brain) -> None:
        affine = self.generator.anatomy.affine
        save_atomic(nib.Nifti1Image(np.asarray(data, dtype=np.float32), affine), image)
        save_atomic(nib.Nifti1Image(np.asarray(brain, dtype=np.uint8), affine), mask)

    def _private_folder(self) -> Path:
        """This process's folder of training volumes, removed when the process ends."""
        if self._train_dir is None or not self._train_dir.is_dir():
            parent = self.cache_dir / "synth" / "train"
            parent.mkdir(parents=True, exist_ok=True)
            self._train_dir = Path(tempfile.mkdtemp(dir=parent, prefix="run-"))
            atexit.register(shutil.rmtree, self._train_dir, ignore_errors=True)
        return self._train_dir

    def __getstate__(self) -> dict:
        # Workers rebuild the generator (and their own folder) rather than pickle the anatomy.
        return {**self.__dict__, "_generator": None, "_train_dir": None}


def _seed(seed: int, block: int, index: int) -> int:
    """A 63-bit seed from three integers (NumPy's SeedSequence hashing)."""
    state = np.random.SeedSequence([int(seed), int(block), int(index)]).generate_state(2, np.uint32)
    return int(state[0]) << 31 | int(state[1]) >> 1
