"""Fixtures for the prediction tests: tiny modules, a saved checkpoint, small NIfTI volumes."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from scipy import ndimage

from srmri.lightning.module import SRModule

SCALE = 2
TINY_WDSR = {
    "_target_": "srmri.models.wdsr.WDSRA",
    "scale": SCALE,
    "channels": 1,
    "n_blocks": 2,
    "n_feats": 8,
    "expansion": 2,
}
# LR pixels that one output pixel of TINY_WDSR depends on, on each side: a 3x3 head conv, two
# blocks of two 3x3 convs and the 3x3 conv before the pixel shuffle (the parallel 5x5 skip is less).
TINY_WDSR_RADIUS = 1 + 2 * 2 + 1
BICUBIC = {"_target_": "srmri.models.interpolation.Interpolation", "scale": SCALE}
NORMALISATION = {"method": "percentile", "lower": 0.5, "upper": 99.5, "use_mask": True}

AXIS_OF = {"R": 0, "L": 0, "A": 1, "P": 1, "S": 2, "I": 2}
SIGN_OF = {"R": 1.0, "L": -1.0, "A": 1.0, "P": -1.0, "S": 1.0, "I": -1.0}


def make_module(network: dict | None = None, **overrides) -> SRModule:
    config = {
        "network": network or TINY_WDSR,
        "degradation": {"scale": SCALE},
        "normalisation": NORMALISATION,
        "name": "tiny",
    }
    config.update(overrides)
    torch.manual_seed(0)
    return SRModule(**config).eval()


@pytest.fixture(scope="session")
def tiny_module() -> SRModule:
    return make_module()


@pytest.fixture(scope="session")
def bicubic_module() -> SRModule:
    return make_module(BICUBIC, name="bicubic")


def save_checkpoint(module: SRModule, path: Path) -> Path:
    trainer = pl.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False)
    trainer.strategy.connect(module)
    trainer.save_checkpoint(path)
    return path


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, tiny_module: SRModule) -> Path:
    return save_checkpoint(tiny_module, tmp_path_factory.mktemp("ckpt") / "tiny.ckpt")


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


def default_network(scale: int = SCALE) -> torch.nn.Module:
    """The network of ``conf/model/wdsr_a.yaml`` (the default model), randomly initialised."""
    config = OmegaConf.load(Path(__file__).parents[3] / "conf" / "model" / "wdsr_a.yaml")
    network = OmegaConf.to_container(config.network, resolve=False)
    network["scale"] = scale
    torch.manual_seed(0)
    return instantiate(network).eval()
