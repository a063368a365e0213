"""Synthetic volumes and NIfTI images for the tests: brains, smooth volumes, oblique affines."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage

AXIS_OF = {"R": 0, "L": 0, "A": 1, "P": 1, "S": 2, "I": 2}
SIGN_OF = {"R": 1.0, "L": -1.0, "A": 1.0, "P": -1.0, "S": 1.0, "I": -1.0}


def synthetic_brain(
    shape: tuple[int, int, int], seed: int, radius: float = 0.75, frequency: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """An ellipsoid "brain" of semi-axes ``radius`` (of the half-extent) with a smooth texture
    (sines of ``frequency``, ``frequency + 1``, ... half-periods along the axes) and noise on a
    zero background, and its mask."""
    rng = np.random.default_rng(seed)
    grid = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    mask = sum(g**2 / radius**2 for g in grid) <= 1.0
    texture = sum(
        np.sin((frequency + i) * np.pi * g + rng.uniform(0, 6)) for i, g in enumerate(grid)
    )
    image = np.where(mask, 400 + 80 * texture + rng.normal(0, 10, shape), 0.0)
    return image.astype(np.float32), mask


def rotation(angles_deg: tuple[float, float, float]) -> np.ndarray:
    """Rotation about x, then y, then z by the given angles (degrees)."""
    ax, ay, az = np.deg2rad(angles_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


def affine_for(
    codes: str,
    zooms: tuple[float, float, float] = (1.0, 1.2, 2.0),
    origin: tuple[float, float, float] = (-10.0, 20.0, 5.0),
    angles: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> np.ndarray:
    """Voxel axis ``i`` runs towards ``codes[i]`` (e.g. "LPS") with spacing ``zooms[i]``, the
    whole grid then rotated by ``angles`` (an oblique acquisition)."""
    axes = np.zeros((3, 3))
    for i, code in enumerate(codes):
        axes[AXIS_OF[code], i] = SIGN_OF[code] * zooms[i]
    affine = np.eye(4)
    affine[:3, :3] = rotation(angles) @ axes
    affine[:3, 3] = origin
    return affine


def smooth_volume(shape: tuple[int, ...], seed: int, background: bool = True) -> np.ndarray:
    """A smooth random volume in 0..1000, zero outside a central ellipsoid when ``background``."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(100.0, 1000.0, tuple(max(2, n // 3) for n in shape))
    zoom = [n / c for n, c in zip(shape, coarse.shape, strict=True)]
    volume = ndimage.zoom(coarse, zoom, order=1)[tuple(slice(0, n) for n in shape)]
    if background:
        grid = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape[:3]], indexing="ij")
        inside = sum(g**2 for g in grid) <= 0.8
        volume = volume * inside.reshape(inside.shape + (1,) * (len(shape) - 3))
    return volume.astype(np.float32)


def nifti(
    data: np.ndarray, affine: np.ndarray, qform_code: int = 1, sform_code: int = 1
) -> nib.Nifti1Image:
    image = nib.Nifti1Image(data, affine)
    image.header.set_qform(affine, code=qform_code)
    image.header.set_sform(affine, code=sform_code)
    return image


def scan_folder(folder: Path) -> Path:
    """``folder`` holding three small volumes (``a.nii``, ``b.nii.gz``, ``c.nii.gz``, 8 x 6 x 3..5
    voxels), a text file and an empty subfolder: what a folder input meets."""
    folder.mkdir(parents=True)
    for i, name in enumerate(["b.nii.gz", "a.nii", "c.nii.gz"]):
        nib.save(nifti(smooth_volume((8, 6, 3 + i), i), np.eye(4)), folder / name)
    (folder / "notes.txt").write_text("not an image")
    (folder / "sub").mkdir()
    return folder
