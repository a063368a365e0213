"""Medical Segmentation Decathlon, Task01_BrainTumour, through MONAI's ``DecathlonDataset``.

Layout (as extracted from ``Task01_BrainTumour.tar``)::

    root/Task01_BrainTumour/dataset.json
    root/Task01_BrainTumour/imagesTr/BRATS_001.nii.gz   # 4-D (X, Y, Z, 4): FLAIR, T1w, t1gd, T2w
    root/Task01_BrainTumour/labelsTr/BRATS_001.nii.gz   # tumour labels (not used here)

Each (subject, contrast) becomes one record that reads one channel of the 4-D file. The scans are
skull-stripped, so the brain mask defaults to the channel's voxels > 0. Nothing is downloaded
unless ``download`` is true, and then only into ``root``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from monai.apps import DecathlonDataset

from srmri.data.records import NONZERO, DataError, VolumeRecord
from srmri.data.splits import split_records
from srmri.io.errors import MissingFileError

TASK = "Task01_BrainTumour"
MISSING_SHOWN = 5


class MsdBrainSource:
    """MSD brain tumour volumes, one record per subject and contrast, split by subject.

    Args:
        root: folder that holds (or will hold) ``Task01_BrainTumour/``.
        contrasts: modality names to use (from ``dataset.json``); None for all of them.
        mask: ``"nonzero"`` (default) or None.
        download: fetch and extract the task into ``root`` when it is missing (needs network).
        fractions: ``{train, val, test}`` shares of the subjects.
        seed: seed of the subject shuffle.
        fixed: fixed subject lists per set; when given, ``fractions`` and ``seed`` are not used.
        split_dir: where to write ``split.json`` (the run's output directory), or None.
    """

    def __init__(
        self,
        root: str | Path,
        contrasts: Sequence[str] | None = None,
        mask: str | None = NONZERO,
        download: bool = False,
        fractions: Mapping[str, float] | None = None,
        seed: int = 0,
        fixed: Mapping[str, Sequence[str]] | None = None,
        split_dir: str | Path | None = None,
    ) -> None:
        if mask not in (None, NONZERO):
            raise DataError(f"msd_brain mask must be 'nonzero' or null, got {mask!r}")
        self.root = Path(root).expanduser()
        self.contrasts = list(contrasts) if contrasts is not None else None
        self.mask = mask
        self.download = bool(download)
        self.fractions = dict(fractions or {"train": 0.8, "val": 0.1, "test": 0.1})
        self.seed = int(seed)
        self.fixed = {name: list(subjects) for name, subjects in fixed.items()} if fixed else None
        self.split_dir = split_dir

    @property
    def task_dir(self) -> Path:
        return self.root / TASK

    def prepare(self) -> None:
        """Download and extract the task when asked to and it is not there yet."""
        if not self.download or (self.task_dir / "dataset.json").is_file():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            DecathlonDataset(self.root, TASK, "training", download=True, cache_rate=0.0)
        except Exception as error:
            raise RuntimeError(
                f"downloading {TASK} into {self.root} failed ({error}); this needs network. "
                f"Without it, fetch {TASK}.tar from http://medicaldecathlon.com on another machine "
                f"and extract it into {self.root}"
            ) from error

    def find_records(self) -> list[VolumeRecord]:
        """One record per training case and chosen contrast, sorted by subject and contrast.

        Raises:
            MissingFileError: ``dataset.json`` or listed image files are missing (says how to get them).
            DataError: a requested contrast is not in ``dataset.json``.
        """
        manifest = self.task_dir / "dataset.json"
        if not manifest.is_file():
            raise MissingFileError(
                f"MSD brain tumour data not found: {manifest} is missing. Set "
                f"data.source.download=true (needs network) or extract {TASK}.tar from "
                f"http://medicaldecathlon.com into {self.root}"
            )
        try:
            dataset = DecathlonDataset(
                self.root, TASK, "training", val_frac=0.0, cache_rate=0.0, progress=False
            )
        except (KeyError, ValueError) as error:
            raise DataError(
                f"{manifest}: not a valid Decathlon dataset.json ({error}); expected the file "
                f"shipped in {TASK}.tar"
            ) from error
        modalities = {
            name: int(index)
            for index, name in dataset.get_properties("modality")["modality"].items()
        }
        contrasts = self.contrasts if self.contrasts is not None else list(modalities)
        unknown = [name for name in contrasts if name not in modalities]
        if unknown:
            raise DataError(
                f"{manifest}: contrast(s) {unknown} not in its modalities {list(modalities)}"
            )
        images = sorted(Path(item["image"]) for item in dataset.data)
        missing = [path for path in images if not path.is_file()]
        if missing:
            shown = ", ".join(str(path) for path in missing[:MISSING_SHOWN])
            raise MissingFileError(
                f"{len(missing)} of {len(images)} images listed in {manifest} are missing "
                f"(first: {shown}); extract {TASK}.tar again into {self.root}"
            )
        return [
            VolumeRecord(_subject(path), name, path, self.mask, channel=modalities[name])
            for path in images
            for name in contrasts
        ]

    def splits(self) -> dict[str, list[VolumeRecord]]:
        """Records per set, split by subject; the split is written to ``split_dir`` when given."""
        return split_records(
            self.find_records(),
            fractions=self.fractions,
            seed=self.seed,
            fixed=self.fixed,
            split_dir=self.split_dir,
            where=str(self.task_dir),
        )


def _subject(path: Path) -> str:
    return path.name.removesuffix(".gz").removesuffix(".nii")
