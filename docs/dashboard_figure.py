"""Draw docs/dashboard.png, what the W&B dashboard of a training run shows, from its OFFLINE files.

    python docs/dashboard_figure.py logs/train/demo/runs/<time> [docs/dashboard.png]

The curves come from the run's ``wandb/offline-run-*/run-*.wandb`` records (read without network
by ``tests/wandb_offline.py``), the panels are the PNG files W&B stored for ``val/images``: one
fixed validation slice at the first and the last epoch, exactly as the dashboard shows them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.wandb_offline import read_run  # noqa: E402

CURVES = (
    ("train/loss", "train/loss (L1)", None),
    ("train/lr", "train/lr", None),
    ("train/grad_norm", "train/grad_norm", None),
    ("val/psnr", "val/psnr (dB) and its bicubic twin", "val/psnr_bicubic"),
    ("val/psnr_brain_gain", "val/psnr_brain_gain (dB over bicubic)", None),
    ("train/images_per_s", "train/images_per_s", None),
)


def series(history: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    rows = [row for row in history if key in row]
    return (
        np.array([row["trainer/global_step"] for row in rows]),
        np.array([row[key] for row in rows], dtype=float),
    )


def main(run_dir: Path, output: Path) -> None:
    (offline,) = (run_dir / "wandb").glob("offline-run-*")
    run = read_run(offline)
    panels = [row for row in run.history if "val/images/filenames" in row]
    # During training only: the final validation of the best checkpoint draws none.
    first, last = panels[0], panels[-1]
    figure = plt.figure(figsize=(12, 8.4), layout="constrained")
    grid = figure.add_gridspec(4, 3, height_ratios=[1, 1, 0.9, 0.9])
    for k, (key, title, twin) in enumerate(CURVES):
        axes = figure.add_subplot(grid[k // 3, k % 3])
        x, y = series(run.history, key)
        axes.plot(x, y, marker="." if len(x) < 30 else None, label="model")
        if twin:
            axes.plot(*series(run.history, twin), ls="--", color="grey", label="bicubic")
            axes.legend(fontsize=8)
        axes.set_title(title, fontsize=9)
        axes.set_xlabel("trainer/global_step", fontsize=8)
        axes.tick_params(labelsize=7)
    for row, (record, when) in enumerate(((first, "first"), (last, "last"))):
        axes = figure.add_subplot(grid[2 + row, :])
        picture = np.asarray(Image.open(offline / "files" / record["val/images/filenames"][0]))
        axes.imshow(picture, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        axes.set_title(f"val/images ({when} panel): {record['val/images/captions'][0]}", fontsize=8)
        axes.axis("off")
    summary, title = run.summary, f"W&B run {run.run_id} (group {run.group}), offline files"
    if "best/val/psnr" in summary:  # written when the run has finished
        title += (
            f"; summary: best/val/psnr {summary['best/val/psnr']:.2f} dB (bicubic "
            f"{summary['best/val/psnr_bicubic']:.2f}), best/checkpoint "
            f"{Path(summary['best/checkpoint']).name}"
        )
    figure.suptitle(title, fontsize=9)
    figure.savefig(output, dpi=90)
    print(f"wrote {output}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2] if len(sys.argv) > 2 else ROOT / "docs/dashboard.png"))
