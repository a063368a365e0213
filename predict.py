"""Super-resolve NIfTI volumes: ``python predict.py ckpt_path=... input=... output=...`` (README.md)."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from srmri.tasks.predict import predict


@hydra.main(version_base="1.3", config_path="conf", config_name="predict")
def main(cfg: DictConfig) -> None:
    predict(cfg)


if __name__ == "__main__":
    main()
