"""End to end: evaluate.py's task through Hydra's compose API, and the entry point itself."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.common import ROOT, compose
from srmri.data import DataError, SRDataModule, slice_of
from srmri.data.sources import Mni152Source
from srmri.degradation import Degradation
from srmri.evaluation.scores import COLUMNS
from srmri.tasks.evaluate import evaluate
from tests import reference
from tests.helpers import NORMALISATION
from tests.unit.evaluation.test_study import SLICES
from tests.volumes import synthetic_brain


def run(tmp_path: Path, cache: Path, *overrides: str) -> dict:
    cfg = compose(
        "evaluate",
        [
            f"paths.output_dir={tmp_path / 'run'}",
            f"paths.cache_dir={cache}",
            f"output_dir={tmp_path / 'out'}",
            "progress=false",
            *overrides,
        ],
    )
    return evaluate(cfg)


def read_csv(path: Path) -> list[dict]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_model_bicubic_report_matches_the_tests_own_numbers(tmp_path, srmri_cache):
    summary = run(tmp_path, srmri_cache, "model=bicubic", "angles=[0]", f"slices={SLICES}")
    out = tmp_path / "out"
    rows = read_csv(out / "metrics.csv")
    assert list(rows[0]) == list(COLUMNS)
    assert len(rows) == len(SLICES) * 2  # bicubic, image and brain
    degradation = Degradation(scale=2)
    # conf/data/mni152.yaml's normalisation: the window measured on the LR images, not clipped.
    normalisation = {**NORMALISATION, "measured_on": "lr"}
    datamodule = SRDataModule(Mni152Source(srmri_cache), normalisation=normalisation)
    volume = datamodule.volumes("test")[0]
    expected = {"image": [], "brain": []}
    for k in SLICES:
        unclipped = slice_of(volume.image, "axial", k)[:196, :232]
        hr = unclipped.clamp(0, 1).double().numpy()
        brain = slice_of(volume.mask, "axial", k)[:196, :232].numpy()
        lr = degradation(unclipped[None, None])[0, 0].double().numpy()
        sr = reference.resize(lr, (196, 232), a=-0.75, antialias=False)
        expected["image"].append(reference.psnr(sr, hr))
        expected["brain"].append(reference.psnr(sr, hr, brain))
    for region, values in expected.items():
        cell = summary["scores"]["bicubic"]["axial"][region]
        assert cell["psnr"] == pytest.approx(np.mean(values), abs=0.01)
        assert cell["n"] == len(SLICES)
    written = json.loads((out / "summary.json").read_text())
    assert written["scores"] == summary["scores"]
    figures = {p.name for p in (out / "figures").iterdir()}
    assert {"curves_T1_axial_image.png", "curves_T1_axial_brain.png", "histograms.png"} <= figures
    assert any(name.startswith("differences_") for name in figures)
    assert any(name.startswith("panels_") for name in figures)
    report = (out / "report.md").read_text()
    assert "figures/histograms.png" in report


@pytest.mark.slow
def test_two_checkpoints_and_angles_in_one_report(tmp_path, srmri_cache, make_checkpoint):
    net = make_checkpoint("net")
    twin = make_checkpoint("twin", kind="bicubic")
    summary = run(
        tmp_path,
        srmri_cache,
        f"ckpt_path={{net: {net}, twin: {twin}}}",
        "angles=[0,90]",
        "slices=[10,30]",
        "baselines=[bicubic,lanczos]",
    )
    assert summary["methods"] == ["bicubic", "lanczos", "net", "twin"]
    rows = read_csv(tmp_path / "out" / "metrics.csv")
    assert {r["method"] for r in rows} == {"bicubic", "lanczos", "net", "twin"}
    assert {r["angle"] for r in rows} == {"0", "90"}
    gains = summary["gains_over_bicubic"]
    assert gains["twin"]["axial"]["brain"]["psnr"]["mean"] == 0.0
    net_psnr = [float(r["psnr"]) for r in rows if r["method"] == "net" and r["region"] == "image"]
    bicubic_psnr = [
        float(r["psnr"]) for r in rows if r["method"] == "bicubic" and r["region"] == "image"
    ]
    assert gains["net"]["axial"]["image"]["psnr"]["mean"] == pytest.approx(
        np.mean(net_psnr) - np.mean(bicubic_psnr), abs=1e-5
    )
    figures = {p.name for p in (tmp_path / "out" / "figures").iterdir()}
    assert {"angles_axial_image.png", "angles_axial_brain.png"} <= figures
    # The report names the rotation and what the intervals resampled.
    assert summary["setup"]["rotation"]["interpolation"] == "fft"
    report = (tmp_path / "out" / "report.md").read_text()
    assert "Rotation of the HR slice: `fft`, band-limited" in report
    assert "moving blocks of" in report or "moving-block bootstrap" in report
    assert gains["net"]["axial"]["image"]["psnr"]["interval"]["method"] == (
        "moving-block bootstrap over contiguous slices"
    )


def test_a_previous_report_is_refused_before_any_work(tmp_path, srmri_cache):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.md").write_text("earlier")
    with pytest.raises(FileExistsError, match="overwrite=true"):
        run(tmp_path, srmri_cache, "model=bicubic", "angles=[0]")
    assert (tmp_path / "out" / "report.md").read_text() == "earlier"


def test_a_data_folder_without_volumes_is_a_clear_error(tmp_path, srmri_cache):
    empty = tmp_path / "scans"
    empty.mkdir()
    with pytest.raises(DataError, match="folder is empty"):
        run(
            tmp_path, srmri_cache, "model=bicubic", "data=nifti_folder", f"data.source.root={empty}"
        )
    assert not (tmp_path / "out").exists()


def test_angles_that_are_not_numbers_are_a_clear_error(tmp_path, srmri_cache):
    with pytest.raises(ValueError, match="angles: item 1 is 'ninety'"):
        run(tmp_path, srmri_cache, "model=bicubic", "angles=[0,ninety]")


@pytest.mark.slow
def test_entry_point_on_a_folder_without_masks(tmp_path):
    """``python evaluate.py`` on NIfTI files: automatic brain masks, split by subject."""
    import nibabel as nib

    root = tmp_path / "scans"
    root.mkdir()
    for s in range(3):
        image, _ = synthetic_brain((72, 80, 12), seed=s, radius=0.7, frequency=3)
        nib.save(nib.Nifti1Image(image, np.eye(4)), root / f"sub{s}_T1.nii.gz")
    command = [
        sys.executable,
        "evaluate.py",
        "model=bicubic",
        "data=nifti_folder",
        f"data.source.root={root}",
        "data.source.fixed={train: [sub0], val: [sub1], test: [sub2]}",
        "angles=[0,45]",
        f"paths.log_dir={tmp_path / 'logs'}",
        f"output_dir={tmp_path / 'out'}",
        "progress=false",
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert list(summary["setup"]["brain_masks"].values()) == ["automatic"]
    rows = read_csv(tmp_path / "out" / "metrics.csv")
    assert {r["subject"] for r in rows} == {"sub2"}
    assert {r["slice"] for r in rows} == {str(k) for k in range(12)}
    assert not any(p.name.startswith(".") for p in root.rglob("*"))
    assert sorted(p.name for p in root.iterdir()) == [
        "sub0_T1.nii.gz",
        "sub1_T1.nii.gz",
        "sub2_T1.nii.gz",
    ]


@pytest.mark.slow
def test_with_the_wandb_logger_the_table_and_figures_are_in_the_run(
    tmp_path, srmri_cache, monkeypatch
):
    monkeypatch.setenv("WANDB_MODE", "offline")
    summary = run(
        tmp_path, srmri_cache, "model=bicubic", "angles=[0]", "slices=[10]", "logger=wandb"
    )
    assert summary["scores"]["bicubic"]["axial"]["image"]["n"] == 1
    media = list((tmp_path / "run" / "wandb").glob("offline-run-*/files/media"))
    assert len(media) == 1
    tables = list((media[0] / "table").rglob("*.table.json"))
    assert len(tables) == 1
    assert json.loads(tables[0].read_text())["columns"] == list(COLUMNS)
    figures = {p.name for p in (tmp_path / "out" / "figures").iterdir()}
    assert len(list((media[0] / "images").rglob("*.png"))) == len(figures)
