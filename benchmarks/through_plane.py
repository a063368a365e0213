"""Through-plane super resolution of simulated thick slices: srmri against cubic B-spline.

Thick slices are simulated along the superior-inferior voxel axis of isotropic volumes by the one
slice-profile definition (:func:`srmri.isotropic.simulate.thick_slices`): the MNI152 demo
(Gaussian profiles of 2, 4 and 6 mm with spacing = thickness, a gap case of 3 mm slices every
4.5 mm, a non-integer case of 2.5 mm) and, when ``../shared/data/dev`` (or ``--dev``) holds them,
the development scans at 4 mm. Each thick volume is written as ``.nii.gz`` and made isotropic by
``srmri.isotropic.isotropic_file`` with the default options (``budget`` from
``conf/isotropic.yaml``) in a fresh process, which reports its wall time (reading, training,
applying, writing) and its own peak resident memory (``VmHWM``, see ``peak_memory_bytes``); the cubic B-spline comes from
the same function with ``method="cubic"``. Both outputs lie on the first ``n k`` voxels of the
original grid (``n k`` is a whole number in every case), where they are scored against the
original with :mod:`srmri.metrics` inside the brain: PSNR over the brain's voxels and SSIM (11 x 11
Gaussian window) on the coronal planes (those through the slice axis), averaged over brain pixels,
after normalising all three by the original's brain window (0.5-99.5 percentiles). Brain masks:
the nilearn MNI152 mask, the BraTS masks, the automatic mask (:mod:`srmri.data.brain_mask`) for a
scan without one. Updates the ``through_plane`` section of ``benchmarks/RESULTS.md``.

    python -m benchmarks.through_plane                # every case (about 10 minutes each)
    python -m benchmarks.through_plane --cases dev    # the development scans at 4 mm only
    python -m benchmarks.through_plane --smoke        # a tiny run; writes nothing
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nibabel as nib
import numpy as np

from benchmarks.common import ROOT
from benchmarks.results import machine_line, markdown_table, peak_memory_bytes, update_section

# The development scans: $SRMRI_DEV_DIR, else ../shared/data/dev beside the checkout (or beside
# the folder of work trees that holds it).
DEV = Path(
    os.environ.get("SRMRI_DEV_DIR")
    or next(
        (
            path
            for path in (ROOT.parent / "shared/data/dev", ROOT.parents[1] / "shared/data/dev")
            if path.is_dir()
        ),
        ROOT.parent / "shared/data/dev",
    )
)
AXIS = 2  # superior-inferior in the demo, BraTS (LPS) and mrgd (RAS) grids: axial thick slices
TARGET_GAIN_DB = 3.0
TARGET_SECONDS = 600.0
TARGET_PEAK_GB = 4.0
# (name, thickness mm, spacing mm) on the demo; the development scans run the 4 mm case.
DEMO_CASES = (
    ("2 mm", 2.0, 2.0),
    ("4 mm", 4.0, 4.0),
    ("6 mm", 6.0, 6.0),
    ("3 mm every 4.5 mm (gap)", 3.0, 4.5),
    ("2.5 mm (non-integer k)", 2.5, 2.5),
)
DEV_CASE = ("4 mm", 4.0, 4.0)
DEV_SCANS = ("brats5_T1c", "brats5_FLAIR", "brats6_T1c", "brats6_FLAIR", "mrgd_T1Gd")
SMOKE_OPTIONS = {"budget": 4, "n_blocks": 1, "n_feats": 4, "patch_rows": 16, "patch_width": 16}


def load_demo(smoke: bool) -> tuple[nib.Nifti1Image, np.ndarray]:
    """The MNI152 T1 template (2 mm in smoke mode, else 1 mm) and its brain mask."""
    from nilearn.datasets import load_mni152_brain_mask, load_mni152_template

    resolution = 2 if smoke else 1
    template = load_mni152_template(resolution=resolution)
    mask = np.asarray(load_mni152_brain_mask(resolution=resolution).dataobj) > 0
    image = nib.Nifti1Image(np.asarray(template.dataobj, np.float32), template.affine)
    return image, mask


def load_dev(name: str, folder: Path) -> tuple[nib.Nifti1Image, np.ndarray, str]:
    """A development scan (float32), its brain mask and where the mask came from."""
    import torch

    from srmri.data import intensity_window, normalise
    from srmri.data.brain_mask import automatic_mask

    source = nib.load(folder / f"{name}.nii.gz")
    volume = np.asarray(source.dataobj, np.float32)
    image = nib.Nifti1Image(volume, source.affine)
    mask_path = folder / f"{name.split('_')[0]}_mask.nii.gz"
    if mask_path.is_file():
        return image, np.asarray(nib.load(mask_path).dataobj) > 0, "given"
    lo, hi = intensity_window(volume, None, "percentile", 0.5, 99.5)
    mask = automatic_mask(normalise(torch.from_numpy(volume), lo, hi), 0.1).numpy()
    return image, mask, "automatic"


def whole_slices(size: int, spacing: float) -> int:
    """The most thick slices ``n <= size / spacing`` with ``n * spacing`` a whole number."""
    n = int(np.floor(size / spacing + 1e-9))
    while n > 1 and abs(n * spacing - round(n * spacing)) > 1e-6:
        n -= 1
    return n


def score(
    output: np.ndarray, truth: np.ndarray, mask: np.ndarray, window: tuple[float, float]
) -> dict[str, float]:
    """Brain PSNR (over the brain's voxels) and SSIM (coronal planes, over brain pixels)."""
    import torch

    from srmri.data import normalise
    from srmri.metrics import psnr, ssim_map

    lo, hi = window
    sr = normalise(torch.from_numpy(np.ascontiguousarray(output, np.float32)), lo, hi)
    hr = normalise(torch.from_numpy(np.ascontiguousarray(truth, np.float32)), lo, hi)
    region = torch.from_numpy(np.ascontiguousarray(mask))
    flat = (1, 1, sr.shape[0], -1)
    value = psnr(sr.reshape(flat), hr.reshape(flat), region.reshape(flat))
    # Planes through the slice axis (AXIS = 2): one per voxel of axis 1, (axis 0, axis 2).
    planes = [t.permute(1, 0, 2).unsqueeze(1) for t in (sr, hr)]
    full = ssim_map(*planes)
    valid = ~torch.isnan(full) & region.permute(1, 0, 2).unsqueeze(1)
    return {"psnr": float(value[0]), "ssim": float(full[valid].mean())}


def save_panel(
    path: Path,
    thick: np.ndarray,
    spacing: float,
    outputs: dict[str, np.ndarray],
    truth: np.ndarray,
    window: tuple[float, float],
) -> None:
    """One coronal plane (the middle of axis 1): thick input (each slice drawn over its slab),
    cubic B-spline, srmri and the original, on one grey scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y = truth.shape[1] // 2
    m = truth.shape[2]
    slab = np.minimum((np.arange(m) / spacing).astype(int), thick.shape[2] - 1)
    panels = {
        f"thick input ({spacing:g} mm)": thick[:, y, slab],
        "cubic B-spline": outputs["cubic"][:, y],
        "srmri": outputs["srmri"][:, y],
        "truth (1 mm)": truth[:, y],
    }
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.6))
    for axis, (title, plane) in zip(axes, panels.items(), strict=True):
        # Rows: superior at the top (axis 2 runs inferior -> superior), columns: axis 0.
        axis.imshow(plane.T[::-1], cmap="gray", vmin=window[0], vmax=window[1])
        axis.set_title(title)
        axis.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_child(job: dict) -> dict:
    """Make one thick volume isotropic in a fresh process; its report, seconds and peak bytes."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.through_plane", "--child", json.dumps(job)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"isotropic run of {job['input']} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(job: dict) -> None:
    """The measured process: ``isotropic_file`` with the default options (plus ``options``)."""
    from srmri.isotropic import isotropic_file

    start = time.perf_counter()
    report = isotropic_file(
        job["input"], job["output"], progress=False, logger="none", **job["options"]
    )
    seconds = time.perf_counter() - start
    peak = peak_memory_bytes()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_bytes": peak,
                "train_seconds": report.train_seconds,
                "apply_seconds": report.apply_seconds,
                "steps": report.steps,
            }
        )
    )


