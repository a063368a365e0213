"""Quality: the trained model against bicubic on the held-out MNI152 slab, after a fixed training time.

For each scale, trains the demo with ``srmri.tasks.train.train`` (``conf/train.yaml`` composed with the
recipe given by the options below) until the wall-clock budget is spent, then scores its best
checkpoint on the test slab with ``srmri.evaluation`` (the code of ``evaluate.py``): mean PSNR and
SSIM of the model and of bicubic, over the whole slice and inside the brain mask, in every view,
and the gain. Prints the table, writes the runs and ``quality.json`` under ``--output-dir`` and
updates the ``quality`` section of ``benchmarks/RESULTS.md``.

    python benchmarks/quality.py                                  # the benchmark: x2 and x4,
                                                                  # 10 min of training each
    python benchmarks/quality.py --budget-minutes 2 --scales 2    # a quick check, labelled so
    python benchmarks/quality.py --smoke                          # seconds; RESULTS.md untouched
    python benchmarks/quality.py --degradation kspace --scales 2  # trained on k-space truncation;
                                                                  # also against zero-fill
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import quality_baselines
from benchmarks.quality_recipe import (
    DEFAULT_PATCH_SIZES,
    STANDARD_SCALES,
    Recipe,
    evaluate_overrides,
    train_overrides,
)
from benchmarks.quality_report import headline, read_scores, results_body, score_rows, table
from benchmarks.results import machine_info, machine_line, update_section
from srmri.data import VIEWS
from srmri.degradation import SCALES
from srmri.io.atomic import write_text_atomic
from srmri.io.checkpoints import load_checkpoint, load_module
from srmri.io.plain_values import plain
from srmri.tasks.evaluate import evaluate
from srmri.tasks.redaction import redact
from srmri.tasks.train import train

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = ROOT / "benchmarks" / "outputs" / "quality"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true", help="tiny network, 3 s, one view")
    parser.add_argument(
        "--scales",
        type=int,
        nargs="+",
        default=list(STANDARD_SCALES),
        choices=SCALES,
        help="one training run and evaluation per scale",
    )
    parser.add_argument("--budget-minutes", type=float, default=10.0, help="training per scale")
    parser.add_argument("--model", default="wdsr_a", help="a conf/model option")
    parser.add_argument(
        "--patch-sizes",
        type=int,
        nargs="+",
        help="HR patch side per scale, in the order of --scales (default: "
        + ", ".join(f"{p} at x{s}" for s, p in DEFAULT_PATCH_SIZES.items())
        + ")",
    )
    parser.add_argument("--batch-size", type=int, default=16, help="HR patches per step")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam's base rate")
    parser.add_argument(
        "--min-lr-factor", type=float, default=0.01, help="rate at the budget's end / base rate"
    )
    parser.add_argument(
        "--val-every-minutes",
        type=float,
        default=5.0,
        help="validation interval; the run also validates when the budget ends, and the best "
        "checkpoint of these is evaluated",
    )
    parser.add_argument(
        "--views",
        nargs="+",
        default=list(VIEWS),
        choices=VIEWS,
        help="slicing directions for training, validation and evaluation",
    )
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a further Hydra override of the training config (repeatable), e.g. "
        "model.network.n_blocks=8",
    )
    parser.add_argument(
        "--degradation",
        help="a conf/degradation option to train with (e.g. kspace); the figures then go to the "
        "quality_<name> section of RESULTS.md, with the gain over every baseline evaluate.py "
        "scores for it (bicubic and zero_fill for kspace)",
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own)")
    parser.add_argument("--cache-dir", type=Path, help="derived data cache (default: conf's)")
    parser.add_argument(
        "--output-dir", type=Path, help=f"new or empty folder (default: {OUTPUTS}/<time>)"
    )
    args = parser.parse_args(argv)
    if len(set(args.scales)) != len(args.scales):
        parser.error(f"--scales {args.scales}: expected distinct scales")
    if args.patch_sizes is None:
        args.patch_sizes = [DEFAULT_PATCH_SIZES[scale] for scale in args.scales]
    if len(args.patch_sizes) != len(args.scales):
        parser.error(
            f"--patch-sizes {args.patch_sizes}: expected one size per scale of --scales "
            f"{args.scales}"
        )
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; return its record (also written as ``quality.json``)."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    recipe = Recipe(
        model=args.model,
        budget_minutes=args.budget_minutes,
        patch_sizes=dict(zip(args.scales, args.patch_sizes, strict=True)),
        batch_size=args.batch_size,
        lr=args.lr,
        min_lr_factor=args.min_lr_factor,
        val_every_minutes=args.val_every_minutes,
        views=tuple(args.views),
        overrides=(
            *([f"degradation={args.degradation}"] if args.degradation else []),
            *args.override,
        ),
    )
    if args.smoke:
        recipe = recipe.smoke()
    output_dir = new_output_dir(args.output_dir)
    cache_dir = args.cache_dir.expanduser() if args.cache_dir else None
    load_start = os.getloadavg()[0]
    runs, rows = {}, []
    for scale in args.scales:
        runs[scale], scale_rows = run_scale(recipe, scale, output_dir / f"x{scale}", cache_dir)
        rows += scale_rows
    record = {
        "command": shlex.join(
            ["python", "benchmarks/quality.py", *(sys.argv[1:] if argv is None else argv)]
        ),
        "smoke": args.smoke,
        "machine": machine_info(),
        "load_average": {"start": load_start, "end": os.getloadavg()[0]},
        "recipe": dataclasses.asdict(recipe),
        "deviations": recipe.deviations(tuple(args.scales)),
        "runs": runs,
        "rows": rows,
        **({"degradation": args.degradation} if args.degradation else {}),
    }
    write_text_atomic(output_dir / "quality.json", json.dumps(record, indent=2))
    print(table(rows))
    print("brain-masked PSNR gain over bicubic: " + "; ".join(headline(rows, s) for s in runs))
    for scale, run in runs.items():
        print(
            f"x{scale} brain-masked PSNR gain: "
            + quality_baselines.headline(run["baseline_rows"], run["baseline_names"])
        )
    print(f"runs, reports and quality.json: {output_dir}")
    if args.degradation:
        if not args.smoke:
            update_section(
                f"quality_{args.degradation}",
                f"Quality with degradation={args.degradation}: gain over bicubic and its own "
                "baselines",
                quality_baselines.results_body(record, machine_line(record["machine"])),
            )
    elif not args.smoke:
        update_section(
            "quality",
            "Quality: gain over bicubic after a fixed training time",
            results_body(record, machine_line(record["machine"])),
        )
    return record


def run_scale(
    recipe: Recipe, scale: int, scale_dir: Path, cache_dir: Path | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Train one scale for the budget, evaluate its best checkpoint; the run's record and rows."""
    train_dir, evaluate_dir = scale_dir / "train", scale_dir / "evaluate"
    train_cfg = compose("train", train_overrides(recipe, scale, train_dir, cache_dir))
    save_config(train_cfg, scale_dir / "train_config.yaml")
    start = time.perf_counter()
    report = train(train_cfg)
    train_seconds = time.perf_counter() - start
    best = report["best_checkpoint"]
    if best is None:
        raise RuntimeError(f"x{scale}: training in {train_dir} saved no best checkpoint")
    last = load_checkpoint(train_dir / "checkpoints" / "last.ckpt")
    network = load_module(best).network
    evaluate_cfg = compose(
        "evaluate", evaluate_overrides(Path(best), scale, recipe.views, evaluate_dir, cache_dir)
    )
    save_config(evaluate_cfg, scale_dir / "evaluate_config.yaml")
    summary = evaluate(evaluate_cfg)
    (model,) = summary["models"]
    run = {
        "steps": int(last["global_step"]),
        "epochs": int(last["epoch"]) + 1,
        "train_seconds": train_seconds,
        "evaluate_seconds": summary["setup"]["seconds"],
        "network": plain(train_cfg.model.network),
        "parameters": sum(p.numel() for p in network.parameters()),
        "best_checkpoint": best,
        "best_checkpoint_name": Path(best).name,
        "validation": report["metrics"],
        "evaluation_dir": str(evaluate_dir),
    }
    scores = read_scores(evaluate_dir / "metrics.csv")
    run["baseline_names"] = [m for m in summary["methods"] if m != model]
    run["baseline_rows"] = quality_baselines.baseline_rows(
        scores, model, run["baseline_names"], scale, recipe.views
    )
    return run, score_rows(scores, model, scale, recipe.views)


def compose(config_name: str, overrides: list[str]) -> DictConfig:
    """``conf/<config_name>.yaml`` with ``overrides``, as the command line would compose it."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return hydra_compose(config_name=config_name, overrides=overrides)


def save_config(cfg: DictConfig, path: Path) -> None:
    """The composed config as YAML, values resolved and secrets redacted as a run's own are."""
    write_text_atomic(path, OmegaConf.to_yaml(OmegaConf.create(redact(plain(cfg)))))


def new_output_dir(requested: Path | None) -> Path:
    """The run's folder: ``requested`` if new or empty, else a fresh timestamped one.

    Raises:
        FileExistsError: ``requested`` exists and is not an empty folder.
    """
    if requested is None:
        requested = OUTPUTS / dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    requested = requested.expanduser().resolve()
    if requested.exists() and (not requested.is_dir() or any(requested.iterdir())):
        raise FileExistsError(
            f"--output-dir {requested}: exists and is not an empty folder; expected a new or "
            "empty folder (runs of an earlier benchmark are never overwritten)"
        )
    requested.mkdir(parents=True, exist_ok=True)
    return requested


if __name__ == "__main__":
    main()
