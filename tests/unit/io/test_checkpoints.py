"""Checkpoints: atomic writes under SIGKILL and full disks, refusal of corrupt and code-carrying files."""

from __future__ import annotations

import errno
import io
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytorch_lightning.callbacks import ModelCheckpoint

from srmri.io.checkpoints import AtomicCheckpointIO, load_checkpoint, load_module, stale_temporaries
from srmri.io.errors import CheckpointError, CheckpointSaveError
from srmri.models import EDSR, load_pretrained
from srmri.models.transfer import WeightImportError
from tests.conftest import ROOT
from tests.helpers import patch_loader, tiny_trainer, trainable_module

# The child saves a large checkpoint over and over; it says when a save starts and ends.
SAVER = textwrap.dedent(
    """
    import sys, torch
    from pathlib import Path
    from srmri.io.checkpoints import AtomicCheckpointIO
    io, path = AtomicCheckpointIO(), Path(sys.argv[1])
    for version in range(100):
        print("saving", version, flush=True)
        io.save_checkpoint({"state_dict": {"w": torch.full((2**23,), float(version))}}, path)
        print("saved", version, flush=True)
    """
)

pytestmark = pytest.mark.usefixtures("one_thread")


def folder_state(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


@pytest.mark.slow
def test_a_save_killed_midway_leaves_the_previous_checkpoint_whole(tmp_path):
    path = tmp_path / "last.ckpt"
    child = subprocess.Popen(
        [sys.executable, "-c", SAVER, str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        assert child.stdout.readline().strip() == "saving 0"
        assert child.stdout.readline().strip() == "saved 0"
        complete = folder_state(tmp_path)
        assert child.stdout.readline().strip() == "saving 1"
        # Kill as soon as the second save has touched the folder: 32 MB take far longer to write.
        deadline = time.monotonic() + 60
        while folder_state(tmp_path) == complete and time.monotonic() < deadline:
            time.sleep(0.001)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    checkpoint = load_checkpoint(path)
    weights = checkpoint["state_dict"]["w"]
    version = float(weights[0])
    assert version in (0.0, 1.0)
    assert torch.equal(weights, torch.full((2**23,), version))


def save_real_checkpoint(tmp_path: Path) -> Path:
    module = trainable_module()
    trainer = tiny_trainer(tmp_path, [], max_steps=2, enable_checkpointing=False)
    trainer.fit(module, patch_loader())
    path = tmp_path / "good.ckpt"
    trainer.save_checkpoint(path)
    return path


def damage(path: Path, how: str) -> Path:
    data = path.read_bytes()
    damaged = path.with_name(f"{how}.ckpt")
    if how == "truncated":
        damaged.write_bytes(data[: len(data) // 2])
    elif how == "zeroed_middle":
        middle = len(data) // 2
        damaged.write_bytes(data[:middle] + bytes(256) + data[middle + 256 :])
    elif how == "garbage":
        damaged.write_bytes(os.urandom(4096))
    else:
        damaged.write_bytes(b"")
    return damaged


@pytest.mark.parametrize("how", ["truncated", "zeroed_middle", "garbage", "empty"])
def test_a_corrupt_checkpoint_is_refused_with_its_name(tmp_path, how):
    path = damage(save_real_checkpoint(tmp_path), how)
    with pytest.raises(CheckpointError, match=str(path)):
        load_checkpoint(path)
    # The trainer reads ckpt_path through the plugin, evaluation and prediction through load_module.
    trainer = tiny_trainer(tmp_path, [], plugins=[AtomicCheckpointIO()], max_steps=1)
    with pytest.raises(CheckpointError, match=str(path)):
        trainer.fit(trainable_module(), patch_loader(), ckpt_path=path)
    with pytest.raises(CheckpointError, match=str(path)):
        load_module(path)


class Payload:
    """Unpickling this object opens (creates) a file: code that runs on load."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_file_carrying_a_pickle_payload_is_refused_without_running_it(tmp_path, monkeypatch):
    # Even when the environment asks PyTorch to unpickle anything by default.
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker = tmp_path / "payload-ran"
    checkpoint = torch.load(save_real_checkpoint(tmp_path), weights_only=True)
    checkpoint["hyper_parameters"]["name"] = Payload(marker)
    path = tmp_path / "payload.ckpt"
    torch.save(checkpoint, path)
    weights = tmp_path / "weights.pt"
    torch.save({"head.weight": Payload(marker)}, weights)

    with pytest.raises(CheckpointError, match=rf"refused to load {path}: .*io\.open"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="refused"):
        load_module(path)
    trainer = tiny_trainer(tmp_path, [], plugins=[AtomicCheckpointIO()], max_steps=1)
    with pytest.raises(CheckpointError, match="refused"):
        trainer.fit(trainable_module(), patch_loader(), ckpt_path=path)
    with pytest.raises(WeightImportError, match="refused"):
        load_pretrained(EDSR(scale=2, channels=3, n_blocks=1, n_feats=8), weights, "edsr_pytorch")
    assert not marker.exists()


def test_load_module_restores_the_trained_network(tmp_path):
    path = save_real_checkpoint(tmp_path)
    restored = load_module(path)
    state = torch.load(path, weights_only=True)["state_dict"]
    for name, value in restored.state_dict().items():
        assert torch.equal(value, state[name]), name


def failing_disk(monkeypatch, fail_from: int) -> list[int]:
    """From the ``fail_from``-th save on, write half the bytes then raise ENOSPC, as a full disk does."""
    real_save, calls = torch.save, []

    def save(obj, target, *args, **kwargs):
        calls.append(1)
        if len(calls) < fail_from:
            return real_save(obj, target, *args, **kwargs)
        buffer = io.BytesIO()
        real_save(obj, buffer)
        half = buffer.getvalue()[: buffer.tell() // 2]
        if isinstance(target, str | os.PathLike):
            Path(target).write_bytes(half)
        else:
            target.write(half)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(torch, "save", save)
    return calls


def checkpoint_callback(folder: Path) -> ModelCheckpoint:
    # A new "best" every epoch (monitoring the step), so each epoch saves best-* and last.ckpt.
    return ModelCheckpoint(
        dirpath=folder, filename="best-{step}", monitor="step", mode="max", save_last=True
    )


def test_a_full_disk_stops_the_run_and_keeps_the_previous_checkpoints(tmp_path, monkeypatch):
    folder = tmp_path / "checkpoints"
    # Epoch 0 writes best and last (saves 1 and 2); epoch 1's first save fails.
    failing_disk(monkeypatch, fail_from=3)
    trainer = tiny_trainer(
        tmp_path, [checkpoint_callback(folder)], plugins=[AtomicCheckpointIO()], max_epochs=3
    )
    with pytest.raises(CheckpointSaveError, match=r"best-step=8\.ckpt: No space left on device"):
        trainer.fit(trainable_module(), patch_loader())
    monkeypatch.undo()
    assert sorted(p.name for p in folder.iterdir()) == ["best-step=4.ckpt", "last.ckpt"]
    for name in ("best-step=4.ckpt", "last.ckpt"):
        assert load_checkpoint(folder / name)["global_step"] == 4


def test_a_full_disk_with_on_error_continue_trains_on_and_deletes_nothing(tmp_path, monkeypatch):
    folder = tmp_path / "checkpoints"
    failing_disk(monkeypatch, fail_from=3)
    io = AtomicCheckpointIO(on_error="continue")
    trainer = tiny_trainer(tmp_path, [checkpoint_callback(folder)], plugins=[io], max_epochs=3)
    trainer.fit(trainable_module(), patch_loader())
    monkeypatch.undo()
    assert trainer.global_step == 12
    # Epochs 1 and 2 each failed to write best and last; the previous best was not removed.
    assert io.failed_saves == 4
    assert sorted(p.name for p in folder.iterdir()) == ["best-step=4.ckpt", "last.ckpt"]
    assert load_checkpoint(folder / "last.ckpt")["global_step"] == 4
    assert stale_temporaries(folder) == []


@pytest.fixture(scope="module")
def real_checkpoint(tmp_path_factory) -> bytes:
    return save_real_checkpoint(tmp_path_factory.mktemp("real")).read_bytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_damage_to_a_checkpoint_loads_it_intact_or_is_a_checkpoint_error(real_checkpoint, data):
    raw = bytearray(real_checkpoint)
    flips = data.draw(st.lists(st.integers(0, len(raw) - 1), max_size=4))
    for offset in flips:
        raw[offset] ^= data.draw(st.integers(1, 255))
    keep = data.draw(st.one_of(st.none(), st.integers(0, len(raw))))
    raw = raw[:keep]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "damaged.ckpt"
        path.write_bytes(bytes(raw))
        try:
            checkpoint = load_checkpoint(path)
        except CheckpointError as error:
            assert str(path) in str(error)
            return
    original = torch.load(io.BytesIO(real_checkpoint), weights_only=True)
    for name, value in original["state_dict"].items():
        assert torch.equal(checkpoint["state_dict"][name], value), name


def test_missing_checkpoint_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.ckpt"):
        load_module(tmp_path / "missing.ckpt")


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path):
    path = tmp_path / "notes.ckpt"
    path.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match=r"notes\.ckpt is not a readable checkpoint"):
        load_module(path)


def test_a_checkpoint_without_srmri_hyperparameters_names_the_missing_key(tmp_path):
    path = tmp_path / "other.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": {"network": {}}}, path)
    with pytest.raises(CheckpointError, match=r"hyper_parameters\.degradation"):
        load_module(path)
