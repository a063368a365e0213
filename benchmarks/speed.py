"""Speed: the study's inference setting, the machine's limit, and Lightning's training overhead.

Inference: EDSR x2 (full) and WDSR-A x4 (32 blocks, 32 features, x6) on the study's 510 x 339
RGB input with 2 threads, warm-up excluded, median of a few runs, in three variants (the network
as built, the channels-last path srmri's prediction uses, and that path under autocast). Each
network's convolution GFLOP/s is compared with this machine's matrix-multiply GFLOP/s measured
in the same run. Training: ms per step of ``SRModule`` under a ``pl.Trainer`` against a plain
PyTorch loop doing the same work. With a GPU, the same on the GPU plus bf16-mixed channels-last
training and the 256 x 256 x 176 volume. The data-pipeline and volume-prediction figures of
their own scripts are quoted from ``benchmarks/RESULTS.md``. Updates its ``speed`` section.

    python -m benchmarks.speed            # full run (about 17 minutes on a quiet 2-core CPU)
    python -m benchmarks.speed --smoke    # tiny sizes, seconds; writes nothing
    python -m benchmarks.speed --devices cuda   # the GPU alone, into its own section
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from benchmarks.flops import matmul_gflops
from benchmarks.inference_speed import (
    NETWORKS,
    STUDY_INPUT,
    VARIANTS,
    InferenceResult,
    NetworkSpec,
    measure_network,
    variant_dtype,
)
from benchmarks.results import RESULTS, machine_info, machine_line, markdown_table, update_section
from benchmarks.training_overhead import MIXED, TrainingResult, TrainingSetting, compare
from benchmarks.volume_speed import STUDY_VOLUME, VolumeResult, volume_time

EFFICIENCY_TARGET = 0.70
OVERHEAD_TARGET = 0.10
# Sections of RESULTS.md written by other benchmarks whose headline figures belong here too.
QUOTED = (("data_pipeline", "Data pipeline"), ("predict", "Volume prediction"))


@dataclass(frozen=True)
class Sizes:
    """How big and how long each measurement is.

    Attributes:
        input_hw: inference input ``(H, W)``.
        warmup: untimed inference runs per variant.
        repeats: timed inference runs per variant (the median is reported).
        matmul_size: side of the square matrices of the peak measurement.
        matmul_repeats: timed matrix products (the median is reported).
        train_batch: HR patches per training step.
        train_patch: HR patch side.
        train_warmup: training steps left out before timing.
        train_steps: timed training steps per round.
        train_rounds: rounds of both training paths.
        volume: the GPU volume's shape.
    """

    input_hw: tuple[int, int]
    warmup: int
    repeats: int
    matmul_size: int
    matmul_repeats: int
    train_batch: int
    train_patch: int
    train_warmup: int
    train_steps: int
    train_rounds: int
    volume: tuple[int, int, int]


# The demo's batch (16 patches of 48 x 48) and the study's input and volume.
FULL = Sizes(
    input_hw=STUDY_INPUT,
    warmup=1,
    repeats=3,
    matmul_size=4096,
    matmul_repeats=10,
    train_batch=16,
    train_patch=48,
    train_warmup=5,
    train_steps=20,
    train_rounds=5,
    volume=STUDY_VOLUME,
)
SMOKE = Sizes(
    input_hw=(8, 12),
    warmup=1,
    repeats=1,
    matmul_size=256,
    matmul_repeats=2,
    train_batch=2,
    train_patch=24,
    train_warmup=1,
    train_steps=2,
    train_rounds=1,
    volume=(32, 32, 4),
)


def main(argv: list[str] | None = None) -> dict[str, list]:
    args = _parse(argv)
    sizes = replace(
        SMOKE if args.smoke else FULL,
        **{
            key: value
            for key, value in (("repeats", args.repeats), ("train_rounds", args.train_rounds))
            if value is not None
        },
    )
    _quiet_lightning()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    devices = [torch.device(name) for name in args.devices]
    # The peak is measured before and after each network and the best figure kept, so that a
    # busy moment of a shared machine cannot make a network look more efficient than it is.
    peaks: dict[tuple[str, torch.dtype], list[float]] = {}
    inference: list[InferenceResult] = []
    training: list[TrainingResult] = []
    for device in devices:
        dtypes = list(dict.fromkeys(variant_dtype(v, device) for v in args.variants))
        _measure_peaks(device, dtypes, sizes, peaks)
        for spec in NETWORKS:
            inference += _inference(device, spec, tuple(args.variants), sizes)
            _measure_peaks(device, dtypes, sizes, peaks)
        training += [
            _training(device, precision, layout, sizes)
            for precision, layout in _training_settings(device)
        ]
    volume = _volume(sizes, asked="cuda" in args.devices)
    tables = _tables(inference, peaks, training, volume, args.threads)
    summary = _summary(inference, peaks, training)
    quoted = quoted_figures()
    print(f"\n{tables}\n\n{summary}\n\n{quoted}")
    if not args.smoke:
        _write(tables, summary, quoted, load, sizes, args.devices)
    return {"inference": inference, "training": training}


def _inference(
    device: torch.device, spec: NetworkSpec, variants: tuple[str, ...], sizes: Sizes
) -> list[InferenceResult]:
    results = measure_network(spec, device, sizes.input_hw, variants, sizes.warmup, sizes.repeats)
    for result in results:
        print(f"{device.type} {spec.name} {result.variant}: {result.seconds:.3f} s", flush=True)
    return results


def _training(
    device: torch.device, precision: str, channels_last: bool, sizes: Sizes
) -> TrainingResult:
    setting = TrainingSetting(
        device.type,
        precision,
        channels_last,
        sizes.train_batch,
        sizes.train_patch,
        sizes.train_warmup,
        sizes.train_steps,
        sizes.train_rounds,
    )
    result = compare(setting)
    print(f"training {setting.label}: overhead {result.overhead:+.1%}", flush=True)
    return result


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes for CI; write nothing")
    parser.add_argument(
        "--threads", type=_positive, default=2, help="torch CPU threads (the study's: 2)"
    )
    parser.add_argument(
        "--devices",
        nargs="+",
        choices=("cpu", "cuda"),
        default=["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"],
        help="where to measure (default: the CPU, and the GPU if there is one); without the CPU "
        "the figures go to their own section, `speed_gpu`",
    )
    parser.add_argument(
        "--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS, help="inference variants"
    )
    parser.add_argument(
        "--repeats", type=_positive, help=f"timed inference runs per variant ({FULL.repeats})"
    )
    parser.add_argument(
        "--train-rounds",
        type=_positive,
        help=f"rounds of both training paths ({FULL.train_rounds})",
    )
    args = parser.parse_args(argv)
    if "cuda" in args.devices and not torch.cuda.is_available():
        parser.error("--devices cuda: torch sees no CUDA GPU here")
    return args


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _quiet_lightning() -> None:
    # The trainer's banner and its advice about DataLoader workers would bury the tables; the
    # in-memory patches need no workers.
    logging.getLogger("pytorch_lightning").setLevel(logging.WARNING)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*overridden `on_after_batch_transfer`.*")
    warnings.filterwarnings("ignore", message=".*validation_step` but have no `val_dataloader.*")
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")


def _measure_peaks(
    device: torch.device,
    dtypes: list[torch.dtype],
    sizes: Sizes,
    peaks: dict[tuple[str, torch.dtype], list[float]],
) -> None:
    # As in the fp32 inference rows: no TF32 inside "fp32" on a GPU.
    tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        for dtype in dtypes:
            peak = matmul_gflops(sizes.matmul_size, sizes.matmul_repeats, device, dtype)
            peaks.setdefault((device.type, dtype), []).append(peak)
            print(f"{device.type} {_dtype_name(dtype)} matmul: {peak:,.1f} GFLOP/s", flush=True)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32


def _training_settings(device: torch.device) -> list[tuple[str, bool]]:
    if device.type == "cuda":
        return [("32-true", False), (MIXED, True)]
    return [("32-true", False)]


def _volume(sizes: Sizes, asked: bool) -> VolumeResult | str:
    if not torch.cuda.is_available():
        return "no GPU: the GPU volume time was not measured"
    if not asked:
        return "not measured: `--devices` left out cuda"
    result = volume_time(sizes.volume, torch.device("cuda"), sizes.warmup, sizes.repeats)
    print(f"cuda volume {result.shape}: {result.seconds:.2f} s", flush=True)
    return result


def _dtype_name(dtype: torch.dtype) -> str:
    return {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype]


def _inference_rows(
    results: list[InferenceResult], peaks: dict[tuple[str, torch.dtype], list[float]]
) -> list[list[object]]:
    rows = []
    for r in results:
        dtype = variant_dtype(r.variant, r.device)
        peak = max(peaks[r.device.type, dtype])
        spec = r.network
        row = [
            r.device.type,
            spec.name,
            f"{r.variant} ({_dtype_name(dtype)})",
            f"{r.gflop:,.2f}",
            f"{r.seconds:,.3f}",
            f"{r.gflops:,.1f}",
            f"{r.gflops / peak:.0%}",
            f"{r.gflop / peak:,.3f}",
        ]
        # The study's figures and srmri's targets are for its input on a CPU only.
        if r.input_hw == STUDY_INPUT:
            row += [
                f"{spec.study_seconds:g} ({spec.study_threads} threads)",
                f"{spec.study_seconds / r.seconds:,.1f}x",
            ]
        else:
            row += ["-", "-"]
        if r.input_hw == STUDY_INPUT and r.device.type == "cpu":
            row += [f"{spec.target_seconds:g}", _verdict(r.seconds <= spec.target_seconds)]
        else:
            row += ["-", "-"]
        rows.append(row)
    return rows


def _verdict(met: bool) -> str:
    return "meets" if met else "misses"


def _tables(
    inference: list[InferenceResult],
    peaks: dict[tuple[str, torch.dtype], list[float]],
    training: list[TrainingResult],
    volume: VolumeResult | str,
    threads: int,
) -> str:
    h, w = inference[0].input_hw
    on_cpu = any(r.device.type == "cpu" for r in inference)
    cpu_threads = (
        f" ({threads} CPU thread{'s' if threads != 1 else ''} on the CPU)" if on_cpu else ""
    )
    batch, patch = training[0].setting.batch_size, training[0].setting.patch_size
    peak_rows = [
        [device, _dtype_name(dtype), f"{max(runs):,.1f}", f"{min(runs):,.1f}", len(runs)]
        for (device, dtype), runs in peaks.items()
    ]
    training_rows = [
        [
            r.setting.label,
            f"{r.lightning_seconds * 1e3:,.1f}",
            f"{r.plain_seconds * 1e3:,.1f}",
            f"{r.overhead:+.1%}",
            f"{r.lightning_images_per_second:,.0f}",
            _verdict(r.overhead <= OVERHEAD_TARGET),
        ]
        for r in training
    ]
    parts = [
        f"Matrix-multiply peak{cpu_threads}, measured before and after each network; the "
        "best is the peak (a low lowest figure means the machine was busy):\n\n"
        + markdown_table(["device", "type", "best GFLOP/s", "lowest GFLOP/s", "runs"], peak_rows),
        f"Inference on one {w} x {h} RGB input{cpu_threads}:\n\n"
        + markdown_table(INFERENCE_HEADER, _inference_rows(inference, peaks)),
        f"Training step of the demo network (`conf/model/wdsr_a.yaml`), {batch} HR patches of "
        f"{patch} x {patch}:\n\n" + markdown_table(TRAINING_HEADER, training_rows),
    ]
    if isinstance(volume, VolumeResult):
        memory = f"{volume.peak_bytes / 2**30:.2f}" if volume.peak_bytes is not None else "-"
        shape = " x ".join(map(str, volume.shape))
        parts.append(
            markdown_table(
                ["GPU volume (demo network)", "scale", "median s", "peak GPU memory GiB"],
                [[shape, f"x{volume.scale}", f"{volume.seconds:.2f}", memory]],
            )
        )
    else:
        parts.append(f"GPU volume: {volume}.")
    return "\n\n".join(parts)


INFERENCE_HEADER = [
    "device",
    "network",
    "variant",
    "GFLOP / forward",
    "median s",
    "GFLOP/s",
    "of matmul peak",
    "s at 100% of peak",
    "study s",
    "faster than study",
    "target s",
    "verdict",
]
TRAINING_HEADER = [
    "setting",
    "Lightning ms/step",
    "plain loop ms/step",
    "overhead",
    "Lightning images/s",
    f"verdict (<= {OVERHEAD_TARGET:.0%})",
]


def _summary(
    inference: list[InferenceResult],
    peaks: dict[tuple[str, torch.dtype], list[float]],
    training: list[TrainingResult],
) -> str:
    lines = []
    cpu = [r for r in inference if r.device.type == "cpu" and r.input_hw == STUDY_INPUT]
    for spec in NETWORKS:
        fp32 = [
            r
            for r in cpu
            if r.network is spec and variant_dtype(r.variant, r.device) == torch.float32
        ]
        if not fp32:
            continue
        best = min(fp32, key=lambda r: r.seconds)
        fraction = best.gflops / max(peaks["cpu", torch.float32])
        line = (
            f"- {spec.name}, fp32 on the CPU: **{best.seconds:,.2f} s** ({best.variant}), "
            f"{_verdict(best.seconds <= spec.target_seconds)} the {spec.target_seconds:g} s "
            f"target; {spec.study_seconds / best.seconds:,.1f}x faster than the study's "
            f"{spec.study_seconds:g} s ({spec.study_threads} threads); **{fraction:.0%}** of the "
            f"fp32 matmul peak, {_verdict(fraction >= EFFICIENCY_TARGET)} the "
            f"{EFFICIENCY_TARGET:.0%} target."
        )
        for amp in (r for r in cpu if r.network is spec and r.variant == "amp"):
            line += (
                f" With `amp` (bf16): {amp.seconds:,.2f} s, "
                f"{_verdict(amp.seconds <= spec.target_seconds)} the target."
            )
        lines.append(line)
    # On a GPU the study's timings (CPU library) and the CPU targets do not apply; the speed-up
    # is still the figure a reader compares.
    for r in inference:
        if r.device.type != "cuda" or r.input_hw != STUDY_INPUT:
            continue
        spec = r.network
        lines.append(
            f"- {spec.name}, {r.variant} ({_dtype_name(variant_dtype(r.variant, r.device))}) on "
            f"the GPU: **{r.seconds:,.3f} s**, {spec.study_seconds / r.seconds:,.0f}x faster than "
            f"the study's {spec.study_seconds:g} s."
        )
    for r in training:
        verdict = _verdict(r.overhead <= OVERHEAD_TARGET)
        lines.append(
            f"- Lightning overhead per training step ({r.setting.label}): **{r.overhead:+.1%}**, "
            f"{verdict} the {OVERHEAD_TARGET:.0%} target."
        )
    return "\n".join(lines)


def quoted_figures(path: Path = RESULTS) -> str:
    """The headline (bold) lines and the date of other benchmarks' sections of RESULTS.md."""
    text = path.read_text() if path.exists() else ""
    lines = []
    for name, title in QUOTED:
        match = re.search(rf"<!-- {name}:start -->(.*?)<!-- {name}:end -->", text, re.DOTALL)
        if match is None:
            lines.append(f"- {title}: not measured yet (`python -m benchmarks.{name}`).")
            continue
        section = match.group(1)
        date = re.search(r"Measured (\d{4}-\d{2}-\d{2})", section)
        when = f", measured {date.group(1)}" if date else ""
        headline = " ".join(line.strip() for line in section.splitlines() if "**" in line)
        lines.append(f"- {title} (section `{name}`{when}): {headline or 'see its section.'}")
    return "\n".join(lines)