def run_case(
    scan: str,
    image: nib.Nifti1Image,
    mask: np.ndarray,
    case: tuple[str, float, float],
    folder: Path,
    options: dict,
    figure: Path | None = None,
) -> dict:
    """Simulate, make isotropic with srmri and cubic B-spline, score both against the original;
    with ``figure``, save a coronal panel of the thick input, both outputs and the original."""
    from srmri.data import intensity_window
    from srmri.isotropic.simulate import thick_slices

    name, thickness_mm, spacing_mm = case
    in_plane = float(np.mean([image.header.get_zooms()[a] for a in range(3) if a != AXIS]))
    # Slices in voxels of the original, every scan taken as its nominal 1 mm (mrgd: 0.98 mm), so
    # that n k is a whole number of the original's voxels.
    nominal = max(1.0, round(in_plane))
    spacing, thickness = spacing_mm / nominal, thickness_mm / nominal
    n = whole_slices(image.shape[AXIS], spacing)
    thick = thick_slices(image, AXIS, spacing, thickness, "gaussian", slices=n)
    source = folder / f"{scan}_thick.nii.gz"
    nib.save(thick, source)
    m = round(n * spacing)
    truth = np.asarray(image.dataobj, np.float32)[:, :, :m]
    region = mask[:, :, :m]
    window = intensity_window(truth, region, "percentile", 0.5, 99.5)
    common = {"thickness": thickness * in_plane}
    result = {"scan": scan, "case": name, "k": spacing, "thick_shape": list(thick.shape)}
    # The machine may be shared: the 1-minute load average before and after the srmri run.
    result["load"] = [os.getloadavg()[0]]
    outputs = {}
    for method in ("srmri", "cubic"):
        output = folder / f"{scan}_{method}.nii.gz"
        job = {
            "input": str(source),
            "output": str(output),
            "options": {**common, **options, "method": method, "overwrite": True},
        }
        measured = run_child(job)
        data = np.asarray(nib.load(output).dataobj, np.float32)
        if data.shape != truth.shape:
            raise RuntimeError(
                f"{scan} {name}: output {data.shape} is not the truth's {truth.shape}"
            )
        result[method] = {**measured, **score(data, truth, region, window)}
        if method == "srmri":
            result["load"].append(os.getloadavg()[0])
        outputs[method] = data
        output.unlink()
    if figure is not None:
        save_panel(figure, np.asarray(thick.dataobj), spacing, outputs, truth, window)
    result["gain_db"] = result["srmri"]["psnr"] - result["cubic"]["psnr"]
    print(
        f"{scan} {name} (k={spacing:g}, {'x'.join(map(str, thick.shape))} thick): srmri "
        f"{result['srmri']['psnr']:.2f} dB / {result['srmri']['ssim']:.4f}, cubic "
        f"{result['cubic']['psnr']:.2f} dB / {result['cubic']['ssim']:.4f}, gain "
        f"{result['gain_db']:+.2f} dB; {result['srmri']['seconds']:.0f} s "
        f"({result['srmri']['steps']} steps), peak {result['srmri']['peak_bytes'] / 1e9:.2f} GB, "
        f"load {result['load'][0]:.1f}-{result['load'][1]:.1f}",
        flush=True,
    )
    return result


