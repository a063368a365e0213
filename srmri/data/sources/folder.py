"""Any folder of NIfTI volumes, with subject and contrast parsed from each file name.

Files are found under ``root`` by glob ``patterns`` (``**`` recurses); each file NAME must fully
match ``name_regex``, whose named groups ``subject`` and ``contrast`` identify the volume (other
named groups may be used by the mask template). Masks are optional:

- ``mask: null``: no brain masks;
- ``mask: nonzero``: the image's voxels > 0 (skull-stripped data);
- ``mask: "masks/{subject}_{contrast}_mask.nii.gz"``: a path template relative to ``root``, formatted
  with the name's groups and ``stem`` (the file name without ``.nii``/``.nii.gz``). Files that a
  pattern finds but that are some volume's mask are not taken as volumes.

The split is by subject: seeded fractions, or fixed lists ``{train: [...], val: [...], test: [...]}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from srmri.data.records import NONZERO, DataError, VolumeRecord
from srmri.data.splits import split_records
from srmri.io.errors import MissingFileError

NIFTI_SUFFIXES = (".nii", ".nii.gz")


class NiftiFolderSource:
    """Volumes in a folder, split by subject.

    Args:
        root: the data folder (read only; nothing is written there).
        patterns: glob patterns relative to ``root``; each must match at least one file.
        name_regex: regex that file names must fully match, with groups ``subject`` and ``contrast``.
        mask: None, ``"nonzero"`` or a mask path template (see the module docstring).
        fractions: ``{train, val, test}`` shares of the subjects.
        seed: seed of the subject shuffle.
        fixed: fixed subject lists per set; when given, ``fractions`` and ``seed`` are not used.
        split_dir: where to write ``split.json`` (the run's output directory), or None.
    """

    def __init__(
        self,
        root: str | Path,
        patterns: Sequence[str] = ("**/*.nii*",),
        name_regex: str = r"(?P<subject>[^_]+)_(?P<contrast>[^_.]+)\.nii(\.gz)?",
        mask: str | None = None,
        fractions: Mapping[str, float] | None = None,
        seed: int = 0,
        fixed: Mapping[str, Sequence[str]] | None = None,
        split_dir: str | Path | None = None,
    ) -> None:
        self.root = Path(root).expanduser()
        self.patterns = [patterns] if isinstance(patterns, str) else list(patterns)
        try:
            self.name_regex = re.compile(name_regex)
        except re.error as error:
            raise DataError(f"name_regex {name_regex!r} is not a valid regex ({error})") from error
        missing = {"subject", "contrast"} - set(self.name_regex.groupindex)
        if missing:
            raise DataError(
                f"name_regex {name_regex!r} lacks the named group(s) {sorted(missing)}; "
                "expected (?P<subject>...) and (?P<contrast>...)"
            )
        self.mask = mask
        self.fractions = dict(fractions or {"train": 0.8, "val": 0.1, "test": 0.1})
        self.seed = int(seed)
        self.fixed = {name: list(subjects) for name, subjects in fixed.items()} if fixed else None
        self.split_dir = split_dir

    def find_records(self) -> list[VolumeRecord]:
        """One record per matched volume, sorted by subject and contrast.

        Raises:
            MissingFileError: ``root`` or a templated mask file does not exist.
            DataError: empty folder, a pattern that matches nothing, a non-NIfTI match, a file name
                that does not match ``name_regex``, or two files for one subject and contrast.
        """
        files = self._matched_files()
        parsed = {path: self.name_regex.fullmatch(path.name) for path in files}
        masks = {path: self._mask_of(path, match) for path, match in parsed.items() if match}
        mask_files = {mask for mask in masks.values() if isinstance(mask, Path)}
        records: dict[tuple[str, str], VolumeRecord] = {}
        for path, match in parsed.items():
            if path in mask_files:
                continue
            if match is None:
                raise DataError(
                    f"{path}: file name does not match name_regex {self.name_regex.pattern!r}; "
                    "expected a name with the subject and contrast groups"
                )
            key = (match["subject"], match["contrast"])
            if key in records:
                raise DataError(
                    f"{path} and {records[key].image}: two volumes for subject {key[0]!r}, "
                    f"contrast {key[1]!r}; expected one"
                )
            mask = masks[path]
            if isinstance(mask, Path) and not mask.is_file():
                raise MissingFileError(
                    f"{mask}: brain mask of {path} not found (mask template {self.mask!r})"
                )
            records[key] = VolumeRecord(key[0], key[1], path, mask)
        return [records[key] for key in sorted(records)]

    def splits(self) -> dict[str, list[VolumeRecord]]:
        """Records per set, split by subject; the split is written to ``split_dir`` when given."""
        return split_records(
            self.find_records(),
            fractions=self.fractions,
            seed=self.seed,
            fixed=self.fixed,
            split_dir=self.split_dir,
            where=str(self.root),
        )

    def _matched_files(self) -> list[Path]:
        if not self.root.is_dir():
            raise MissingFileError(f"{self.root}: data folder not found (data.source.root)")
        if not any(self.root.iterdir()):
            raise DataError(f"{self.root}: folder is empty; expected NIfTI volumes")
        files: set[Path] = set()
        for pattern in self.patterns:
            matched = [path for path in self.root.glob(pattern) if path.is_file()]
            if not matched:
                raise DataError(
                    f"{self.root}: pattern {pattern!r} matches no file; expected NIfTI volumes"
                )
            for path in matched:
                if not path.name.endswith(NIFTI_SUFFIXES):
                    raise DataError(
                        f"{path}: pattern {pattern!r} matched a file that is not NIfTI "
                        f"(expected {' or '.join(NIFTI_SUFFIXES)})"
                    )
            files.update(matched)
        return sorted(files)

    def _mask_of(self, path: Path, match: re.Match) -> Path | str | None:
        if self.mask is None or self.mask == NONZERO:
            return self.mask
        stem = path.name.removesuffix(".gz").removesuffix(".nii")
        try:
            relative = self.mask.format(stem=stem, **match.groupdict())
        except (KeyError, IndexError) as error:
            raise DataError(
                f"mask template {self.mask!r} uses {error}, which is not a group of name_regex "
                f"{self.name_regex.pattern!r} nor 'stem'"
            ) from error
        return self.root / relative
