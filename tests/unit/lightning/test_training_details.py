"""Losses, EMA and memory format, each checked against a computation written here."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from srmri.lightning.ema import EMA
from srmri.lightning.losses import SRLoss
from tests.helpers import trainable_module as tiny_module
from tests.unit.lightning.test_module import loader, trainer


def images(seed: int, shape=(2, 1, 40, 36), top: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """An HR batch in [0, top] and an SR batch near it that overshoots both ends of the range."""
    generator = torch.Generator().manual_seed(seed)
    hr = torch.rand(shape, generator=generator) * top
    sr = hr + 0.15 * top * torch.randn(shape, generator=generator)
    return sr, hr


def skimage_ssim(sr: torch.Tensor, hr: torch.Tensor, data_range: float) -> float:
    """Mean SSIM over the batch; the prediction clamped to [0, data_range] as srmri scores it."""
    values = [
        structural_similarity(
            h[0].double().numpy(),
            s[0].clamp(0, data_range).double().numpy(),
            data_range=data_range,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        for s, h in zip(sr, hr, strict=True)
    ]
    return float(np.mean(values))


def test_l2_is_the_mean_squared_error():
    sr, hr = images(0)
    expected = float(((sr.double().numpy() - hr.double().numpy()) ** 2).mean())
    assert float(SRLoss("l2")(sr, hr)) == pytest.approx(expected, rel=1e-6)


def test_l1_ssim_is_l1_plus_weighted_ssim_loss_against_scikit_image():
    sr, hr = images(1)
    l1 = float(np.abs(sr.double().numpy() - hr.double().numpy()).mean())
    expected = l1 + 0.4 * (1.0 - skimage_ssim(sr, hr, 1.0))
    assert float(SRLoss("l1_ssim", ssim_weight=0.4)(sr, hr)) == pytest.approx(expected, abs=1e-5)


def test_the_losses_ssim_takes_the_metrics_data_range():
    module = tiny_module(loss={"name": "l1_ssim", "ssim_weight": 1.0}, metrics={"data_range": 2.0})
    sr, hr = images(2, top=2.0)
    l1 = float(np.abs(sr.double().numpy() - hr.double().numpy()).mean())
    expected = l1 + 1.0 - skimage_ssim(sr, hr, 2.0)
    assert float(module.loss(sr, hr)) == pytest.approx(expected, abs=1e-5)


def test_a_second_data_range_for_the_loss_is_refused():
    with pytest.raises(ValueError, match=r"loss.data_range=1.0 differs from metrics.data_range=2"):
        tiny_module(loss={"name": "l1_ssim", "data_range": 1.0}, metrics={"data_range": 2.0})


def test_ema_follows_the_warmed_up_decay_computed_by_hand():
    torch.manual_seed(0)
    network = torch.nn.Linear(3, 2)
    ema = EMA(network, decay=0.8)
    average = [p.detach().double().clone() for p in network.parameters()]
    for step in range(12):
        with torch.no_grad():
            for parameter in network.parameters():
                parameter.add_(torch.randn_like(parameter))
        ema.update(network)
        # The warm-up of srmri.lightning.ema, written out: min(decay, (1 + n) / (10 + n)).
        decay = min(0.8, (1 + step) / (10 + step))
        live = [p.detach().double() for p in network.parameters()]
        average = [decay * a + (1 - decay) * p for a, p in zip(average, live, strict=True)]
    for got, expected in zip(ema.average.parameters(), average, strict=True):
        assert torch.allclose(got.double(), expected, atol=1e-6)
    assert int(ema.updates) == 12


def test_ema_counts_optimiser_steps_not_accumulated_batches(tmp_path):
    module = tiny_module()
    fit = trainer(tmp_path, max_steps=3, accumulate_grad_batches=2)
    # 8 images in batches of 2: 4 batches per epoch, 2 optimiser steps per epoch.
    fit.fit(module, loader(n=8, batch_size=2))
    assert fit.global_step == 3
    assert int(module.ema.updates) == fit.global_step


def test_ema_weights_share_the_live_networks_channels_last_format():
    module = tiny_module(channels_last=True)
    pairs = [
        (name, live, average)
        for (name, live), average in zip(
            module.network.named_parameters(), module.ema.average.parameters(), strict=True
        )
        if live.ndim == 4
    ]
    assert pairs
    for name, live, average in pairs:
        channels_last = live.is_contiguous(memory_format=torch.channels_last)
        assert average.is_contiguous(memory_format=torch.channels_last) == channels_last, name
    assert any(
        live.is_contiguous(memory_format=torch.channels_last) and not live.is_contiguous()
        for _, live, _ in pairs
    )
