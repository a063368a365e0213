"""Thick slices to isotropic: ``python isotropic.py input=scan.nii.gz output=scan_iso.nii.gz`` (README.md)."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from srmri.tasks.isotropic import isotropic


@hydra.main(version_base="1.3", config_path="conf", config_name="isotropic")
def main(cfg: DictConfig) -> None:
    isotropic(cfg)


if __name__ == "__main__":
    main()
