"""Super-resolve NIfTI volumes: ``python predict.py ckpt_path=... input=... output=...`` (README.md)."""

from __future__ import annotations

from omegaconf import DictConfig

from srmri.tasks.cli import command
from srmri.tasks.predict import SHORTHANDS, predict


@command("predict", shorthands=SHORTHANDS)
def main(cfg: DictConfig) -> None:
    predict(cfg)


if __name__ == "__main__":
    main()
