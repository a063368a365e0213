"""Generalisation to real scans: demo model, shipped model, shipped + adapt, adapt from scratch.

For each development scan (``../shared/data/dev``, or ``$SRMRI_DEV_DIR``; see its README) the
central ``--slices`` (20) axial slices of the brain are degraded by each model's own degradation,
after the model's normalisation (window measured on the LR images, inside the brain mask, as
evaluation does: :func:`srmri.data.normalisation.lr_window`), and super-resolved through
prediction's own code (:class:`srmri.inference.slices.SliceResolver`, at ``--precision``). Scores:
brain PSNR / SSIM (:mod:`srmri.metrics`, data range 1, the module's border) of the model and of
bicubic from the same LR slices (:meth:`SRModule.baseline`), and the gain. Brain masks: the BraTS
masks, the automatic mask (:mod:`srmri.data.brain_mask`) for the scan without one.

Variants, each with the seconds it took (adaptation plus prediction of the 20 slices):

- ``demo``: ``--demo`` (default: the best checkpoint of the latest ``python train.py`` run);
- ``shipped``: ``--shipped`` (a registry name, default ``any_contrast_x2``, or a checkpoint path);
- ``adapt``: the shipped model fine-tuned on the scan's whole degraded axial stack (what a user
  has: the LR scan, never its HR) for ``--budget`` (default: ``adapt.budget`` of predict.py);
- ``scratch``: the same adaptation from random weights (``adapt.from_scratch=true``);
- ``x4``: ``--shipped-x4`` (default ``any_contrast_x4``), shipped model alone, at x4.

``--precision both`` also scores the demo and shipped models under bfloat16 autocast next to
float32 (PSNR difference and time). Targets (issue 16): x2 shipped mean gain >= +5.0 dB, no scan
below +3.0 dB, above the demo on every scan; adapt mean >= +6.0 dB, no scan below +5.0 dB; x4
shipped mean >= +3.5 dB. Updates the ``generalisation`` section of ``benchmarks/RESULTS.md``.

    python -m benchmarks.generalisation                          # every scan and variant
    python -m benchmarks.generalisation --variants demo,shipped --precision both
    python -m benchmarks.generalisation --shipped my.ckpt --scans brats5_T1c --variants adapt,scratch
    python -m benchmarks.generalisation --smoke                  # a tiny run; writes nothing
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import torch

from benchmarks.common import ROOT
from benchmarks.results import load_line, machine_line, markdown_table, shown_path, update_section
from benchmarks.through_plane import DEV, DEV_SCANS, load_demo, load_dev
from srmri.adapt import AdaptOptions, adapt_to_volume
from srmri.data import normalise
from srmri.data.normalisation import lr_window
from srmri.inference.geometry import Plane
from srmri.inference.options import PredictOptions
from srmri.inference.slices import SliceResolver
from srmri.io.checkpoints import load_module
from srmri.lightning.module import SRModule
from srmri.metrics import psnr, ssim

AXIS = 2  # superior-inferior in the BraTS (LPS) and mrgd (RAS) grids: axial slices
VARIANTS = ("demo", "shipped", "adapt", "scratch", "x4")
TARGETS = {
    "shipped_mean": 5.0,
    "shipped_min": 3.0,
    "adapt_mean": 6.0,
    "adapt_min": 5.0,
    "x4_mean": 3.5,
}
SMOKE_NETWORK = {
    "_target_": "srmri.models.wdsr.WDSRA",
    "scale": 2,
    "channels": 1,
    "n_blocks": 1,
    "n_feats": 4,
    "expansion": 2,
}


@dataclass
class Case:
    """One scan prepared for one model: normalised HR slices, their LR, the brain mask, and the
    whole degraded axial stack a user would hold."""

    hr: torch.Tensor  # (n, 1, H, W) in [0, 1]
    lr: torch.Tensor  # (n, 1, H/s, W/s)
    mask: torch.Tensor  # (n, 1, H, W) bool
    lr_volume: np.ndarray  # (X/s, Y/s, Z) normalised LR, the adaptation's only data
    plane: Plane


def latest_demo() -> Path | None:
    """The best checkpoint of the latest ``python train.py`` run (``logs/train/demo``)."""
    runs = sorted((ROOT / "logs" / "train" / "demo" / "runs").glob("*/checkpoints/best*.ckpt"))
    return runs[-1] if runs else None


def load_model(reference: str | Path) -> SRModule:
    """A checkpoint path, or a shipped model's name (verified against its SHA-256)."""
    if is_file(reference) and Path(reference).is_file():
        return load_module(reference)
    from srmri.pretrained import load_pretrained

    return load_pretrained(str(reference))