def parse_settings(settings: list[str]) -> dict:
    """``["flips=false", "n_feats=48"]`` -> ``{"flips": False, "n_feats": 48}`` (YAML values),
    each key checked against :class:`srmri.isotropic.IsotropicOptions`."""
    import yaml

    from srmri.isotropic import IsotropicOptions

    known = IsotropicOptions.__dataclass_fields__
    options = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or key not in known:
            raise SystemExit(
                f"--set {setting!r}: expected KEY=VALUE with KEY one of {sorted(known)}"
            )
        parsed = yaml.safe_load(value)
        if isinstance(parsed, str):
            # YAML 1.1 reads 4e-3 (no dot) as a string; a number was meant.
            with contextlib.suppress(ValueError):
                parsed = float(parsed)
        options[key] = parsed
    return options


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny run; write nothing")
    parser.add_argument(
        "--cases", choices=("all", "demo", "dev"), default="all", help="which cases to run"
    )
    parser.add_argument("--dev", type=Path, default=DEV, help="folder of the development scans")
    parser.add_argument("--budget", help="training budget (default: conf/isotropic.yaml's)")
    parser.add_argument(
        "--jobs", type=int, default=1, help="volumes run at the same time (each in its process)"
    )
    parser.add_argument(
        "--figure", type=Path, help="save the coronal panel of the demo's 4 mm case here"
    )
    parser.add_argument("--save", type=Path, help="append each case's result (JSON lines) here")
    parser.add_argument(
        "--from-saved", type=Path, help="write RESULTS.md from results saved by --save; run nothing"
    )
    parser.add_argument(
        "--only", help="comma-separated words: run only the demo cases whose name holds one"
    )
    parser.add_argument(
        "--scans", help="comma-separated development scans to run (default: all of them)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an isotropic option for every srmri run (repeatable; YAML values), e.g. flips=false",
    )
    parser.add_argument("--no-write", action="store_true", help="leave RESULTS.md as it is")
    parser.add_argument("--note", default="", help="a paragraph added to the RESULTS.md section")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(json.loads(args.child))
        return []
    if args.from_saved:
        results = [json.loads(line) for line in args.from_saved.read_text().splitlines() if line]
        _write(results, {"budget": args.budget} if args.budget else {}, args.note)
        return results
    options = dict(SMOKE_OPTIONS) if args.smoke else {}
    if args.budget:
        options["budget"] = args.budget
    options.update(parse_settings(args.set))
    scans = args.scans.split(",") if args.scans else DEV_SCANS
    unknown = sorted(set(scans) - set(DEV_SCANS))
    if unknown:
        parser.error(
            f"--scans: unknown development scan(s) {unknown}; expected some of {DEV_SCANS}"
        )
    jobs = []
    if args.cases in ("all", "dev") and not args.smoke and args.dev.is_dir():
        for scan in scans:
            if (args.dev / f"{scan}.nii.gz").is_file():
                image, mask, origin = load_dev(scan, args.dev)
                jobs.append((scan, image, mask, DEV_CASE, origin))
    if args.cases in ("all", "demo"):
        image, mask = load_demo(args.smoke)
        words = args.only.split(",") if args.only else None
        for case in DEMO_CASES[1:2] if args.smoke else DEMO_CASES:
            if words is None or any(word in case[0] for word in words):
                jobs.append(("mni152", image, mask, case, "given"))
    with tempfile.TemporaryDirectory(prefix="srmri-through-plane-") as folder:

        def one(job: tuple) -> dict:
            scan, image, mask, case, origin = job
            where = Path(folder) / f"{scan}-{DEMO_CASES.index(case) if case in DEMO_CASES else 9}"
            where.mkdir()
            figure = args.figure if scan == "mni152" and case == DEMO_CASES[1] else None
            result = {**run_case(scan, image, mask, case, where, options, figure), "mask": origin}
            if args.save:
                with open(args.save, "a") as handle:
                    handle.write(json.dumps(result) + "\n")
            return result

        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            results = list(pool.map(one, jobs))
    if not args.smoke and not args.no_write:
        _write(results, options, args.note)
    return results


