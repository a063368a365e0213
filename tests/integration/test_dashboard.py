"""The dashboard of a real ``python train.py`` run, read back from its offline W&B files and its
TensorBoard event file: the pictures (decoded and compared with strips computed here), the curves
and the run summary; then ``evaluate.py`` on its checkpoint, grouped with it."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import hydra.utils
import numpy as np
import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from srmri.lightning.module import SRModule
from tests import reference
from tests.conftest import ROOT, TINY_TRAIN, compose_config
from tests.integration.test_evaluate import run as run_evaluate
from tests.wandb_offline import OfflineRun, read_run

GAIN = 4.0  # the error tile's gain, as the panel's title states it
EPOCHS = 2
SAMPLES_PER_EPOCH = 32
RUN = [
    *TINY_TRAIN,
    f"trainer.max_epochs={EPOCHS}",
    "model.images.every_n_epochs=1",
    "model.images.n_slices=2",
    "trainer.log_every_n_steps=2",
    "logger=[wandb,tensorboard]",
    "print_config=false",
]
CAPTION = re.compile(r"(?P<view>axial|coronal|sagittal) slice (?P<slice>\d+)")


class Trained:
    """The run directory of one tiny ``python train.py`` and what it logged."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.report = json.loads((run_dir / "metrics.json").read_text())
        self.wandb_dir = Path(self.report["wandb_run_dir"])
        self.wandb = read_run(self.wandb_dir, wait_s=30)
        self.panel_rows = [row for row in self.wandb.history if "val/images/filenames" in row]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    logs = tmp_path_factory.mktemp("dashboard")
    result = subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *RUN, f"paths.log_dir={logs}"],
        cwd=logs,
        env={**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    (run_dir,) = (logs / "train" / "demo" / "runs").iterdir()
    return Trained(run_dir)


def decode(png: bytes | Path, grey: bool = True) -> np.ndarray:
    """The pixels of a PNG; with ``grey``, its grey levels (TensorBoard stores grey as RGB, whose
    channels must then be equal)."""
    data = png.read_bytes() if isinstance(png, Path) else png
    picture = np.asarray(Image.open(io.BytesIO(data)))
    if grey and picture.ndim == 3:
        assert (picture[..., :3] == picture[..., :1]).all(), "colour in a grey picture"
        picture = picture[..., 0]
    return picture


def expected_strip(module: SRModule, hr: np.ndarray) -> np.ndarray:
    """LR | bicubic | SR | HR | |SR - HR| x 4, computed here: the study's degradation and Keys'
    bicubic from tests/reference.py, the network for SR, one window 0 -> 0 and 1 -> 255."""
    scale = module.scale
    hr = hr[: hr.shape[0] // scale * scale, : hr.shape[1] // scale * scale].astype(np.float64)
    small = (hr.shape[0] // scale, hr.shape[1] // scale)
    lr = np.clip(
        reference.gaussian_blur(reference.resize(hr, small, a=-0.5, antialias=True), 3, 1.0), 0, 1
    )
    bicubic = reference.resize(lr, hr.shape, a=-0.75, antialias=False)
    hr = np.clip(hr, 0, 1)  # the LR is made from the unclipped volume, the target is clipped
    with torch.no_grad():
        sr = module(torch.as_tensor(lr, dtype=torch.float32)[None, None])[0, 0].double().numpy()
    tiles = [
        np.repeat(np.repeat(lr, scale, axis=0), scale, axis=1),
        bicubic,
        sr,
        hr,
        np.abs(np.clip(sr, 0, 1) - hr) * GAIN,
    ]
    return np.round(np.clip(np.concatenate(tiles, axis=1), 0, 1) * 255).astype(np.uint8)


def assert_same_picture(logged: np.ndarray, expected: np.ndarray, what: str) -> None:
    assert logged.shape == expected.shape, f"{what}: {logged.shape} != {expected.shape}"
    worst = int(np.abs(logged.astype(int) - expected.astype(int)).max())
    assert worst <= 1, f"{what}: differs from the strip computed here by {worst} grey levels"
    width = expected.shape[1] // 5
    for k in range(5):  # every tile shows something: not a constant (e.g. black) picture
        assert np.unique(logged[:, k * width : (k + 1) * width]).size > 20, f"{what}: tile {k}"


def validation_slices(trained: Trained):
    """The validation volume and, per logged step, the (view, slice) pairs its captions name."""
    cfg = compose_config("train", RUN[:-2], trained.run_dir.parent / "compose")
    datamodule = hydra.utils.instantiate(cfg.data)
    steps = [
        [(m["view"], int(m["slice"])) for m in map(CAPTION.search, row["val/images/captions"])]
        for row in trained.panel_rows
    ]
    return datamodule, steps


@pytest.mark.slow
def test_panels_in_wandb_and_tensorboard_are_the_strips_computed_here(trained):
    datamodule, steps = validation_slices(trained)
    volume = datamodule.volumes("val")[0]
    module = SRModule.load_from_checkpoint(
        trained.run_dir / "checkpoints" / "last.ckpt", map_location="cpu"
    ).eval()
    # last.ckpt holds the weights the last panels were drawn with (saved after that validation).
    expected = {
        name: expected_strip(module, np.take(volume.image.numpy(), index, axis=2))
        for name, index in ((f"{view}_{index:03d}", index) for view, index in steps[-1])
    }
    last = trained.panel_rows[-1]
    files = [trained.wandb_dir / "files" / name for name in last["val/images/filenames"]]
    for strip, path in zip(expected.values(), files, strict=True):
        assert_same_picture(decode(path), strip, f"W&B {path.name}")
    # One panel set per training epoch (none for the final validation), the same slices each time.
    assert len(steps) == EPOCHS and all(step == steps[0] for step in steps)

    # Every event file of the logger's version folder (Lightning may start more than one).
    (folder,) = {p.parent for p in (trained.run_dir / "tensorboard").rglob("events.out.tfevents.*")}
    events = EventAccumulator(str(folder), size_guidance={"images": 0}).Reload()
    tags = sorted(events.Tags()["images"])
    assert tags == sorted(f"val/images/{volume.record.subject}_{name}" for name in expected)
    for name, strip in expected.items():
        images = events.Images(f"val/images/{volume.record.subject}_{name}")
        assert len(images) == EPOCHS
        assert_same_picture(decode(images[-1].encoded_image_string), strip, f"TensorBoard {name}")


@pytest.mark.slow
def test_panel_slices_are_fixed_and_the_brainiest_of_their_part_of_the_volume(trained):
    datamodule, steps = validation_slices(trained)
    table = datamodule.table("val")
    mask = datamodule.volumes("val")[0].mask.numpy()
    kept = np.sort(table.index[table.view == 0])  # the axial validation slices in use
    brain = mask.sum(axis=(0, 1))[kept]  # brain voxels per axial slice (axis 2 is S-I)
    halves = np.array_split(np.arange(len(kept)), 2)  # n_slices=2: one from each half
    chosen = [int(kept[part[np.argmax(brain[part])]]) for part in halves]
    assert [index for _, index in steps[0]] == chosen
    # The same slice at both epochs: its HR tile is identical, its SR tile changes.
    first, last = (
        decode(trained.wandb_dir / "files" / row["val/images/filenames"][0])
        for row in trained.panel_rows
    )
    width = first.shape[1] // 5
    assert np.array_equal(first[:, 3 * width : 4 * width], last[:, 3 * width : 4 * width])
    assert not np.array_equal(first[:, 2 * width : 3 * width], last[:, 2 * width : 3 * width])


def history(run: OfflineRun, key: str) -> list[float]:
    return [row[key] for row in run.history if key in row]


@pytest.mark.slow
def test_training_curves_and_best_checkpoint_summary_are_in_the_wandb_run(trained):
    run, report = trained.wandb, trained.report
    for key in ("train/loss", "train/lr", "train/grad_norm"):
        values = history(run, key)
        assert values and all(math.isfinite(v) for v in values), key
    assert all(v > 0 for v in history(run, "train/grad_norm"))
    for metric in ("psnr", "ssim"):
        for region in ("", "_brain"):
            model = history(run, f"val/{metric}{region}")
            baseline = history(run, f"val/{metric}{region}_bicubic")
            gain = history(run, f"val/{metric}{region}_gain")
            assert len(model) == len(baseline) == len(gain) >= EPOCHS
            np.testing.assert_allclose(gain, np.subtract(model, baseline), atol=1e-5)
    epoch_times = history(run, "train/epoch_time_s")
    rates = history(run, "train/images_per_s")
    assert len(epoch_times) == len(rates) == EPOCHS
    # An epoch's training images take at most the whole epoch's time.
    for seconds, rate in zip(epoch_times, rates, strict=True):
        assert rate >= SAMPLES_PER_EPOCH / seconds * (1 - 1e-6)

    summary = run.summary
    assert summary["best/checkpoint"] == report["best_checkpoint"]
    assert Path(summary["best/checkpoint"]).is_file()
    for key, value in report["metrics"].items():
        assert summary[f"best/{key}"] == pytest.approx(value, abs=1e-6), key
    assert {"best/val/psnr", "best/val/psnr_bicubic", "best/val/psnr_gain"} <= set(summary)


@pytest.mark.slow
def test_evaluate_logs_its_table_figures_and_summary_grouped_with_the_training_run(
    trained, tmp_path, srmri_cache, monkeypatch
):
    monkeypatch.setenv("WANDB_MODE", "offline")
    checkpoint = trained.report["best_checkpoint"]
    summary = run_evaluate(
        tmp_path,
        srmri_cache,
        f"ckpt_path={checkpoint}",
        "angles=[0]",
        "slices=[10,20]",
        "logger=wandb",
        "figures.slices=[20]",
    )
    (folder,) = (tmp_path / "run" / "wandb").glob("offline-run-*")
    run = read_run(folder, wait_s=30)

    out = tmp_path / "out"
    (row,) = [r for r in run.history if "evaluation/metrics/path" in r or "evaluation/metrics" in r]
    figures = sorted((out / "figures").glob("*.png"))
    assert figures
    for figure in figures:
        key = f"evaluation/{figure.stem}"
        path = row.get(f"{key}/path") or row[key]["path"]
        logged, written = decode(folder / "files" / path, False), decode(figure, False)
        assert logged.shape == written.shape, figure.name
        assert int(np.abs(logged.astype(int) - written.astype(int)).max()) <= 1, figure.name
        assert np.unique(logged).size > 2, figure.name

    with (out / "metrics.csv").open() as handle:
        rows = list(csv.reader(handle))
    table_path = row.get("evaluation/metrics/path") or row["evaluation/metrics"]["path"]
    table = json.loads((folder / "files" / table_path).read_text())
    assert table["columns"] == rows[0]
    assert len(table["data"]) == len(rows) - 1
    for logged, written in zip(table["data"], rows[1:], strict=True):
        for value, text in zip(logged, written, strict=True):
            if isinstance(value, float):
                assert value == pytest.approx(float(text), abs=1e-6)
            else:
                assert str(value) == text

    model = next(iter(summary["gains_over_bicubic"]))
    gain = summary["gains_over_bicubic"][model]["axial"]["brain"]["psnr"]
    where = f"{model}/axial/brain"
    assert run.summary[f"evaluation/psnr_gain/{where}"] == pytest.approx(gain["mean"])
    assert run.summary[f"evaluation/psnr_gain_ci95_low/{where}"] == pytest.approx(gain["ci95"][0])
    assert run.summary[f"evaluation/psnr_gain_ci95_high/{where}"] == pytest.approx(gain["ci95"][1])
    means = summary["scores"]["bicubic"]["axial"]["image"]
    assert run.summary["evaluation/psnr/bicubic/axial/image"] == pytest.approx(means["psnr"])

    # Grouped with the training run it scores, whose id is in its config.
    assert (run.project, run.group, run.job_type) == ("srmri", trained.wandb.group, "evaluation")
    assert run.config["train_run_id"] == trained.wandb.run_id
    (link,) = run.config["train_runs"].values()
    assert link["id"] == trained.wandb.run_id and link["checkpoint"] == checkpoint
