"""The entry points on the command line: one line per expected error, exit codes, batches that
survive a bad file, and --help.

Each case runs the real script (``python predict.py ...``) in a separate Python process; the
bad-input cases of one command share a process (tests/integration/cli_driver.py), so torch and
Lightning are imported once rather than once per case.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tests.helpers import save_checkpoint, tiny_module
from tests.volumes import nifti, smooth_volume

ROOT = Path(__file__).parents[2]
DRIVER = ROOT / "tests" / "integration" / "cli_driver.py"
ENV = {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "WANDB_MODE": "offline"}
TINY = [
    "model.network.n_blocks=1",
    "model.network.n_feats=8",
    "model.network.expansion=2",
    "logger=none",
    "trainer.max_epochs=1",
    "trainer.enable_progress_bar=false",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A tiny checkpoint, good and bad volumes, and an empty output folder."""
    root = tmp_path_factory.mktemp("cli")
    save_checkpoint(tiny_module().eval(), root / "tiny.ckpt")
    raw = (root / "tiny.ckpt").read_bytes()
    (root / "corrupt.ckpt").write_bytes(raw[: len(raw) // 2])
    affine = np.eye(4)
    for name in ("good.nii.gz", "good2.nii.gz"):
        nib.save(nifti(smooth_volume((8, 6, 3), 0), affine), root / name)
    nan = smooth_volume((8, 6, 3), 1)
    nan[2, 2, 1] = np.nan
    nib.save(nifti(nan, affine), root / "nan.nii.gz")
    complex_voxels = smooth_volume((8, 6, 3), 2).astype(np.complex64)
    nib.save(nib.Nifti1Image(complex_voxels, affine), root / "complex.nii.gz")
    (root / "text.nii.gz").write_text("not an image\n")
    nib.save(nifti(np.zeros((8, 6), np.float32), affine), root / "flat.nii.gz")
    (root / "out").mkdir()
    (root / "out" / "exists.nii.gz").write_bytes(b"a previous result")
    (root / "report").mkdir()
    (root / "report" / "report.md").write_text("a previous report")
    return root


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def run_cases(cases: list[dict], folder: Path) -> list[dict]:
    """Run ``cases`` (``{"script", "args", "env"?}``) in one driver process, in ``folder``."""
    for case in cases:
        case["script"] = str(ROOT / case["script"])
        case["cwd"] = str(folder)
        case.setdefault("env", {})
    (folder / "cases.json").write_text(json.dumps(cases))
    done = subprocess.run(
        [sys.executable, str(DRIVER), str(folder / "cases.json"), str(folder / "results.json")],
        cwd=folder,
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return json.loads((folder / "results.json").read_text())


def error_line(result: dict, alone: bool = True) -> str:
    """The one line an expected error prints on stderr, last; with ``alone``, the only line there
    (train.py's stderr also holds Lightning's notices about the trainer it built)."""
    lines = [line for line in result["stderr"].splitlines() if line.strip()]
    assert "Traceback" not in result["stderr"], result["stderr"]
    assert [line for line in lines if line.startswith("error: ")] == lines[-1:], lines
    assert len(lines) == 1 or not alone, result["stderr"]
    return lines[-1]


def predict_cases(ws: Path) -> list[tuple[str, list[str], str]]:
    """(name, arguments, what the error line must say) of predict.py on bad input."""
    ckpt, out = f"ckpt_path={ws / 'tiny.ckpt'}", f"output={ws / 'out'}"
    return [
        ("NaN voxels", [ckpt, f"input={ws / 'nan.nii.gz'}", out], rf"{ws}/nan.nii.gz: 1 NaN/Inf"),
        (
            "complex voxels",
            [ckpt, f"input={ws / 'complex.nii.gz'}", out],
            rf"{ws}/complex.nii.gz: voxel type complex64; expected real numbers",
        ),
        (
            "a text file named .nii.gz",
            [ckpt, f"input={ws / 'text.nii.gz'}", out],
            rf"{ws}/text.nii.gz: cannot read as NIfTI",
        ),
        (
            "a 2-D image",
            [ckpt, f"input={ws / 'flat.nii.gz'}", out],
            rf"{ws}/flat.nii.gz: a 2-D image .*expected a 3-D volume",
        ),
        (
            "a corrupt checkpoint",
            [f"ckpt_path={ws / 'corrupt.ckpt'}", f"input={ws / 'good.nii.gz'}", out],
            rf"{ws}/corrupt.ckpt is (corrupt|truncated)",
        ),
        (
            "a missing checkpoint",
            [f"ckpt_path={ws / 'none.ckpt'}", f"input={ws / 'good.nii.gz'}", out],
            rf"checkpoint {ws}/none.ckpt does not exist",
        ),
        (
            "a missing input",
            [ckpt, f"input={ws / 'none.nii.gz'}", out],
            rf"{ws}/none.nii.gz: input not found",
        ),
        (
            "output = input",
            [ckpt, f"input={ws / 'good.nii.gz'}", f"output={ws / 'good.nii.gz'}", "overwrite=true"],
            rf"{ws}/good.nii.gz: output is the input file itself",
        ),
        (
            "an existing output",
            [ckpt, f"input={ws / 'good.nii.gz'}", f"output={ws / 'out' / 'exists.nii.gz'}"],
            rf"{ws}/out/exists.nii.gz: output exists; pass overwrite=true",
        ),
        (
            "an unknown key added with +",
            [ckpt, f"input={ws / 'good.nii.gz'}", out, "+anything=1"],
            r"anything: unknown key for predict",
        ),
        (
            "an unknown key",
            [ckpt, f"input={ws / 'good.nii.gz'}", out, "anything=1"],
            r"anything: unknown key",
        ),
        (
            "a value of the wrong type",
            [ckpt, f"input={ws / 'good.nii.gz'}", out, "batch_size=many"],
            r"batch_size='many': expected an integer",
        ),
        (
            "a value outside its choices",
            [ckpt, f"input={ws / 'good.nii.gz'}", out, "view=oblique"],
            r"view='oblique': expected one of",
        ),
        ("no input", [ckpt, out], r"input: a value is required"),
    ]


def evaluate_cases(ws: Path) -> list[tuple[str, list[str], str]]:
    quick = ["angles=[0]", "progress=false", "print_config=false"]
    return [
        (
            "a missing checkpoint",
            [f"ckpt_path={ws / 'none.ckpt'}", *quick],
            rf"checkpoint {ws}/none.ckpt does not exist",
        ),
        (
            "a corrupt checkpoint",
            [f"ckpt_path={ws / 'corrupt.ckpt'}", *quick],
            rf"{ws}/corrupt.ckpt is (corrupt|truncated)",
        ),
        (
            "an unknown key added with +",
            ["model=bicubic", "+anything=1", *quick],
            "anything: unknown key",
        ),
        ("repeated angles", ["model=bicubic", "angles=[0,360]"], r"angles=.*distinct angles"),
        (
            "an output_dir holding a report",
            ["model=bicubic", f"output_dir={ws / 'report'}", *quick],
            rf"output_dir {ws}/report holds a previous report",
        ),
    ]


def train_cases(ws: Path) -> list[tuple[str, list[str], str]]:
    return [
        ("an unknown key added with +", [*TINY, "+anything=1"], "anything: unknown key for train"),
        ("a scale outside its choices", [*TINY, "data.scale=5"], r"data\.scale=5: expected one of"),
        (
            "a missing data folder",
            [*TINY, "data=nifti_folder", f"data.source.root={ws / 'none'}"],
            rf"{ws}/none: data folder not found",
        ),
    ]


SUITES = {"predict.py": predict_cases, "evaluate.py": evaluate_cases, "train.py": train_cases}
HELPS = ("predict", "evaluate", "train")


@pytest.fixture(scope="module")
def runs(workspace) -> dict:
    """Every bad-input case, one of them again with HYDRA_FULL_ERROR=1, and each --help: one
    driver process; returns the files before, the cases and the results."""
    before = files_under(workspace)
    expected = [(script, *case) for script, make in SUITES.items() for case in make(workspace)]
    cases = [
        {"script": script, "args": [*args, f"hydra.run.dir={workspace / 'runs' / str(i)}"]}
        for i, (script, _, args, _) in enumerate(expected)
    ]
    # The traceback on request, with the same exit code.
    verbose = {"script": "predict.py", "args": cases[0]["args"], "env": {"HYDRA_FULL_ERROR": "1"}}
    helps = [{"script": f"{name}.py", "args": ["--help"]} for name in HELPS]
    results = run_cases([*cases, verbose, *helps], workspace)
    return {
        "before": before,
        "expected": expected,
        "results": results[: len(cases)],
        "verbose": results[len(cases)],
        "helps": dict(zip(HELPS, results[len(cases) + 1 :], strict=True)),
    }


def test_every_bad_input_gives_one_line_exit_2_and_writes_nothing(workspace, runs):
    for (script, name, _, message), result in zip(runs["expected"], runs["results"], strict=True):
        assert result["returncode"] == 2, (script, name, result)
        line = error_line(result, alone=script != "train.py")
        assert re.search(message, line), (script, name, line)
    verbose = runs["verbose"]
    assert verbose["returncode"] == 2
    assert "Traceback" in verbose["stderr"] and "error: " in verbose["stderr"]
    # Nothing was written but the runs' own logs, and each log holds the traceback.
    after = files_under(workspace)
    kept = {k: v for k, v in after.items() if not k.startswith(("runs/", "cases", "results"))}
    assert kept == runs["before"]
    assert not [k for k in after if "checkpoints" in k]
    log = (workspace / "runs" / "0" / "predict.log").read_text()
    assert "Traceback" in log and "NaN/Inf" in log


def test_a_folder_with_a_bad_volume_under_skip_writes_the_others(workspace, tmp_path):
    scans, out = tmp_path / "scans", tmp_path / "sr"
    scans.mkdir()
    out.mkdir()
    for name in ("a.nii.gz", "c.nii.gz"):
        shutil.copy(workspace / "good.nii.gz", scans / name)
    shutil.copy(workspace / "nan.nii.gz", scans / "b.nii.gz")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "predict.py"),
            f"ckpt_path={workspace / 'tiny.ckpt'}",
            f"input={scans}",
            f"output={out}",
            "on_error=skip",
            "progress=false",
        ],
        cwd=tmp_path,
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.nii.gz", "c.nii.gz"]
    assert nib.load(out / "a.nii.gz").shape == (16, 12, 3)
    assert "2 written, 1 failed, 0 not run" in done.stdout
    assert f"  written  {scans / 'a.nii.gz'} -> {out / 'a.nii.gz'}" in done.stdout
    assert f"  failed   {scans / 'b.nii.gz'}: {scans / 'b.nii.gz'}: 1 NaN/Inf voxels" in done.stdout
    lines = done.stderr.splitlines()
    assert "Traceback" not in done.stderr
    assert lines[0].startswith(f"skipped {scans / 'b.nii.gz'}: ")
    assert lines[-1].startswith(f"error: 1 of 3 inputs failed ({scans / 'b.nii.gz'})")


def test_help_of_each_command(runs):
    for result in runs["helps"].values():
        assert result["returncode"] == 0, result
    text = runs["helps"]["predict"]["stdout"]
    assert text.startswith("predict.py: super-resolve NIfTI volumes")
    for option in ("ckpt_path=null", "input=???", "output=???", "on_error=stop", "tile=256"):
        assert f"\n  {option} " in text, option
    for group in ("data", "debug", "trainer", "hparams_search"):
        assert not re.search(rf"^\s+{group}=", text, re.MULTILINE), group
    assert re.search(r"^\s+trainer=default", runs["helps"]["train"]["stdout"], re.MULTILINE)
    assert "Powered by Hydra" not in text
