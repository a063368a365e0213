"""Volumetric (3-D) super resolution against a slice model and tricubic, at equal training time.

On the MNI152 demo at x2 isotropic (the ``seed`` degradation applied in 3-D to the test slab):

- the 3-D model of ``experiment=volumetric_wdsr_x2`` (WDSR-A, 3x3x3 convolutions), trained for
  ``--budget`` seconds on 3-D cubes of the training slab;
- a 2-D WDSR-A of about the same parameter count (``n_feats`` chosen to match), trained for the
  same wall-clock budget on the demo's axial patches (its 2-D ``seed`` degradation), applied to
  the axial slices of the 3-D LR volume and completed through-plane by the cubic B-spline (a
  slice model cannot upsample the slice axis);
- tricubic: the cubic B-spline along all three axes.

All three are scored on the same voxels with :mod:`srmri.metrics`: PSNR and 3-D SSIM of the whole
test slab and inside the brain mask. Training speed is reported as HR patches (cubes or squares)
per second. Prediction of a ``256 x 256 x 176`` LR volume to ``512 x 512 x 352`` by ``predict_file``
(sliding windows of ``volume_tile`` with the network's receptive field as overlap) runs in a fresh
process on ``--threads`` threads, which reports its wall time and peak resident memory.
Updates the ``volumetric`` section of ``benchmarks/RESULTS.md``.

    python -m benchmarks.volumetric                  # 2 x --budget s of training, then prediction
    python -m benchmarks.volumetric --smoke          # a tiny run; writes nothing
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate

from benchmarks.common import ROOT, compose
from benchmarks.results import machine_line, markdown_table, peak_memory_bytes, update_section
from srmri.degradation import Degradation, crop_to_scale
from srmri.evaluation.methods import slice_model_in_volume, volume_baseline
from srmri.inference.slices import autocast_dtype
from srmri.lightning.module import SRModule
from srmri.metrics import psnr, ssim

SCALE = 2
# The targets: 3-D over the slice model at equal budget, and predicting PREDICT_SHAPE.
MARGIN_DB = 0.5
PREDICT_SECONDS = 300
PREDICT_GB = 4.0
PREDICT_SHAPE = (256, 256, 176)
SMOKE = {
    "budget": 3.0,
    "shape": (20, 18, 16),
    "overrides_3d": [
        "model.network.n_blocks=1",
        "model.network.n_feats=4",
        "data.patch_size=16",
        "data.batch_size=2",
    ],
    "overrides_2d": ["model.network.n_blocks=1", "data.patch_size=24", "data.batch_size=4"],
}


def network_radius(network: dict[str, Any]) -> int:
    """LR voxels an output voxel of a WDSR-A depends on, per side: the 3x3x3 head, two convs per
    block and the conv before the pixel shuffle (the 5x5x5 skip reaches 2)."""
    return 1 + 2 * int(network["n_blocks"]) + 1


def parameters(module: SRModule) -> int:
    return sum(p.numel() for p in module.network.parameters())


def configs(smoke: bool, cache: Path) -> tuple[Any, Any]:
    """The 3-D experiment and a 2-D WDSR-A of about its parameter count, on the demo data."""
    # A time budget has no step count for a cosine schedule to end on: constant learning rate.
    common = [
        f"paths.cache_dir={cache}",
        "paths.output_dir=/tmp",
        "logger=none",
        "model/scheduler=constant",
    ]
    three = compose(
        "train",
        [*common, "experiment=volumetric_wdsr_x2", *(SMOKE["overrides_3d"] if smoke else [])],
    )
    blocks, feats = three.model.network.n_blocks, three.model.network.n_feats
    # A 3x3 conv has a third of a 3x3x3 one's weights: sqrt(3) times the features matches.
    feats_2d = max(4, round(feats * 3**0.5))
    two = compose(
        "train",
        [
            *common,
            "experiment=demo",
            f"model.network.n_blocks={blocks}",
            f"model.network.n_feats={feats_2d}",
            *(SMOKE["overrides_2d"] if smoke else []),
        ],
    )
    return three, two


def train_for(cfg: Any, seconds: float) -> tuple[SRModule, dict[str, float]]:
    """Fit ``cfg``'s module on its data for ``seconds`` of wall-clock time (no validation)."""
    pl.seed_everything(int(cfg.seed), workers=True)
    data = instantiate(cfg.data, degradation=cfg.degradation)
    data.setup("fit")
    module = instantiate(
        cfg.model, degradation=cfg.degradation, normalisation=cfg.data.normalisation
    )
    trainer = pl.Trainer(
        accelerator="cpu",
        max_time={"seconds": seconds},
        max_epochs=-1,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    start = time.perf_counter()
    trainer.fit(module, datamodule=data)
    elapsed = time.perf_counter() - start
    patches = trainer.global_step * int(cfg.data.batch_size)
    module.datamodule_used = data  # the scored test slab comes from the same cached volumes
    return module.eval(), {
        "steps": trainer.global_step,
        "seconds": elapsed,
        "patches_per_s": patches / elapsed,
        "parameters": parameters(module),
    }


@torch.no_grad()
def score_test_slab(three: SRModule, two: SRModule, data: Any) -> dict[str, dict[str, float]]:
    """PSNR / SSIM of the three methods on the test slab, whole and inside the brain."""
    (volume,) = data.volumes("test")[:1]
    hr = crop_to_scale(volume.image, SCALE, 3)[None, None].float()
    mask = crop_to_scale(volume.mask, SCALE, 3)[None, None] if volume.mask is not None else None
    lr = Degradation(SCALE, spatial_dims=3)(hr)
    hr = hr.clamp(0.0, 1.0)
    # As evaluate.py scores a 3-D checkpoint: the 3-D model on the whole LR volume, the slice
    # model on its axial slices with the B-spline along Z (it cannot upsample Z), tricubic.
    methods = {
        "3-D WDSR-A": three(lr),
        "2-D WDSR-A + B-spline along Z": slice_model_in_volume(
            "2-D", two, "axial", SCALE, 8
        ).upscale(lr),
        "tricubic (B-spline)": volume_baseline("tricubic", SCALE).upscale(lr),
    }
    return {
        name: {
            "psnr": float(psnr(sr, hr)),
            "ssim": float(ssim(sr, hr)),
            "psnr_brain": float(psnr(sr, hr, mask=mask)) if mask is not None else float("nan"),
            "ssim_brain": float(ssim(sr, hr, mask=mask)) if mask is not None else float("nan"),
        }
        for name, sr in methods.items()
    }


def predict_child(args: argparse.Namespace) -> None:
    """In a fresh process: predict a random LR volume with a 3-D module of the experiment's
    architecture; print wall time and peak memory as JSON."""
    torch.set_num_threads(args.threads)
    print(json.dumps(predict_random(json.loads(args.predict_config), args.shape, args.tile)))


def predict_random(cfg: dict[str, Any], shape: list[int], tile: int) -> dict[str, Any]:
    """Wall time, this process's peak memory and the output shape of ``predict_file`` on a random
    LR volume of ``shape``."""
    module = SRModule(**cfg).eval()
    from srmri.inference.predict import predict_file

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "lr.nii.gz"
        rng = np.random.default_rng(0)
        data = rng.random(tuple(shape), dtype=np.float32) * 1000
        nib.save(nib.Nifti1Image(data, np.diag([1.0, 1.0, 1.0, 1.0])), source)
        del data
        start = time.perf_counter()
        predict_file(
            source,
            Path(folder) / "sr.nii.gz",
            module,
            volume_tile=tile,
            overlap=network_radius(cfg["network"]),
            batch_size=1,
            device="cpu",
            progress=False,
        )
        seconds = time.perf_counter() - start
        out_shape = nib.load(Path(folder) / "sr.nii.gz").shape
    peak = peak_memory_bytes()
    dtype = autocast_dtype("auto", torch.device("cpu"))
    precision = "float32" if dtype is None else str(dtype).removeprefix("torch.")
    return {
        "seconds": seconds,
        "peak_bytes": peak,
        "shape": list(out_shape),
        "precision": precision,
    }


def time_prediction(module: SRModule, shape: tuple[int, ...], threads: int, tile: int) -> dict:
    hparams = {key: module.hparams[key] for key in ("network", "degradation", "normalisation")}
    command = [
        sys.executable,
        "-m",
        "benchmarks.volumetric",
        "--predict-child",
        "--predict-config",
        json.dumps(hparams),
        "--threads",
        str(threads),
        "--tile",
        str(tile),
        "--shape",
        *map(str, shape),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"prediction failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=300.0, help="training seconds per model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tile", type=int, default=64, help="volume_tile of the prediction")
    parser.add_argument("--shape", type=int, nargs=3, default=PREDICT_SHAPE)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--note", default="", help="conditions to state with the figures")
    parser.add_argument("--predict-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--predict-config", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.predict_child:
        predict_child(args)
        return {}
    torch.set_num_threads(args.threads)
    budget = SMOKE["budget"] if args.smoke else args.budget
    shape = SMOKE["shape"] if args.smoke else tuple(args.shape)
    cache = Path(tempfile.gettempdir()) / "srmri-benchmark-cache"
    cfg_3d, cfg_2d = configs(args.smoke, cache)
    three, training_3d = train_for(cfg_3d, budget)
    two, training_2d = train_for(cfg_2d, budget)
    scores = score_test_slab(three, two, three.datamodule_used)
    print(json.dumps({"training": [training_3d, training_2d], "scores": scores}), flush=True)
    if args.smoke:
        # In this process (a fresh one costs the imports again); its peak memory means nothing.
        hparams = {k: three.hparams[k] for k in ("network", "degradation", "normalisation")}
        prediction = predict_random(hparams, list(shape), args.tile)
    else:
        prediction = time_prediction(three, shape, args.threads, args.tile)
    result = {
        "budget_s": budget,
        "training": {"3-D": training_3d, "2-D": training_2d},
        "scores": scores,
        "prediction": {**prediction, "input_shape": list(shape)},
    }
    print(json.dumps(result, indent=2))
    if not args.smoke:
        write_section(result, args.note)
    return result


def write_section(result: dict[str, Any], note: str) -> None:
    rows = [
        [name, f"{s['psnr']:.2f}", f"{s['ssim']:.4f}", f"{s['psnr_brain']:.2f}",
         f"{s['ssim_brain']:.4f}"]
        for name, s in result["scores"].items()
    ]  # fmt: skip
    training = [
        [kind, t["parameters"], t["steps"], f"{t['seconds']:.0f}", f"{t['patches_per_s']:.2f}"]
        for kind, t in result["training"].items()
    ]
    p = result["prediction"]
    three, two = (result["scores"][name] for name in list(result["scores"])[:2])
    margin = three["psnr"] - two["psnr"], three["psnr_brain"] - two["psnr_brain"]
    steps = result["training"]["3-D"]["steps"], result["training"]["2-D"]["steps"]
    seconds, gib = p["seconds"], p["peak_bytes"] / 2**30
    verdicts = (
        f"Targets: 3-D >= 2-D + {MARGIN_DB} dB at equal budget: "
        f"{'met' if min(margin) >= MARGIN_DB else 'missed'} (3-D - 2-D = {margin[0]:+.2f} dB over "
        f"the slab, {margin[1]:+.2f} dB in the brain, after {steps[0]} and {steps[1]} steps). "
        f"Prediction <= {PREDICT_SECONDS // 60} min: "
        f"{'met' if seconds <= PREDICT_SECONDS else 'missed'} ({seconds:.0f} s). Peak memory <= "
        f"{PREDICT_GB:g} GB: {'met' if p['peak_bytes'] <= PREDICT_GB * 1e9 else 'missed'} "
        f"({gib:.2f} GiB)."
    )
    body = "\n\n".join(
        [
            "`python -m benchmarks.volumetric` (MNI152 demo, x2 isotropic: the `seed` degradation "
            f"in 3-D on the test slab; training budget {result['budget_s']:.0f} s per model).",
            markdown_table(["method", "PSNR dB", "SSIM", "brain PSNR dB", "brain SSIM"], rows),
            markdown_table(["model", "parameters", "steps", "seconds", "HR patches / s"], training),
            f"Prediction of {' x '.join(map(str, p['input_shape']))} -> "
            f"{' x '.join(map(str, p['shape']))} (`predict_file`, volume_tile 64, overlap = the "
            f"receptive field, precision `auto`: {p.get('precision', 'auto')}, fresh process): "
            f"{seconds:.0f} s, peak resident memory {gib:.2f} GiB.",
            machine_line() + (f" {note}" if note else ""),
            verdicts,
        ]
    )
    update_section("volumetric", "Volumetric (3-D) super resolution", body)


if __name__ == "__main__":
    main()