def _write(results: list[dict], options: dict, note: str = "") -> None:
    from srmri.isotropic import IsotropicOptions

    budget = options.get("budget", IsotropicOptions().budget)
    changed = "".join(f", {key}={value}" for key, value in options.items() if key != "budget")
    rows = [
        [
            r["scan"] + (" (automatic mask)" if r.get("mask") == "automatic" else ""),
            r["case"],
            f"{r['k']:g}",
            "x".join(map(str, r["thick_shape"])),
            f"{r['srmri']['psnr']:.2f}",
            f"{r['cubic']['psnr']:.2f}",
            f"**{r['gain_db']:+.2f}**",
            f"{r['srmri']['ssim']:.4f}",
            f"{r['cubic']['ssim']:.4f}",
            f"{r['srmri']['seconds']:.0f} ({r['srmri']['train_seconds']:.0f} + "
            f"{r['srmri']['apply_seconds']:.0f})",
            str(r["srmri"]["steps"]),
            f"{r['srmri']['peak_bytes'] / 1e9:.2f}",
            "-".join(f"{load:.0f}" for load in r["load"]) if "load" in r else "",
        ]
        for r in results
    ]
    table = markdown_table(
        [
            "scan",
            "slices (Gaussian)",
            "k",
            "thick voxels",
            "srmri brain PSNR dB",
            "cubic B-spline",
            "gain",
            "srmri brain SSIM",
            "cubic",
            "seconds (train + apply)",
            "steps",
            "peak GB",
            "load (1 min, before-after)",
        ],
        rows,
    )
    dev = [r for r in results if r["scan"] != "mni152" and r["case"] == DEV_CASE[0]]
    verdict = ""
    if dev:
        gains = ", ".join(f"{r['scan']} {r['gain_db']:+.2f}" for r in dev)
        worst_time = max(r["srmri"]["seconds"] for r in dev)
        worst_peak = max(r["srmri"]["peak_bytes"] for r in dev) / 1e9
        met = all(r["gain_db"] >= TARGET_GAIN_DB for r in dev)
        verdict = (
            f"\nTargets at 4 mm on the development scans (default budget {budget}): brain PSNR "
            f"gain >= +{TARGET_GAIN_DB:.1f} dB on every scan: **{'met' if met else 'missed'}** "
            f"({gains} dB); <= {TARGET_SECONDS / 60:.0f} min per volume: "
            f"**{'met' if worst_time <= TARGET_SECONDS else 'missed'}** (slowest "
            f"{worst_time / 60:.1f} min); <= {TARGET_PEAK_GB:.0f} GB: "
            f"**{'met' if worst_peak <= TARGET_PEAK_GB else 'missed'}** (largest {worst_peak:.2f} GB).\n"
        )
    body = (
        f"{machine_line()} Default options (`conf/isotropic.yaml`, budget {budget}{changed}); each volume "
        "in a fresh process; seconds are the whole `isotropic_file` call (read, train, apply, "
        "write). Thick slices simulated along the superior-inferior axis of isotropic volumes "
        "(see `benchmarks/through_plane.py`); scores inside the brain on the original grid.\n\n"
        f"{table}\n{verdict}" + (f"\n{note}\n" if note else "")
    )
    update_section("through_plane", "Thick slices to isotropic (through-plane)", body)


if __name__ == "__main__":
    main()
