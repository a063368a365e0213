import numpy as np
import pytest

from srmri.data.records import NONZERO, SPLITS, DataError
from srmri.data.sources.folder import NiftiFolderSource


def test_records_parse_subject_contrast_and_masks(make_folder):
    root = make_folder(subjects=3, contrasts=("T1", "FLAIR"))
    source = NiftiFolderSource(root, mask="masks/{subject}_{contrast}_mask.nii.gz")
    records = source.find_records()
    assert [(r.subject, r.contrast) for r in records] == [
        (f"sub{s:02d}", c) for s in range(3) for c in ("FLAIR", "T1")
    ]
    for record in records:
        assert record.image == root / f"{record.subject}_{record.contrast}.nii.gz"
        assert record.mask == root / "masks" / f"{record.subject}_{record.contrast}_mask.nii.gz"
    top_level = NiftiFolderSource(root, patterns=["*.nii.gz"], mask="nonzero")
    assert all(r.mask == NONZERO for r in top_level.find_records())


def test_mask_files_found_by_a_pattern_are_not_volumes(make_folder):
    root = make_folder(subjects=2, contrasts=("T1",))
    source = NiftiFolderSource(root, patterns=["**/*.nii.gz"], mask="masks/{stem}_mask.nii.gz")
    assert len(source.find_records()) == 2
    with pytest.raises(DataError, match=r"sub00_T1_mask.nii.gz: file name does not match"):
        NiftiFolderSource(root, patterns=["**/*.nii.gz"]).find_records()


def test_split_by_subject_with_fixed_lists(make_folder):
    root = make_folder(subjects=5)
    fixed = {"train": ["sub00", "sub01", "sub02"], "val": ["sub03"], "test": ["sub04"]}
    splits = NiftiFolderSource(root, patterns=["*.nii.gz"], fixed=fixed).splits()
    for name in SPLITS:
        assert sorted({r.subject for r in splits[name]}) == fixed[name]
        assert {r.contrast for r in splits[name]} == {"T1", "T2"}


@pytest.mark.parametrize(
    ("case", "error", "message"),
    [
        ("missing_root", FileNotFoundError, "nowhere: data folder not found"),
        ("empty", DataError, "empty: folder is empty"),
        ("pattern", DataError, "pattern '\\*\\*/\\*_PD.nii.gz' matches no file"),
        ("regex", DataError, "notes.nii.gz: file name does not match name_regex"),
        ("not_nifti", DataError, "readme.txt: pattern '\\*' matched a file that is not NIfTI"),
        ("duplicate", DataError, "two volumes for subject 'sub00', contrast 'T1'"),
        ("mask_missing", FileNotFoundError, "sub00_T1_brain.nii.gz: brain mask of .*sub00_T1"),
        ("mask_key", DataError, "mask template '\\{patient\\}.nii.gz' uses 'patient'"),
        ("groups", DataError, "lacks the named group\\(s\\) \\['contrast'\\]"),
    ],
)
def test_bad_folders_raise_errors_that_name_the_problem(
    tmp_path, make_folder, nifti, case, error, message
):
    root = make_folder(subjects=2, contrasts=("T1",), masks=False)
    kwargs = {}
    if case == "missing_root":
        root = tmp_path / "nowhere"
    elif case == "empty":
        root = tmp_path / "empty"
        root.mkdir()
    elif case == "pattern":
        kwargs["patterns"] = ["**/*_T1.nii.gz", "**/*_PD.nii.gz"]
    elif case == "regex":
        nifti(root / "notes.nii.gz", np.zeros((4, 4, 4), np.float32))
    elif case == "not_nifti":
        (root / "readme.txt").write_text("hello")
        kwargs["patterns"] = ["*"]
    elif case == "duplicate":
        nifti(root / "extra" / "sub00_T1.nii.gz", np.zeros((4, 4, 4), np.float32))
    elif case == "mask_missing":
        kwargs["mask"] = "{stem}_brain.nii.gz"
    elif case == "mask_key":
        kwargs["mask"] = "{patient}.nii.gz"
    elif case == "groups":
        kwargs["name_regex"] = r"(?P<subject>.+)\.nii\.gz"
    with pytest.raises(error, match=message):
        NiftiFolderSource(root, **kwargs).find_records()
