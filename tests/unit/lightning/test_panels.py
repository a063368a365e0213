"""Panel pictures: the fixed 8-bit window, the strip, which slices, and which loggers get them."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from srmri.data.records import VolumeRecord
from srmri.data.slicing import slice_table
from srmri.data.volume import Volume
from srmri.lightning.panels import (
    log_images,
    panel_rows,
    panel_strip,
    side_by_side,
    takes_images,
    to_uint8,
)


def test_the_window_maps_zero_to_black_and_one_to_white_whatever_the_content():
    values = np.array([[-0.5, 0.0, 0.2, 0.5, 0.999, 1.0, 3.0]])
    expected = [[0, 0, 51, 128, 255, 255, 255]]  # round(255 * clip(x, 0, 1))
    assert to_uint8(values).tolist() == expected
    assert to_uint8(torch.tensor(values, dtype=torch.float32)).tolist() == expected
    # A dim image stays dim: no stretching to its own range.
    assert to_uint8(np.full((2, 2), 0.1)).max() == 26


def test_strip_is_lr_bicubic_sr_hr_and_the_error_with_its_gain():
    rng = np.random.default_rng(0)
    hr = rng.uniform(0, 1, (1, 1, 4, 6))
    lr = rng.uniform(0, 1, (1, 1, 2, 3))
    bicubic = rng.uniform(-0.1, 1.1, (1, 1, 4, 6))
    sr = rng.uniform(-0.1, 1.1, (1, 1, 4, 6))
    batch = {k: torch.tensor(v) for k, v in dict(hr=hr, lr=lr, bicubic=bicubic, sr=sr).items()}
    strip = panel_strip(batch, 0)
    big_lr = np.kron(lr[0, 0], np.ones((2, 2)))
    error = np.abs(np.clip(sr[0, 0], 0, 1) - hr[0, 0]) * 4
    tiles = [big_lr, bicubic[0, 0], sr[0, 0], hr[0, 0], error]
    expected = np.round(np.clip(np.concatenate(tiles, axis=1), 0, 1) * 255)
    assert strip.dtype == np.uint8 and strip.shape == (4, 30)
    np.testing.assert_array_equal(strip, expected)


def volume_with_brain(shape: tuple[int, int, int]) -> Volume:
    """A volume whose mask is a ball off-centre: slice brain counts differ along every axis."""
    grid = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    centre = [0.4 * n for n in shape]
    mask = (
        sum((g - c) ** 2 / (0.3 * n) ** 2 for g, c, n in zip(grid, centre, shape, strict=True)) <= 1
    )
    image = np.where(mask, 0.8, 0.0).astype(np.float32)
    record = VolumeRecord(subject="s", contrast="T1", image=Path("s_T1.nii.gz"))
    return Volume(record, torch.tensor(image), torch.tensor(mask), np.eye(4), (0.0, 1.0))


def test_panel_slices_are_the_brainiest_of_each_part_spread_over_the_views():
    volume = volume_with_brain((20, 24, 18))
    views = ["axial", "coronal"]
    table = slice_table([volume], views, 0.05, 0.5)
    rows = panel_rows([volume], views, table, 3, 0.5)
    mask = volume.mask.numpy()
    expected = []
    # axial gets slices 1 and 3 of the turn order, coronal slice 2: 2 axial, 1 coronal.
    for w, (axis, k) in enumerate([(2, 2), (1, 1)]):
        kept = table.index[table.view == w]
        counts = mask.sum(axis=tuple(a for a in range(3) if a != axis))[kept]
        for part in np.array_split(np.arange(len(kept)), k):
            expected.append((w, int(kept[part[np.argmax(counts[part])]])))
    assert sorted((int(table.view[r]), int(table.index[r])) for r in rows) == sorted(expected)
    assert panel_rows([volume], views, table, 3, 0.5) == rows  # the same set every time
    assert panel_rows([volume], views, table, 0, 0.5) == []


def test_pictures_reach_tensorboard_unchanged_and_csv_is_skipped(tmp_path):
    picture = side_by_side([np.linspace(0, 1, 12).reshape(3, 4), np.zeros((3, 2))])
    tensorboard = TensorBoardLogger(tmp_path, name="tb")
    csv = CSVLogger(tmp_path, name="csv")
    assert takes_images([csv, tensorboard]) and not takes_images([csv])
    log_images([csv, tensorboard], "val/images", [picture], ["a caption"], step=7, names=["s"])
    tensorboard.experiment.flush()
    events = EventAccumulator(tensorboard.log_dir, size_guidance={"images": 0}).Reload()
    (event,) = events.Images("val/images/s")
    decoded = np.asarray(Image.open(io.BytesIO(event.encoded_image_string)))
    assert event.step == 7
    np.testing.assert_array_equal(decoded[..., 0], picture)
    assert not list((tmp_path / "csv").rglob("*.png"))
    with pytest.raises(ValueError, match="uint8"):
        log_images([tensorboard], "val/images", [picture / 255.0], ["x"], step=0)
