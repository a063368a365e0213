"""Train a super-resolution network: ``python train.py [overrides]`` (see README.md)."""

from __future__ import annotations

from omegaconf import DictConfig

from srmri.tasks.cli import command
from srmri.tasks.train import train


@command("train")
def main(cfg: DictConfig) -> float | None:
    report = train(cfg)
    # The value a Hydra sweeper (e.g. Optuna) optimises.
    return report["metrics"].get(cfg.get("optimized_metric", "val/psnr_best"))


if __name__ == "__main__":
    main()