def central_slices(mask: np.ndarray, count: int) -> slice:
    """``count`` axial slices centred on the brain's extent along :data:`AXIS`."""
    present = np.flatnonzero(mask.any(axis=(0, 1)))
    centre = (present[0] + present[-1]) // 2 if present.size else mask.shape[AXIS] // 2
    start = int(np.clip(centre - count // 2, 0, mask.shape[AXIS] - count))
    return slice(start, start + count)


def prepare(image: nib.Nifti1Image, mask: np.ndarray, module: SRModule, count: int) -> Case:
    """The scan as ``module`` sees it: its normalisation and its degradation."""
    volume = np.asarray(image.dataobj, np.float32)
    scale = module.scale
    crop = tuple(slice(0, n - n % scale) for n in volume.shape[:2])
    volume, mask = volume[crop], mask[crop]
    tensor, brain = torch.from_numpy(volume), torch.from_numpy(mask)
    normalisation = module.hparams.normalisation
    lo, hi = lr_window(tensor, brain, normalisation, module.degradation, [AXIS])
    unit = normalise(tensor, lo, hi, clip=False)
    stack = unit.movedim(AXIS, 0)[:, None]  # (Z, 1, X, Y)
    noiseless = module.degradation.noiseless()
    with torch.no_grad():
        lr_stack = torch.cat([noiseless(stack[i : i + 16]) for i in range(0, len(stack), 16)])
    chosen = central_slices(mask, count)
    return Case(
        hr=stack[chosen].clamp(0.0, 1.0),
        lr=lr_stack[chosen],
        mask=brain.movedim(AXIS, 0)[chosen][:, None],
        lr_volume=lr_stack[:, 0].movedim(0, AXIS).contiguous().numpy(),
        plane=Plane.from_affine(image.affine, "axial"),
    )


def super_resolve(module: SRModule, case: Case, precision: str) -> tuple[torch.Tensor, float]:
    """SR of the case's LR slices through prediction's code, and the seconds it took."""
    options = PredictOptions(precision=precision, tile=None, device="cpu", progress=False)
    resolver = SliceResolver(module, case.plane, options)
    started = time.perf_counter()
    sr = torch.cat([resolver(case.lr[i : i + 4, 0]) for i in range(0, len(case.lr), 4)])
    return sr[:, None], time.perf_counter() - started


def score(module: SRModule, case: Case, sr: torch.Tensor) -> dict[str, float]:
    """Brain PSNR / SSIM of ``sr`` and of bicubic on the same LR slices, means over slices."""
    bicubic = module.baseline(case.lr, case.hr.shape[-2:]).clamp(0.0, 1.0)
    kwargs = {"mask": case.mask, "border": module.border, "data_range": 1.0}
    values = {
        "psnr": psnr(sr, case.hr, **kwargs),
        "psnr_bicubic": psnr(bicubic, case.hr, **kwargs),
        "ssim": ssim(sr, case.hr, **kwargs),
        "ssim_bicubic": ssim(bicubic, case.hr, **kwargs),
    }
    means = {name: float(value.mean()) for name, value in values.items()}
    means["psnr_gain"] = means["psnr"] - means["psnr_bicubic"]
    means["ssim_gain"] = means["ssim"] - means["ssim_bicubic"]
    return means


def run_variant(
    variant: str,
    module: SRModule,
    image: nib.Nifti1Image,
    mask: np.ndarray,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Scores and seconds of one variant on one scan (float32, and bfloat16 when asked)."""
    case = prepare(image, mask, module, args.slices)
    seconds = 0.0
    steps = 0
    if variant in ("adapt", "scratch"):
        options = AdaptOptions(
            enabled=True, budget=args.budget, from_scratch=variant == "scratch", **args.adapt
        )
        started = time.perf_counter()
        module = adapt_to_volume(case.lr_volume, module, [AXIS], options, progress=False)
        seconds, steps = time.perf_counter() - started, module.trained_steps
    sr, predict_seconds = super_resolve(module, case, "float32")
    result = {**score(module, case, sr), "seconds": seconds + predict_seconds, "steps": steps}
    if args.precision == "both" and variant in ("demo", "shipped", "x4"):
        fast, fast_seconds = super_resolve(module, case, "bfloat16")
        bf16 = score(module, case, fast)
        result["bf16"] = {
            "psnr_diff": bf16["psnr"] - result["psnr"],
            "seconds": fast_seconds,
            "float32_seconds": predict_seconds,
        }
    return result


def scans(args: argparse.Namespace) -> list[tuple[str, nib.Nifti1Image, np.ndarray]]:
    if args.smoke:
        image, mask = load_demo(smoke=True)
        return [("mni152_2mm", image, mask)]
    return [(name, *load_dev(name, args.dev)[:2]) for name in args.scans]


def smoke_models(folder: Path) -> dict[str, str]:
    """Tiny x2 checkpoints standing in for the demo and shipped models (random weights)."""
    import pytorch_lightning as pl

    torch.manual_seed(0)
    module = SRModule(
        network=SMOKE_NETWORK,
        degradation={"scale": 2, "preset": "seed"},
        normalisation={"method": "percentile", "lower": 0.5, "upper": 99.5, "use_mask": True},
        name="smoke",
    )
    path = folder / "smoke.ckpt"
    trainer = pl.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False)
    trainer.strategy.connect(module)
    trainer.save_checkpoint(path)
    return {"demo": str(path), "shipped": str(path)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", help="demo checkpoint (default: latest train.py run's best)")
    parser.add_argument("--shipped", default="any_contrast_x2", help="registry name or checkpoint")
    parser.add_argument(
        "--shipped-x4", default="any_contrast_x4", help="registry name or checkpoint"
    )
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--scans", default=",".join(DEV_SCANS))
    parser.add_argument("--dev", type=Path, default=DEV, help="folder of the development scans")
    parser.add_argument("--slices", type=int, default=20)
    parser.add_argument("--budget", default=AdaptOptions().budget, help="adaptation budget")
    parser.add_argument("--precision", choices=("float32", "both"), default="float32")
    parser.add_argument("--smoke", action="store_true", help="tiny models and volume; no writes")
    parser.add_argument("--note", default="", help="a sentence on the run's context for RESULTS.md")
    args = parser.parse_args(argv)
    args.scans = args.scans.split(",")
    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)}; expected some of {VARIANTS}")
    args.adapt = {}
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="srmri-generalisation-") as folder:
        references: dict[str, Any] = {
            "demo": args.demo or latest_demo(),
            "shipped": args.shipped,
            "x4": args.shipped_x4,
        }
        if args.smoke:
            references.update(smoke_models(Path(folder)), x4=None)
            args.slices, args.budget = 4, "3"
            args.adapt = {"patch_size": 32, "batch_size": 2}
            variants = [v for v in variants if v != "x4"]
        models: dict[str, SRModule] = {}
        notes: list[str] = []
        for variant in variants:
            key = "shipped" if variant in ("adapt", "scratch") else variant
            if key in models or references.get(key) is None:
                continue
            try:
                models[key] = load_model(references[key])
            except Exception as error:
                notes.append(f"{variant}: not run ({error})")
                print(notes[-1], flush=True)
        results: dict[str, dict[str, Any]] = {}
        for name, image, mask in scans(args):
            for variant in variants:
                module = models.get("shipped" if variant in ("adapt", "scratch") else variant)
                if module is None:
                    continue
                result = run_variant(variant, module, image, mask, args)
                results.setdefault(name, {})[variant] = result
                print(
                    f"{name} {variant}: brain PSNR {result['psnr']:.2f} dB, gain "
                    f"{result['psnr_gain']:+.2f} dB, SSIM gain {result['ssim_gain']:+.4f}, "
                    f"{result['seconds']:.1f} s"
                    + (f" ({result['steps']} steps)" if result["steps"] else "")
                    + (
                        f"; bfloat16 {result['bf16']['psnr_diff']:+.4f} dB, "
                        f"{result['bf16']['seconds']:.1f} s vs {result['bf16']['float32_seconds']:.1f} s"
                        if "bf16" in result
                        else ""
                    ),
                    flush=True,
                )
    run = {"adapt" if v in ("adapt", "scratch") else v for v in variants} | (
        {"shipped"} if {"adapt", "scratch"} & set(variants) else set()
    )
    summary = {
        "results": results,
        # The targets are those of the shipped models: judged only when the registry's ran.
        "verdicts": verdicts(results) if not is_file(args.shipped) else {},
        "notes": notes,
        "sources": {k: shown_path(v) for k, v in references.items() if v is not None and k in run},
        "budget": args.budget,
        "note": args.note,
        "load": (load_start, os.getloadavg()[0]),
    }
    if not args.smoke:
        write(summary, args)
    return summary


def is_file(reference: str | Path | None) -> bool:
    """A checkpoint path rather than a registry name (a stand-in for the shipped model)."""
    return reference is not None and Path(reference).suffix in (".ckpt", ".pt")


def means(results: dict[str, dict[str, Any]], variant: str) -> tuple[float, float] | None:
    """``(mean, min)`` of the brain PSNR gain of ``variant`` over the scans that ran it."""
    gains = [scan[variant]["psnr_gain"] for scan in results.values() if variant in scan]
    return (float(np.mean(gains)), float(np.min(gains))) if gains else None


def verdicts(results: dict[str, dict[str, Any]]) -> dict[str, bool | None]:
    """Each target of issue 16: met, missed, or None when its variant did not run."""
    shipped, adapt, x4 = means(results, "shipped"), means(results, "adapt"), means(results, "x4")
    beats = [
        s["shipped"]["psnr_gain"] > s["demo"]["psnr_gain"]
        for s in results.values()
        if {"shipped", "demo"} <= set(s)
    ]
    return {
        "shipped_mean": None if shipped is None else shipped[0] >= TARGETS["shipped_mean"],
        "shipped_min": None if shipped is None else shipped[1] >= TARGETS["shipped_min"],
        "shipped_beats_demo": all(beats) if beats else None,
        "adapt_mean": None if adapt is None else adapt[0] >= TARGETS["adapt_mean"],
        "adapt_min": None if adapt is None else adapt[1] >= TARGETS["adapt_min"],
        "x4_mean": None if x4 is None else x4[0] >= TARGETS["x4_mean"],
    }


def write(summary: dict[str, Any], args: argparse.Namespace) -> None:
    results = summary["results"]
    variants = [v for v in VARIANTS if any(v in scan for scan in results.values())]
    rows = []
    for name, scan in results.items():
        for variant in variants:
            if variant in scan:
                r = scan[variant]
                rows.append(
                    [
                        name,
                        variant,
                        f"{r['psnr']:.2f}",
                        f"{r['psnr_bicubic']:.2f}",
                        f"{r['psnr_gain']:+.2f}",
                        f"{r['ssim_gain']:+.4f}",
                        f"{r['seconds']:.0f}" + (f" ({r['steps']} steps)" if r["steps"] else ""),
                    ]
                )
    for variant in variants:
        found = means(results, variant)
        if found:
            rows.append(["**mean**", variant, "", "", f"**{found[0]:+.2f}**", "", ""])
    names = {
        "shipped_mean": f"x2 shipped mean gain >= +{TARGETS['shipped_mean']} dB",
        "shipped_min": f"x2 shipped: no scan below +{TARGETS['shipped_min']} dB",
        "shipped_beats_demo": "x2 shipped above the demo on every scan",
        "adapt_mean": f"adapt mean gain >= +{TARGETS['adapt_mean']} dB",
        "adapt_min": f"adapt: no scan below +{TARGETS['adapt_min']} dB",
        "x4_mean": f"x4 shipped mean gain >= +{TARGETS['x4_mean']} dB",
    }
    verdict_lines = [
        f"- {text}: "
        + {True: "**met**", False: "**missed**", None: "not measured"}[summary["verdicts"].get(key)]
        for key, text in names.items()
    ]
    precision_rows = [
        [
            name,
            variant,
            f"{r['bf16']['psnr_diff']:+.4f}",
            f"{r['bf16']['float32_seconds']:.1f}",
            f"{r['bf16']['seconds']:.1f}",
        ]
        for name, scan in results.items()
        for variant, r in scan.items()
        if "bf16" in r
    ]
    judged = (
        "\n".join(verdict_lines)
        if summary["verdicts"]
        else "- not judged: the shipped model was a stand-in checkpoint (`--shipped "
        f"{summary['sources'].get('shipped')}`), not a registered shipped model"
    )
    body = (
        (summary["note"] + "\n\n" if summary["note"] else "")
        + f"{machine_line()} {load_line(*summary['load'])} Development scans (real MRI, never trained on): the central "
        f"{args.slices} axial slices of the brain, degraded by each model's own degradation; "
        "brain PSNR / SSIM of the model and of bicubic from the same LR slices, float32 "
        f"prediction. Models: {', '.join(f'{k}: `{v}`' for k, v in summary['sources'].items())}; "
        f"adaptation budget {summary['budget']} on the scan's whole degraded axial stack "
        "(one torch thread, `adapt.threads`). "
        "Seconds: adaptation plus prediction of the scored slices.\n\n"
        + markdown_table(
            ["scan", "variant", "PSNR dB", "bicubic dB", "gain dB", "SSIM gain", "seconds"], rows
        )
        + "\n\nTargets (issue 16):\n\n"
        + judged
        + ("\n\n" + "\n".join(f"- {note}" for note in summary["notes"]) if summary["notes"] else "")
        + "\n\nRerun: `python -m benchmarks.generalisation` (see its docstring for the options)."
    )
    update_section("generalisation", "Generalisation to real scans (issue 16)", body)
    if precision_rows:
        write_precision(precision_rows, summary["sources"], args.slices)


def write_precision(rows: list[list[str]], sources: dict[str, str], slices: int) -> None:
    """The ``predict_precision`` section: bfloat16 autocast against float32 per scan and model."""
    body = (
        f"{machine_line()} The CPU is shared with other jobs while measuring, so times are "
        f"indicative. The central {slices} axial slices of each development scan, degraded by "
        "the model's degradation, super-resolved through prediction's code "
        "(`SliceResolver`, whole slices) in float32 and under bfloat16 autocast; brain PSNR "
        f"difference (bfloat16 - float32) and seconds. Models: "
        + ", ".join(f"{k}: `{v}`" for k, v in sources.items())
        + ".\n\n"
        + markdown_table(["scan", "model", "PSNR bf16 - fp32 dB", "float32 s", "bfloat16 s"], rows)
        + "\n\nRerun: `python -m benchmarks.generalisation --variants demo --precision both`."
    )
    update_section("predict_precision", "Prediction precision: bfloat16 against float32", body)


if __name__ == "__main__":
    main()
