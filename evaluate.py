"""Evaluate super-resolution models against bicubic: ``python evaluate.py ckpt_path=...`` (see README.md)."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from srmri.tasks.evaluate import evaluate


@hydra.main(version_base="1.3", config_path="conf", config_name="evaluate")
def main(cfg: DictConfig) -> None:
    evaluate(cfg)


if __name__ == "__main__":
    main()
