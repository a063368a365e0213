"""NaN / Inf in training: stop naming the step and batch, or skip the update; never checkpoint NaN."""

from __future__ import annotations

import pytest
import torch
from pytorch_lightning.callbacks import Callback, ModelCheckpoint

from srmri.callbacks.nonfinite import NonFiniteGuard
from srmri.io.checkpoints import AtomicCheckpointIO, load_checkpoint
from srmri.io.errors import NonFiniteError
from tests.helpers import patch_loader, tiny_trainer, trainable_module

STEPS_PER_EPOCH = 4  # 16 patches in batches of 4
BAD_STEP = 6  # epoch 1, batch 2

pytestmark = pytest.mark.usefixtures("one_thread")


class Poison(Callback):
    """Puts a NaN in the HR batch (so in the loss), or an Inf in a gradient, at one global step."""

    def __init__(self, step: int, where: str) -> None:
        self.step, self.where = step, where

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if self.where == "loss" and trainer.global_step == self.step:
            batch["hr"][0, 0, 5, 5] = torch.nan

    def on_after_backward(self, trainer, pl_module):
        if self.where == "gradient" and trainer.global_step == self.step:
            next(pl_module.network.parameters()).grad.view(-1)[0] = torch.inf


class Snapshots(Callback):
    """The network's weights at the start of every step, keyed by global step."""

    def __init__(self) -> None:
        self.weights: dict[int, list[torch.Tensor]] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.weights[trainer.global_step] = [
            p.detach().clone() for p in pl_module.network.parameters()
        ]


def every_epoch(folder) -> ModelCheckpoint:
    return ModelCheckpoint(dirpath=folder, filename="{epoch}", save_last=True)


@pytest.mark.parametrize("where", ["loss", "gradient"])
def test_stop_names_the_step_and_batch_and_keeps_the_last_good_checkpoint(tmp_path, where):
    folder = tmp_path / "checkpoints"
    module = trainable_module()
    callbacks = [Poison(BAD_STEP, where), every_epoch(folder), NonFiniteGuard("stop")]
    trainer = tiny_trainer(tmp_path, callbacks, plugins=[AtomicCheckpointIO()], max_epochs=3)
    epoch, batch = divmod(BAD_STEP, STEPS_PER_EPOCH)
    message = rf"global step {BAD_STEP} \(epoch {epoch}, batch {batch} of the epoch\)"
    with pytest.raises(NonFiniteError, match=message) as raised:
        trainer.fit(module, patch_loader())
    assert str(folder / "last.ckpt") in str(raised.value)
    assert all(torch.isfinite(p).all() for p in module.parameters())
    assert sorted(p.name for p in folder.iterdir()) == ["epoch=0.ckpt", "last.ckpt"]
    last = load_checkpoint(folder / "last.ckpt")
    assert last["global_step"] == STEPS_PER_EPOCH
    assert all(torch.isfinite(t).all() for t in last["state_dict"].values())


def test_skip_drops_exactly_the_bad_update(tmp_path):
    module, snapshots, guard = trainable_module(), Snapshots(), NonFiniteGuard("skip")
    trainer = tiny_trainer(tmp_path, [Poison(BAD_STEP, "loss"), snapshots, guard], max_epochs=3)
    trainer.fit(module, patch_loader())
    total = 3 * STEPS_PER_EPOCH
    assert trainer.global_step == total
    assert guard.skipped == [(BAD_STEP, *divmod(BAD_STEP, STEPS_PER_EPOCH))]
    before, after = snapshots.weights[BAD_STEP], snapshots.weights[BAD_STEP + 1]
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))
    earlier = snapshots.weights[BAD_STEP - 1]
    assert not all(torch.equal(a, b) for a, b in zip(earlier, before, strict=True))
    assert all(torch.isfinite(p).all() for p in module.parameters())
    # Adam counts the steps it applied to each parameter: all but the skipped one.
    optimizer = trainer.optimizers[0]
    assert {int(optimizer.state[p]["step"]) for p in module.network.parameters()} == {total - 1}


def test_weights_holding_nan_are_never_checkpointed(tmp_path):
    module = trainable_module()
    trainer = tiny_trainer(tmp_path, [NonFiniteGuard("skip")], max_steps=1)
    trainer.fit(module, patch_loader())
    with torch.no_grad():
        next(module.network.parameters()).view(-1)[0] = torch.nan
    path = tmp_path / "nan.ckpt"
    with pytest.raises(NonFiniteError, match="refusing to write a checkpoint at global step 1"):
        trainer.save_checkpoint(path)
    assert not path.exists()


def test_an_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="policy must be one of"):
        NonFiniteGuard("ignore")
