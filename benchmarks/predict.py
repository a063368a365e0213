"""Prediction speed and memory: seconds for a 256 x 256 x 176 volume, peak memory for 512 x 512 x 400.

Models are the ones ``python train.py`` builds by default (WDSR-A of ``conf/model/wdsr_a.yaml``,
x2, the default degradation and normalisation) and with ``model=bicubic``, with random weights
(which change neither time nor memory), saved as checkpoints and restored like a user's. Each
measurement runs ``srmri.inference.predict_file`` in a fresh process on a synthetic float32
``.nii.gz`` volume, writing a ``.nii.gz``; the process reports its wall time (reading,
super-resolving, writing, compressing; not the start-up) and its own peak resident memory
(``VmHWM``, see ``benchmarks.results.peak_memory_bytes``).

Memory of 512 x 512 x 400 comes from two runs by default, because the default model needs about
25 minutes of a 2-core CPU for it: the bicubic model through the whole pipeline on the whole
volume (reading, intensity window, tiled slices, the 1.7 GB output streamed to disk), and the
default model at float32 on a 16-slice slab of it (its tile activations). The default model on
the whole volume holds the volume on top of the slab run's memory, so its peak is estimated as the
larger of the whole-volume run and the slab run plus the float32 volume. ``--whole-volume`` also
runs the default model on the whole volume and reports its measured peak instead. Updates the
``predict`` section of ``benchmarks/RESULTS.md``.

    python -m benchmarks.predict                  # about 10 minutes on 2 quiet cores
    python -m benchmarks.predict --whole-volume   # about 35 minutes: the peak measured, not estimated
    python -m benchmarks.predict --smoke          # tiny runs; writes nothing to RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nibabel as nib
import numpy as np

from benchmarks.common import ROOT, compose
from benchmarks.results import machine_line, markdown_table, peak_memory_bytes, update_section

TIME_SHAPE = (256, 256, 176)
MEMORY_SHAPE = (512, 512, 400)
SLAB_SHAPE = (512, 512, 16)
TARGET_SECONDS = 60.0
TARGET_PEAK_GB = 2.0
# Smoke mode: one run per model on tiny volumes (each run starts a process, which takes seconds).
SMOKE_SHAPES = {TIME_SHAPE: (24, 20, 6), MEMORY_SHAPE: (32, 28, 5)}
SMOKE_TILE = 8
MODELS = {"wdsr_a": [], "bicubic": ["model=bicubic"]}
RUNS = (
    ("time", "wdsr_a", TIME_SHAPE, {"precision": "float32"}),
    ("time", "wdsr_a", TIME_SHAPE, {"precision": "bfloat16"}),
    ("memory", "bicubic", MEMORY_SHAPE, {}),
    ("memory", "wdsr_a", SLAB_SHAPE, {}),
)


def save_checkpoint(path: Path, overrides: list[str]) -> Path:
    """The model ``python train.py <overrides>`` builds, randomly initialised, as a checkpoint."""
    import pytorch_lightning as pl
    import torch

    from srmri.tasks.train import build_module

    torch.manual_seed(0)
    module = build_module(compose("train", overrides))
    trainer = pl.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False)
    trainer.strategy.connect(module)
    trainer.save_checkpoint(path, weights_only=False)
    return path


def write_volume(path: Path, shape: tuple[int, int, int], seed: int) -> Path:
    """A head-like float32 volume: a textured ellipsoid on a zero background, 1 mm voxels."""
    rng = np.random.default_rng(seed)
    x, y = np.meshgrid(*[np.linspace(-1, 1, n, dtype=np.float32) for n in shape[:2]], indexing="ij")
    volume = np.empty(shape, np.float32)
    for k, z in enumerate(np.linspace(-1, 1, shape[2], dtype=np.float32)):
        inside = x**2 / 0.8 + y**2 / 0.9 + z**2 / 0.85 <= 1
        texture = 400 + 150 * np.sin(9 * x + 3 * z) * np.cos(7 * y) + rng.normal(0, 20, x.shape)
        volume[:, :, k] = np.where(inside, texture, 0)
    nib.save(nib.Nifti1Image(volume, np.diag([1.0, 1.0, 1.0, 1.0])), path)
    return path


def compute_floor(shape: tuple[int, int, int], matmul_size: int = 2048) -> dict:
    """The default model's convolution work on the axial slices of ``shape``, and the seconds it
    takes at this machine's fp32 and bf16 matrix-multiply peaks (measured here, 2 x 5 products).

    No implementation of the same network on the same CPU can beat these times, so they say
    whether a time target is reachable at all.
    """
    import torch

    from benchmarks.flops import conv_flops, matmul_gflops
    from srmri.tasks.train import build_module

    network = build_module(compose("train", MODELS["wdsr_a"])).network.eval()
    slice_flops = conv_flops(network, torch.zeros(1, 1, shape[0], shape[1]))
    tflop = slice_flops * shape[2] / 1e12
    cpu = torch.device("cpu")
    peaks = {
        name: matmul_gflops(matmul_size, 5, cpu, dtype)
        for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))
    }
    floor = {name: tflop * 1e3 / gflops for name, gflops in peaks.items()}
    return {"tflop": tflop, "peak_gflops": peaks, "floor_seconds": floor}


def measure(checkpoint: Path, source: Path, output: Path, options: dict) -> dict:
    """Run one prediction in a fresh process; its seconds and peak resident bytes."""
    job = {"checkpoint": str(checkpoint), "input": str(source), "output": str(output), **options}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.predict", "--child", json.dumps(job)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"prediction of {source} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(job: dict) -> None:
    """The measured process: restore, predict, report seconds and this process's peak memory."""
    from srmri.inference import predict_file
    from srmri.io.checkpoints import load_module

    module = load_module(job.pop("checkpoint"))
    source, output = job.pop("input"), job.pop("output")
    start = time.perf_counter()
    predict_file(source, output, module, progress=False, **job)
    seconds = time.perf_counter() - start
    peak = peak_memory_bytes()
    print(json.dumps({"seconds": seconds, "peak_bytes": peak}))


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny volumes; write nothing")
    parser.add_argument(
        "--whole-volume",
        action="store_true",
        help="also run the default model on the whole 512 x 512 x 400 volume (about 25 minutes "
        "on 2 cores) and report its measured peak memory instead of the estimate",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(json.loads(args.child))
        return []
    planned = RUNS + ((("memory", "wdsr_a", MEMORY_SHAPE, {}),) if args.whole_volume else ())
    runs = [
        (goal, model, SMOKE_SHAPES[shape], {**options, "tile": SMOKE_TILE})
        if args.smoke
        else (goal, model, shape, options)
        for goal, model, shape, options in planned
        if not args.smoke or (shape in SMOKE_SHAPES and options.get("precision") != "bfloat16")
    ]
    results = []
    with tempfile.TemporaryDirectory(prefix="srmri-predict-") as folder:
        folder = Path(folder)
        checkpoints = {
            name: save_checkpoint(folder / f"{name}.ckpt", overrides)
            for name, overrides in MODELS.items()
        }
        for i, (goal, model, shape, options) in enumerate(runs):
            source = folder / f"lr_{'x'.join(map(str, shape))}.nii.gz"
            if not source.exists():
                write_volume(source, shape, seed=i)
            output = folder / f"sr_{i}.nii.gz"
            result = measure(checkpoints[model], source, output, options)
            result.update(goal=goal, model=model, shape=shape, options=options)
            output.unlink()
            results.append(result)
            print(
                f"{goal}: {model} {'x'.join(map(str, shape))} {options or 'defaults'}: "
                f"{result['seconds']:.1f} s, peak {result['peak_bytes'] / 1e9:.2f} GB",
                flush=True,
            )
    floor = compute_floor(
        SMOKE_SHAPES[TIME_SHAPE] if args.smoke else TIME_SHAPE, 256 if args.smoke else 2048
    )
    print(
        f"floor: {floor['tflop']:.2f} TFLOP; at the fp32 / bf16 matmul peaks "
        f"{floor['floor_seconds']['fp32']:.1f} s / {floor['floor_seconds']['bf16']:.1f} s",
        flush=True,
    )
    if not args.smoke:
        _write(results, floor)
    return results


def _precision(result: dict) -> str:
    return str(result["options"].get("precision", "auto"))


def _write(results: list[dict], floor: dict) -> None:
    from srmri.inference import PredictOptions

    defaults = PredictOptions()
    rows = []
    for result in results:
        shape = " x ".join(map(str, result["shape"]))
        options = ", ".join(f"{k}={v}" for k, v in result["options"].items()) or "defaults"
        seconds, peak = f"{result['seconds']:.1f}", f"{result['peak_bytes'] / 1e9:.2f}"
        rows.append([result["model"], shape, options, seconds, peak])
    timed = next(r for r in results if r["goal"] == "time" and _precision(r) == "float32")
    timed_amp = next(r for r in results if r["goal"] == "time" and _precision(r) == "bfloat16")
    whole = next(r for r in results if r["shape"] == MEMORY_SHAPE and r["model"] == "bicubic")
    measured = next(
        (r for r in results if r["shape"] == MEMORY_SHAPE and r["model"] == "wdsr_a"), None
    )
    slab = next(r for r in results if r["shape"] == SLAB_SHAPE)
    volume_bytes = int(np.prod(MEMORY_SHAPE)) * 4
    estimate = max(whole["peak_bytes"], slab["peak_bytes"] + volume_bytes)

    def verdict(value: float, target: float) -> str:
        return "meets" if value <= target else "misses"

    time_shape = " x ".join(map(str, TIME_SHAPE))
    body = (
        f"{machine_line()}\n\n"
        "`predict_file` from a float32 `.nii.gz` to a float32 `.nii.gz`, x2, axial view, each "
        "run in a fresh process: wall time of reading, super-resolving, writing and compressing "
        "(not the start-up); peak resident memory of the whole process (`VmHWM`; about "
        "0.6 GB of it is Python, torch and Lightning). `wdsr_a` is the default model "
        "(`conf/model/wdsr_a.yaml`), `bicubic` the interpolation baseline, both from "
        "`python train.py` configs with random weights. Defaults: "
        f"batch_size={defaults.batch_size}, tile={defaults.tile}, overlap={defaults.overlap}, "
        f"precision={defaults.precision} (auto: bfloat16 autocast on a CPU with native bfloat16, "
        "float32 elsewhere).\n\n"
        + markdown_table(["model", "input volume", "options", "seconds", "peak memory (GB)"], rows)
        + f"\n\nTime for {time_shape} x2 with the default model: **{timed['seconds']:.0f} s** "
        f"at float32, which {verdict(timed['seconds'], TARGET_SECONDS)} the "
        f"target of {TARGET_SECONDS:.0f} s; **{timed_amp['seconds']:.0f} s** with bfloat16 "
        "autocast (precision=bfloat16; the default on this CPU), "
        f"which {verdict(timed_amp['seconds'], TARGET_SECONDS)} it. The default model's "
        f"convolutions on this volume are {floor['tflop']:.1f} TFLOP: at this machine's matrix-"
        f"multiply peak, measured in the same run, that is at least "
        f"{floor['floor_seconds']['fp32']:.0f} s at float32 "
        f"({floor['peak_gflops']['fp32']:,.0f} GFLOP/s) and "
        f"{floor['floor_seconds']['bf16']:.0f} s at bfloat16 "
        f"({floor['peak_gflops']['bf16']:,.0f} GFLOP/s), so the float32 time is "
        f"{timed['seconds'] / floor['floor_seconds']['fp32']:.1f}x and the bfloat16 time "
        f"{timed_amp['seconds'] / floor['floor_seconds']['bf16']:.1f}x their floors.\n\n"
        + _memory_text(whole, slab, measured, estimate, volume_bytes)
        + "\n\nRerun: `python -m benchmarks.predict"
        + (" --whole-volume" if measured else "")
        + "`."
    )
    update_section("predict", "Predict: time and memory of super-resolving a volume", body)


def _memory_text(
    whole: dict, slab: dict, measured: dict | None, estimate: int, volume_bytes: int
) -> str:
    memory_shape = " x ".join(map(str, MEMORY_SHAPE))
    target = TARGET_PEAK_GB * 1e9
    verdict = (
        "meets" if (measured or {"peak_bytes": estimate})["peak_bytes"] <= target else "misses"
    )
    slab_text = (
        f"the default model's float32 tiles at {slab['peak_bytes'] / 1e9:.2f} GB on a slab, plus "
        f"the float32 volume ({volume_bytes / 1e9:.2f} GB), gives an estimated "
    )
    if measured is None:
        return (
            f"Peak memory for {memory_shape} with tiling: the whole pipeline on the whole volume "
            f"peaks at **{whole['peak_bytes'] / 1e9:.2f} GB** (bicubic); {slab_text}"
            f"**{estimate / 1e9:.2f} GB** for the default model on the whole volume, which "
            f"{verdict} the target of {TARGET_PEAK_GB:.0f} GB."
        )
    return (
        f"Peak memory for {memory_shape} with tiling, the default model at float32 on the whole "
        f"volume: **{measured['peak_bytes'] / 1e9:.2f} GB** (measured, "
        f"{measured['seconds'] / 60:.0f} minutes), which {verdict} the target of "
        f"{TARGET_PEAK_GB:.0f} GB. The bicubic model on the same volume peaks at "
        f"{whole['peak_bytes'] / 1e9:.2f} GB; {slab_text}{estimate / 1e9:.2f} GB."
    )


if __name__ == "__main__":
    main()
