"""Fixtures for the data-layer tests: small synthetic brains written as NIfTI files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tests.volumes import synthetic_brain

SHAPE = (30, 35, 26)  # (X, Y, Z): odd and even sizes, so cropping to every scale is exercised


def save_nifti(path: Path, data: np.ndarray, affine: np.ndarray | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(data, np.eye(4) if affine is None else affine), path)
    return path


@pytest.fixture
def make_folder(tmp_path: Path) -> Callable[..., Path]:
    """Factory: a folder of ``{subject}_{contrast}.nii.gz`` volumes, masks in ``masks/``."""

    def make(
        subjects: int = 6,
        contrasts: tuple[str, ...] = ("T1", "T2"),
        shape: tuple[int, int, int] = SHAPE,
        masks: bool = True,
    ) -> Path:
        root = tmp_path / "scans"
        for s in range(subjects):
            for c, contrast in enumerate(contrasts):
                image, mask = synthetic_brain(shape, seed=100 * s + c)
                save_nifti(root / f"sub{s:02d}_{contrast}.nii.gz", image)
                if masks:
                    path = root / "masks" / f"sub{s:02d}_{contrast}_mask.nii.gz"
                    save_nifti(path, mask.astype(np.uint8))
        return root

    return make


@pytest.fixture
def brain() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    return synthetic_brain


@pytest.fixture
def nifti() -> Callable[..., Path]:
    return save_nifti


@pytest.fixture
def snapshot() -> Callable[[Path], dict[str, int]]:
    """Every path under a folder with its modification time, to prove nothing was written there."""

    def files(root: Path) -> dict[str, int]:
        return {str(p): p.stat().st_mtime_ns for p in sorted(root.rglob("*"))}

    return files


MODALITIES = {"0": "FLAIR", "1": "T1w", "2": "t1gd", "3": "T2w"}


@pytest.fixture
def msd_root(tmp_path: Path) -> Path:
    """A tiny Task01_BrainTumour folder: 4 cases of 4-D (X, Y, Z, 4) volumes."""
    task = tmp_path / "msd" / "Task01_BrainTumour"
    training = []
    for case in range(1, 5):
        name = f"BRATS_{case:03d}.nii.gz"
        channels = np.stack(
            [synthetic_brain((16, 18, 12), seed=10 * case + c)[0] for c in range(4)], -1
        )
        save_nifti(task / "imagesTr" / name, channels)
        save_nifti(task / "labelsTr" / name, np.zeros((16, 18, 12), np.uint8))
        training.append({"image": f"./imagesTr/{name}", "label": f"./labelsTr/{name}"})
    manifest = {
        "name": "BRATS",
        "description": "tiny stand-in for the Decathlon brain tumour task",
        "reference": "test",
        "licence": "CC-BY-SA 4.0",
        "tensorImageSize": "4D",
        "modality": MODALITIES,
        "labels": {"0": "background", "1": "edema"},
        "numTraining": len(training),
        "numTest": 0,
        "training": training,
        "test": [],
    }
    (task / "dataset.json").write_text(json.dumps(manifest))
    return tmp_path / "msd"
