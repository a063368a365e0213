import json

import pytest

from srmri.data.records import SPLITS, DataError, VolumeRecord
from srmri.data.splits import (
    fixed_split,
    records_by_split,
    slab_ranges,
    split_records,
    subject_split,
)

SUBJECTS = [f"s{i:02d}" for i in range(20)]


def test_subject_split_is_a_seeded_partition():
    split = subject_split(SUBJECTS, {"train": 0.7, "val": 0.15, "test": 0.15}, seed=3)
    sets = [set(split[name]) for name in SPLITS]
    assert sum(len(s) for s in sets) == len(SUBJECTS)
    assert set().union(*sets) == set(SUBJECTS)
    assert [len(s) for s in sets] == [14, 3, 3]
    assert split == subject_split(reversed(SUBJECTS), {"train": 0.7, "val": 0.15, "test": 0.15}, 3)
    assert split != subject_split(SUBJECTS, {"train": 0.7, "val": 0.15, "test": 0.15}, 4)


def test_tiny_folders_still_get_a_val_and_test_subject():
    split = subject_split(["a", "b", "c"], {"train": 0.8, "val": 0.1, "test": 0.1}, 0)
    assert [len(split[name]) for name in SPLITS] == [1, 1, 1]
    with pytest.raises(DataError, match="no subject left for training"):
        subject_split(["a", "b"], {"train": 0.2, "val": 0.4, "test": 0.4}, 0)


def test_bad_fractions_are_named():
    with pytest.raises(DataError, match="summing to 1"):
        subject_split(SUBJECTS, {"train": 0.5, "val": 0.1, "test": 0.1}, 0)
    with pytest.raises(DataError, match=r"unknown key.*'validation'"):
        subject_split(SUBJECTS, {"train": 0.9, "validation": 0.1}, 0)


def test_fixed_split_checks_its_lists():
    fixed = {"train": ["s00", "s01"], "val": ["s02"], "test": ["s03"]}
    assert fixed_split(SUBJECTS, fixed, "root") == fixed
    with pytest.raises(DataError, match="'s02' is in both val and test"):
        fixed_split(SUBJECTS, {"train": ["s00"], "val": ["s02"], "test": ["s02"]}, "root")
    with pytest.raises(DataError, match="'zz' \\(val\\) not found in /data/x"):
        fixed_split(SUBJECTS, {"train": ["s00"], "val": ["zz"]}, "/data/x")


def test_all_records_of_a_subject_go_to_its_set(tmp_path):
    records = [
        VolumeRecord(s, c, tmp_path / f"{s}_{c}.nii") for s in SUBJECTS for c in ("T1", "T2")
    ]
    split = split_records(
        records,
        fractions={"train": 0.6, "val": 0.2, "test": 0.2},
        seed=0,
        fixed=None,
        split_dir=tmp_path / "run",
        where="here",
    )
    subjects = {name: {r.subject for r in split[name]} for name in SPLITS}
    assert not subjects["train"] & subjects["val"]
    assert not subjects["train"] & subjects["test"]
    assert not subjects["val"] & subjects["test"]
    for name in SPLITS:
        assert len(split[name]) == 2 * len(subjects[name])
    written = json.loads((tmp_path / "run" / "split.json").read_text())
    assert {name: set(written[name]) for name in SPLITS} == subjects
    assert written["seed"] == 0 and written["by"] == "subject"
    assert records_by_split(records, {"train": ["s00"]})["train"] == records[:2]


def test_slab_ranges_are_disjoint_ordered_blocks_with_gaps():
    ranges = slab_ranges(10, 110, {"train": 0.6, "val": 0.1, "test": 0.3}, SPLITS, gap=5)
    (a0, a1), (b0, b1), (c0, c1) = (ranges[name] for name in SPLITS)
    assert a0 == 10 and c1 == 110
    assert b0 - a1 == 5 and c0 - b1 == 5
    assert (b1 - b0, c1 - c0) == (9, 27)  # floor of the shares of the 90 voxels left
    ranges = slab_ranges(
        0, 50, {"train": 0.8, "val": 0.0, "test": 0.2}, ["test", "val", "train"], 2
    )
    assert ranges == {"train": (11, 50), "val": None, "test": (0, 9)}
    with pytest.raises(DataError, match="too few"):
        slab_ranges(0, 10, {"train": 0.8, "val": 0.1, "test": 0.1}, SPLITS, gap=4)
    with pytest.raises(DataError, match="permutation"):
        slab_ranges(0, 10, {"train": 1.0}, ["train", "train", "val"], gap=0)
