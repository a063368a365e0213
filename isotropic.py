"""Thick slices to isotropic: ``python isotropic.py input=scan.nii.gz output=scan_iso.nii.gz`` (README.md)."""

from __future__ import annotations

from omegaconf import DictConfig

from srmri.tasks.cli import command
from srmri.tasks.isotropic import isotropic


@command("isotropic")
def main(cfg: DictConfig) -> None:
    isotropic(cfg)


if __name__ == "__main__":
    main()
