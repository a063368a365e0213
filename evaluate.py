"""Evaluate super-resolution models against bicubic: ``python evaluate.py ckpt_path=...`` (see README.md)."""

from __future__ import annotations

from omegaconf import DictConfig

from srmri.tasks.cli import command
from srmri.tasks.evaluate import evaluate


@command("evaluate")
def main(cfg: DictConfig) -> None:
    evaluate(cfg)


if __name__ == "__main__":
    main()
