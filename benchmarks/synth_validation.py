"""Scores of trained checkpoints on the held-out slabs of data=synth, per contrast.

    python -m benchmarks.synth_validation CKPT [CKPT ...]          # val slabs; prints a table
    python -m benchmarks.synth_validation CKPT --split test --write   # + a RESULTS.md section

Each checkpoint is scored by the validation code of training (``SRModule.score_batch``: its own
degradation, the HR target clipped to [0, 1], PSNR / SSIM of the whole slice and of the brain,
bicubic alike) on every slice of the split's volumes of ``data=synth`` with the default options:
the real T1 template (``T1``) and the synthetic contrasts of fixed seeds (``synth0``, ...). The
figures are means over slices, per contrast and for all synthetic contrasts together.
"""

from __future__ import annotations

import argparse
import os
from collections import defaultdict
from pathlib import Path

import torch
from hydra.utils import instantiate

from benchmarks.common import compose
from benchmarks.results import load_line, machine_line, markdown_table, update_section
from srmri.io.checkpoints import load_module

METRICS = (
    "psnr",
    "psnr_bicubic",
    "psnr_brain",
    "psnr_brain_bicubic",
    "ssim_brain",
    "ssim_brain_bicubic",
)


@torch.no_grad()
def score(checkpoint: Path, split: str = "val", overrides: list[str] | None = None) -> dict:
    """``{contrast: {metric: mean over slices}}``, with ``synthetic`` pooling every synth contrast."""
    module = load_module(checkpoint)
    cfg = compose(
        "train",
        [
            "data=synth",
            f"data.scale={module.scale}",
            "data.source.split_dir=null",
            *(overrides or []),
        ],
    )
    datamodule = instantiate(cfg.data, degradation=module.degradation)
    datamodule.setup("validate" if split == "val" else "test")
    loader = datamodule.val_dataloader() if split == "val" else datamodule.test_dataloader()
    slices: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for batch in loader:
        batch = module.on_after_batch_transfer(batch, 0)
        scores = module.score_batch(batch)
        for i, contrast in enumerate(batch["contrast"]):
            groups = [contrast] + (["synthetic"] if contrast.startswith("synth") else [])
            values = {name: float(scores[name][i]) for name in METRICS}
            if all(torch.isfinite(torch.tensor(list(values.values())))):
                for group in groups:
                    for name, value in values.items():
                        slices[group][name].append(value)
    return {
        group: {name: sum(v) / len(v) for name, v in metrics.items()}
        | {"slices": len(metrics["psnr"])}
        for group, metrics in slices.items()
    }


def table(results: dict[str, dict]) -> str:
    rows = []
    for name, groups in results.items():
        for group, m in sorted(groups.items(), key=lambda item: (item[0] != "T1", item[0])):
            rows.append(
                [
                    name,
                    group,
                    m["slices"],
                    f"{m['psnr']:.2f}",
                    f"{m['psnr'] - m['psnr_bicubic']:+.2f}",
                    f"{m['psnr_brain']:.2f}",
                    f"{m['psnr_brain'] - m['psnr_brain_bicubic']:+.2f}",
                    f"{m['ssim_brain']:.4f}",
                    f"{m['ssim_brain'] - m['ssim_brain_bicubic']:+.4f}",
                ]
            )
    header = [
        "model",
        "contrast",
        "slices",
        "PSNR",
        "gain",
        "brain PSNR",
        "gain",
        "brain SSIM",
        "gain",
    ]
    return markdown_table(header, rows)


def _name(path: Path) -> str:
    """``<run>/checkpoints/<file>`` is named by its run directory."""
    return path.parent.parent.name if path.parent.name == "checkpoints" else path.name


def main(argv: list[str] | None = None) -> dict[str, dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--split", choices=("val", "test"), default="val")
    parser.add_argument("--write", action="store_true", help="write a RESULTS.md section")
    parser.add_argument(
        "--override", action="append", default=[], help="a config override, e.g. data.views=[axial]"
    )
    args = parser.parse_args(argv)
    load_start = os.getloadavg()[0]
    results = {_name(path): score(path, args.split, args.override) for path in args.checkpoints}
    text = table(results)
    print(text)
    if args.write:
        body = (
            f"`python -m benchmarks.synth_validation ... --split {args.split}`: each checkpoint on "
            f"every {args.split} slice of data=synth (the real T1 template and 3 synthetic "
            "contrasts of fixed seeds, axial slices of the held-out slab), its own degradation; "
            "gain = over bicubic.\n\n"
            f"{text}\n\n{machine_line()} {load_line(load_start, os.getloadavg()[0])}"
        )
        update_section(f"synth_{args.split}", f"Scores on data=synth's {args.split} slabs", body)
    return results


if __name__ == "__main__":
    main()