def _write(
    tables: str, summary: str, quoted: str, load: float, sizes: Sizes, devices: list[str]
) -> None:
    body = (
        f"{machine_line(machine_info())} One-minute load average at the start: {load:.1f}.\n\n"
        f"Networks with random weights (speed does not depend on them). Inference: warm-up run "
        f"excluded, median of {sizes.repeats} runs, under `torch.inference_mode()`. Variants: "
        "`nchw` is the network as built; `channels_last` has channels-last weights and input "
        "and computes weight norm once per forward (srmri's prediction path does the same "
        "convolutions, with weight norm folded into the weights once); `amp` is that "
        "path under autocast (bf16 on a CPU, fp16 on a GPU), compared with the matmul peak of "
        "its own type. GFLOP counts 2 x multiply-adds of every convolution; 's at 100% of peak' "
        "is the time the convolutions would take at the matmul peak. GPU fp32 rows run without "
        "TF32. "
        f"Training: steady state after {sizes.train_warmup} steps, {sizes.train_steps} timed "
        f"steps, medians of {sizes.train_rounds} rounds (the overhead is the median of each "
        "round's ratio, both paths of a round back to back); both paths do the "
        "degradation, forward, L1 loss, backward, gradient clipping, Adam, the schedule and the "
        "EMA update.\n\n"
        f"{tables}\n\n{summary}\n\n"
        # The quoted sections are CPU figures: they belong with the CPU tables only.
        + (f"Quoted from their own sections:\n\n{quoted}\n\n" if "cpu" in devices else "")
        + f"Rerun: `python -m benchmarks.speed{'' if 'cpu' in devices else ' --devices cuda'}`."
    )
    if "cpu" in devices:
        update_section("speed", "Speed: inference, machine limit, training overhead", body)
    else:
        update_section("speed_gpu", "Speed on a GPU: inference, machine limit, training", body)


if __name__ == "__main__":
    main()
