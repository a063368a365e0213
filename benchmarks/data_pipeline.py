"""Data-pipeline throughput: HR/LR training pairs per second delivered to the model.

Builds the default MNI152 datamodule with 96 x 96 HR patches at x2, iterates its training
DataLoader and degrades every collated batch with :class:`srmri.degradation.Degradation` (on the
GPU when there is one, after the host-to-device copy), which is the work done before a model sees
a batch. Reports steady-state pairs/s (warm-up batches excluded) for several worker counts and
updates the ``data_pipeline`` section of ``benchmarks/RESULTS.md``. Then, at the best setting, the
same for each degradation of ``--degradations`` (``conf/degradation`` options with overrides, built
as ``train.py`` builds them) into the ``data_pipeline_degradations`` section.

    python -m benchmarks.data_pipeline            # full run (a few minutes)
    python -m benchmarks.data_pipeline --smoke    # a few batches per setting; writes nothing
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from benchmarks.results import load_line, machine_line, markdown_table, update_section
from srmri.data import Mni152Source, SRDataModule
from srmri.degradation import BaseDegradation, Degradation, build_degradation

TARGET = 10_000
SCALE = 2
PATCH = 96
# Each degradation as conf/degradation option plus overrides; all x2 on a 96 x 96 patch (the slice
# profile x2 along H only, slices two pixels thick).
DEGRADATIONS = (
    "seed",
    "thesis_opencv",
    "bicubic",
    "seed_rician",
    "kspace",
    "kspace degradation.window=hamming",
    "kspace degradation.noise_std=0.02",
    "slice_profile degradation.thickness=2 degradation.spacing=2",
)


def measure(
    source: Mni152Source,
    num_workers: int,
    batch_size: int,
    warmup: int,
    seconds: float,
    batches: int,
    degradation: BaseDegradation | None = None,
) -> float:
    """Steady-state pairs/s of one setting: after ``warmup`` batches, for ``seconds`` or ``batches``
    (``degradation``: the ``seed`` preset at x2 unless given)."""
    dm = SRDataModule(
        source,
        scale=SCALE,
        views=["axial"],
        patch_size=PATCH,
        batch_size=batch_size,
        num_workers=num_workers,
        samples_per_epoch=batch_size * (warmup + batches + 100_000),
        pin_memory=torch.cuda.is_available(),
    )
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    degradation = degradation or Degradation(SCALE)
    loader = iter(dm.train_dataloader())
    for _ in range(warmup):
        degradation(next(loader)["hr"].to(device, non_blocking=True))
    _sync(device)
    pairs, start = 0, time.perf_counter()
    for _ in range(batches):
        lr = degradation(next(loader)["hr"].to(device, non_blocking=True))
        pairs += lr.shape[0]
        if time.perf_counter() - start > seconds:
            break
    _sync(device)
    return pairs / (time.perf_counter() - start)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main(argv: list[str] | None = None) -> dict[tuple[int, int], float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="two settings, a few batches each; write nothing"
    )
    parser.add_argument(
        "--cache-dir", default="~/.cache/srmri", help="where the template is written"
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="measuring time per setting")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument(
        "--setting",
        type=int,
        nargs=2,
        metavar=("WORKERS", "BATCH"),
        help="skip the sweep (its section is left as it is) and measure the degradations at this "
        "setting",
    )
    parser.add_argument(
        "--degradations",
        nargs="*",
        help="conf/degradation options, each with optional overrides in one quoted string, "
        "measured at the best setting (default: every degradation; none with --smoke)",
    )
    args = parser.parse_args(argv)
    source = Mni152Source(args.cache_dir)
    source.prepare()
    warmup, batches = (1, 2) if args.smoke else (10, 1_000_000)
    settings = [(w, b) for w in args.workers for b in args.batch_sizes]
    if args.smoke:
        settings = [(0, 64), (1, 64)]
    results = {}
    if args.setting:
        settings = []
    for workers, batch_size in settings:
        rate = measure(source, workers, batch_size, warmup, args.seconds, batches)
        results[workers, batch_size] = rate
        print(f"workers={workers} batch={batch_size}: {rate:,.0f} pairs/s", flush=True)
    if args.setting:
        best = tuple(args.setting)
    else:
        best = max(results, key=results.get)
        print(
            f"best: {results[best]:,.0f} pairs/s (workers={best[0]}, batch={best[1]}); "
            f"target {TARGET:,}"
        )
        if not args.smoke:
            _write(results, best)
    if args.degradations is None:
        args.degradations = [] if args.smoke else list(DEGRADATIONS)
    rates, load_start = {}, os.getloadavg()[0]
    for entry in args.degradations:
        rates[entry] = measure(source, *best, warmup, args.seconds, batches, degradation_of(entry))
        print(f"degradation={entry}: {rates[entry]:,.0f} pairs/s", flush=True)
    if rates and not args.smoke:
        _write_degradations(rates, best, (load_start, os.getloadavg()[0]))
    return results


def degradation_of(entry: str) -> BaseDegradation:
    """The degradation ``train.py degradation=<entry>`` would use at x2 (``entry``: an option of
    conf/degradation, then overrides separated by spaces)."""
    from omegaconf import OmegaConf

    from benchmarks.common import compose

    name, *overrides = entry.split()
    cfg = compose("train", [f"degradation={name}", f"data.scale={SCALE}", *overrides])
    return build_degradation(OmegaConf.to_container(cfg.degradation, resolve=True))


def _write_degradations(
    rates: dict[str, float], setting: tuple[int, int], load: tuple[float, float]
) -> None:
    rows = [
        [f"`{entry}`", degradation_of(entry).describe(), f"{rate:,.0f}"]
        for entry, rate in rates.items()
    ]
    worst = min(rates, key=rates.get)
    verdict = "meets" if rates[worst] >= TARGET else "misses"
    body = (
        f"{machine_line()} {load_line(*load)}\n\n"
        f"As above, at the setting (workers={setting[0]}, batch={setting[1]}), with each "
        f"degradation (`degradation=<option> <overrides>` of `train.py`, x{SCALE}, 96 x 96 HR "
        "patches; the slice profile is x2 along H only).\n\n"
        + markdown_table(["degradation", "built as", "pairs/s"], rows)
        + f"\n\nSlowest: `{worst}` at **{rates[worst]:,.0f} pairs/s**, which {verdict} the target "
        f"of {TARGET:,} pairs/s for every degradation. The `seed` row repeats the sweep's "
        "configuration (section above): the ratio of the two shows how much the machine's load "
        "slowed this run.\n\n"
        f"Rerun: `python -m benchmarks.data_pipeline --setting {setting[0]} {setting[1]}` (or "
        "without `--setting`: after the sweep, at its best setting)."
    )
    update_section(
        "data_pipeline_degradations", "Data pipeline: pairs per second for each degradation", body
    )


def _write(results: dict[tuple[int, int], float], best: tuple[int, int]) -> None:
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "the CPU"
    rows = [[w, b, f"{rate:,.0f}"] for (w, b), rate in sorted(results.items())]
    verdict = "meets" if results[best] >= TARGET else "misses"
    body = (
        f"{machine_line()}\n\n"
        f"MNI152 demo source, {PATCH} x {PATCH} HR patches from axial slices with dihedral "
        f"augmentation, x{SCALE} LR made from each collated batch by `Degradation({SCALE})` "
        f"(`seed` preset) on {device}. Steady state, warm-up excluded.\n\n"
        + markdown_table(["DataLoader workers", "batch size", "pairs/s"], rows)
        + f"\n\nBest: **{results[best]:,.0f} pairs/s** (workers={best[0]}, batch={best[1]}), "
        f"which {verdict} the target of {TARGET:,} pairs/s.\n\n"
        "Rerun: `python -m benchmarks.data_pipeline`."
    )
    update_section("data_pipeline", "Data pipeline: training pairs per second", body)


if __name__ == "__main__":
    main()
