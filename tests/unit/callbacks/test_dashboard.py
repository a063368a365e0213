"""The training monitor: gradient norm, images counted per batch, the W&B run in checkpoints."""

from __future__ import annotations

import math
from types import SimpleNamespace

import torch

from srmri.callbacks.dashboard import WANDB_RUN_KEY, TrainingMonitor, batch_size


class Recorder:
    """Stands in for a LightningModule: keeps what is logged."""

    def __init__(self) -> None:
        self.logged: dict[str, float] = {}

    def log(self, name: str, value, **kwargs) -> None:
        self.logged[name] = float(value)


def test_grad_norm_is_the_l2_norm_of_every_gradient():
    first, second, frozen = (torch.nn.Parameter(torch.zeros(n)) for n in (2, 1, 3))
    first.grad, second.grad = torch.tensor([3.0, 4.0]), torch.tensor([-12.0])
    optimizer = torch.optim.SGD([first, second, frozen], lr=0.1)  # frozen: no gradient
    module = Recorder()
    TrainingMonitor().on_before_optimizer_step(None, module, optimizer)
    assert module.logged["train/grad_norm"] == math.sqrt(9 + 16 + 144)


def test_images_per_second_counts_every_image_of_the_epoch():
    monitor, module = TrainingMonitor(), Recorder()
    trainer = SimpleNamespace(world_size=2)
    monitor.on_train_epoch_start(trainer, module)
    for size in (4, 4, 3):
        monitor.on_train_batch_end(trainer, module, None, {"hr": torch.zeros(size, 1, 8, 8)}, 0)
    monitor.on_train_epoch_end(trainer, module)
    seconds = monitor._train_end - monitor._start
    assert module.logged["train/images_per_s"] == (4 + 4 + 3) * 2 / seconds
    assert module.logged["train/epoch_time_s"] >= seconds
    assert batch_size(torch.zeros(5, 2)) == 5 and batch_size([torch.zeros(6)]) == 6


def test_checkpoints_record_the_wandb_run_when_there_is_one():
    monitor, checkpoint = TrainingMonitor(), {}
    monitor.on_save_checkpoint(None, None, checkpoint)
    assert WANDB_RUN_KEY not in checkpoint
    monitor._wandb_run = {"id": "abc123", "project": "srmri", "group": "demo", "name": "r"}
    monitor.on_save_checkpoint(None, None, checkpoint)
    assert checkpoint[WANDB_RUN_KEY]["id"] == "abc123"
