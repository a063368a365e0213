"""Train / val / test splits: by subject (seeded or fixed lists) and, for one volume, by slab.

A subject never appears in two sets: every record of a subject (all its contrasts) follows it.
A single volume is cut into disjoint 3-D blocks along one axis, separated by a gap, so that no
voxel, and no slice of any view, is shared by two sets. The chosen split is written as JSON to the
run's output directory (never next to the data) so that it is recorded with the results.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from srmri.data.records import SPLITS, DataError, VolumeRecord
from srmri.io.atomic import write_text_atomic

log = logging.getLogger(__name__)
SPLIT_FILE = "split.json"


def check_fractions(fractions: Mapping[str, float]) -> dict[str, float]:
    """Validate ``{train, val, test}`` fractions: non-negative, train > 0, summing to 1."""
    unknown = sorted(set(fractions) - set(SPLITS))
    if unknown:
        raise DataError(f"split fractions: unknown key(s) {unknown}; expected {list(SPLITS)}")
    values = {name: float(fractions.get(name, 0.0)) for name in SPLITS}
    if min(values.values()) < 0 or values["train"] <= 0 or abs(sum(values.values()) - 1) > 1e-6:
        raise DataError(
            f"split fractions {values}: expected non-negative values, train > 0, summing to 1"
        )
    return values


def subject_split(
    subjects: Iterable[str], fractions: Mapping[str, float], seed: int
) -> dict[str, list[str]]:
    """Shuffle the subjects with ``seed`` and cut them by ``fractions``.

    A set with a non-zero fraction gets at least one subject when there are at least three
    subjects, so that tiny folders still validate and test.

    Raises:
        DataError: if too few subjects are left for training.
    """
    fractions = check_fractions(fractions)
    ordered = sorted(set(subjects))
    n = len(ordered)
    counts = {}
    for name in ("test", "val"):
        count = round(fractions[name] * n)
        counts[name] = max(count, 1) if fractions[name] > 0 and n >= 3 else count
    if n - counts["test"] - counts["val"] < 1:
        raise DataError(
            f"{n} subject(s) cannot be split by {fractions}: no subject left for training"
        )
    shuffled = [ordered[i] for i in np.random.default_rng(seed).permutation(n)]
    test = shuffled[: counts["test"]]
    val = shuffled[counts["test"] : counts["test"] + counts["val"]]
    train = shuffled[counts["test"] + counts["val"] :]
    return {"train": sorted(train), "val": sorted(val), "test": sorted(test)}


def fixed_split(
    subjects: Iterable[str], fixed: Mapping[str, Sequence[str]], where: str
) -> dict[str, list[str]]:
    """Use the given subject lists; subjects listed in none of them are left out (and logged).

    Lists may be empty, e.g. ``{test: [...]}`` alone to evaluate a trained model on a folder.

    Raises:
        DataError: on an unknown split name, a subject listed twice or a subject not found in ``where``.
    """
    unknown = sorted(set(fixed) - set(SPLITS))
    if unknown:
        raise DataError(f"fixed split: unknown key(s) {unknown}; expected {list(SPLITS)}")
    available = set(subjects)
    split = {name: sorted(str(s) for s in fixed.get(name) or []) for name in SPLITS}
    seen: dict[str, str] = {}
    for name, listed in split.items():
        for subject in listed:
            if subject in seen:
                raise DataError(
                    f"fixed split: subject {subject!r} is in both {seen[subject]} and {name}"
                )
            if subject not in available:
                raise DataError(f"fixed split: subject {subject!r} ({name}) not found in {where}")
            seen[subject] = name
    unused = sorted(available - set(seen))
    if unused:
        log.warning("fixed split leaves out %d subject(s) of %s: %s", len(unused), where, unused)
    return split


def records_by_split(
    records: Sequence[VolumeRecord], split: Mapping[str, Sequence[str]]
) -> dict[str, list[VolumeRecord]]:
    """Send every record to the set of its subject (records of unlisted subjects are dropped)."""
    home = {subject: name for name, subjects in split.items() for subject in subjects}
    return {name: [r for r in records if home.get(r.subject) == name] for name in SPLITS}


def slab_ranges(
    start: int, stop: int, fractions: Mapping[str, float], order: Sequence[str], gap: int
) -> dict[str, tuple[int, int] | None]:
    """Cut voxels ``[start, stop)`` of one axis into contiguous blocks, ``gap`` voxels apart.

    Blocks follow ``order`` (a permutation of train/val/test) from low to high index; a set with
    fraction 0 gets no block (None) and no gap.

    Raises:
        DataError: on a bad order or gap, or a range too short for a voxel per block.
    """
    fractions = check_fractions(fractions)
    if sorted(order) != sorted(SPLITS):
        raise DataError(f"slab order {list(order)}: expected a permutation of {list(SPLITS)}")
    if gap < 0:
        raise DataError(f"slab gap must be >= 0 voxels, got {gap}")
    used = [name for name in order if fractions[name] > 0]
    available = stop - start - gap * (len(used) - 1)
    sizes = {name: int(fractions[name] * available) for name in used}
    # Rounding leftovers go to training, the largest set.
    sizes["train"] += available - sum(sizes.values())
    if min(sizes.values(), default=0) < 1:
        raise DataError(
            f"voxels {start}:{stop} are too few for slabs {fractions} with a gap of {gap}"
        )
    ranges: dict[str, tuple[int, int] | None] = dict.fromkeys(SPLITS)
    position = start
    for name in used:
        ranges[name] = (position, position + sizes[name])
        position += sizes[name] + gap
    return ranges


def write_split(directory: str | Path, content: Mapping) -> Path:
    """Write ``content`` as ``split.json`` in ``directory``, atomically; returns the file's path."""
    return write_text_atomic(
        Path(directory) / SPLIT_FILE, json.dumps(content, indent=2, default=str) + "\n"
    )


def split_records(
    records: Sequence[VolumeRecord],
    *,
    fractions: Mapping[str, float],
    seed: int,
    fixed: Mapping[str, Sequence[str]] | None,
    split_dir: str | Path | None,
    where: str,
) -> dict[str, list[VolumeRecord]]:
    """Split records by subject (fixed lists when given, else seeded) and record the split as JSON."""
    subjects = {record.subject for record in records}
    if fixed:
        split = fixed_split(subjects, fixed, where)
    else:
        split = subject_split(subjects, fractions, seed)
    if split_dir is not None:
        write_split(
            split_dir,
            {
                "source": where,
                "by": "subject",
                "fixed": bool(fixed),
                "seed": seed,
                "fractions": dict(fractions),
                **split,
            },
        )
    return records_by_split(records, split)
