"""Draw docs/synth_samples.png (16 synthetic volumes of data=synth) and time their generation.

    python -m benchmarks.synth_samples            # 16 volumes at 1 mm; figure + RESULTS.md section
    python -m benchmarks.synth_samples --smoke    # 2 small volumes; writes only --output, if given

Each panel is the central axial slice of one volume of ``data=synth``'s generator with its
default options (seeds 0..15), with the tissue means drawn for CSF / GM / WM, or "real T1" where
the volume is the deformed real template. Generation is timed per volume on one torch thread,
the setting of the shipped models' trainings.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from omegaconf import OmegaConf

from benchmarks.results import machine_line, markdown_table, update_section
from srmri.data.synth import SynthGenerator, mni152_anatomy

ROOT = Path(__file__).resolve().parents[1]
FIGURE = ROOT / "docs" / "synth_samples.png"
CONFIG = ROOT / "conf" / "data" / "synth.yaml"


def generator(downsample: int) -> SynthGenerator:
    """The generator of ``data=synth`` as configured in conf/data/synth.yaml."""
    options = OmegaConf.to_container(OmegaConf.load(CONFIG).source.generator)
    return SynthGenerator(mni152_anatomy(downsample), **options)


def draw(volumes: list, path: Path) -> None:
    """A grid of the central axial slices (rows: X flipped so anterior is up, as radiologists)."""
    columns = 4
    rows = -(-len(volumes) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(2.4 * columns, 2.8 * rows))
    for ax in np.ravel(axes):
        ax.axis("off")
    for ax, (seed, volume) in zip(np.ravel(axes), volumes, strict=False):
        image = volume.image.numpy()
        axial = image[:, :, image.shape[2] // 2].T[::-1]
        ax.imshow(axial, cmap="gray", vmin=0, vmax=np.percentile(image, 99.5) or 1)
        csf, gm, wm = volume.contrast.means[1:4]
        label = "real T1" if volume.real else f"CSF {csf:.2f} GM {gm:.2f} WM {wm:.2f}"
        ax.set_title(f"seed {seed}: {label}", fontsize=7)
    figure.suptitle("data=synth: 16 random volumes (central axial slice)", fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> list[float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="2 small volumes; no RESULTS.md")
    parser.add_argument("--output", type=Path, default=None, help=f"figure (default {FIGURE})")
    args = parser.parse_args(argv)
    count, downsample = (2, 4) if args.smoke else (16, 1)
    torch.set_num_threads(1)
    make = generator(downsample)
    make(0)  # warm-up: first-call allocations and imports
    volumes, seconds = [], []
    for seed in range(count):
        start = time.perf_counter()
        volumes.append((seed, make(seed)))
        seconds.append(time.perf_counter() - start)
    output = args.output or (None if args.smoke else FIGURE)
    if output is not None:
        draw(volumes, output)
    shape = "x".join(str(n) for n in volumes[0][1].image.shape)
    print(f"{count} volumes of {shape}: median {statistics.median(seconds):.1f} s per volume")
    if not args.smoke:
        table = markdown_table(
            ["volume", "volumes", "median s / volume", "min s", "max s"],
            [
                [
                    shape,
                    count,
                    f"{statistics.median(seconds):.1f}",
                    f"{min(seconds):.1f}",
                    f"{max(seconds):.1f}",
                ]
            ],
        )
        body = (
            "Time to generate one training volume of `data=synth` (deformation, tissue mixture, "
            "bias, gamma, noise; default options) on one torch thread, "
            "`python -m benchmarks.synth_samples`. Loading the volume into the data module "
            "(writing and reading the NIfTI file, measuring the LR window) comes on top.\n\n"
            f"{table}\n\n{machine_line()} Shared with other jobs while measured."
        )
        update_section("synth_generation", "Synthetic volume generation (data=synth)", body)
    return seconds


if __name__ == "__main__":
    main()
