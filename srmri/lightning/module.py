"""The one LightningModule srmri trains, validates and restores every network with.

Batches come from :class:`srmri.data.SRDataModule` as HR tensors; the LR input is made here, on
the device, by the single degradation in :mod:`srmri.degradation`. Every validation batch also
scores the bicubic baseline on the same LR tensor, the same pixels and with the same metric code.

Every hyperparameter is a plain dict or number, so ``SRModule.load_from_checkpoint(path)`` alone
rebuilds the network, its scale, degradation and normalisation, and checkpoints load with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any

import hydra.utils
import pytorch_lightning as pl
import torch
from torch import Tensor, nn
from torchmetrics import MaxMetric, MeanMetric

from srmri.degradation import BaseDegradation, build_degradation, describe_factors
from srmri.io.legacy import upgrade_degradation, upgrade_targets
from srmri.io.plain_values import plain
from srmri.lightning.ema import EMA
from srmri.lightning.losses import SRLoss
from srmri.metrics import psnr, ssim
from srmri.models import bspline_to_hr, build_network, upsample

METRIC_NAMES = ("psnr", "ssim")


class SRModule(pl.LightningModule):
    """Super resolution of ``(B, C, h, w)`` LR slices to ``(B, C, h*s, w*s)``, or of
    ``(B, C, d, h, w)`` LR volumes to ``(B, C, d*s, h*s, w*s)`` when the network and the
    degradation both have ``spatial_dims=3`` (then scores are per volume and the baseline, logged
    under the ``_bicubic`` names, is the tricubic B-spline).

    Args:
        network: config of the network, a dict with ``_target_`` (see ``conf/model/``).
        degradation: config of the degradation, a dict with ``_target_`` (see
            ``conf/degradation/``); one without it (srmri 0.1.0) means the image presets'
            :class:`srmri.degradation.Degradation`. Its factors must be the network's
            (``network.scale``: one number, or ``(H, W)`` factors for a one-axis network).
        normalisation: the intensity normalisation the data used (kept for prediction).
        pretrained: optional ``{path, format, mode}`` of imported RGB weights.
        loss: keyword arguments of :class:`srmri.lightning.losses.SRLoss`; its SSIM takes
            ``metrics.data_range`` (a different ``loss.data_range`` is refused).
        optimizer: a ``_partial_`` optimiser config, completed with the network's parameters.
        scheduler: optional ``{scheduler: <_partial_ config>, interval, frequency}``.
        ema: ``{enabled, decay}``; when enabled, validation, test, prediction and the saved
            inference weights use the EMA of the weights.
        metrics: ``{border, data_range}``: pixels cropped before scoring and the fixed data range.
        images: ``{every_n_epochs, n_slices}``: validation panels (drawn by the callback
            :class:`srmri.callbacks.panels.ValidationPanels`, whose config reads them).
        channels_last: run the network in channels-last memory format.
        compile: wrap the forward pass in ``torch.compile`` (checkpoints stay uncompiled).
        name: the method's name in reports (e.g. ``wdsr_a``).
    """

    def __init__(
        self,
        network: Mapping[str, Any],
        degradation: Mapping[str, Any],
        normalisation: Mapping[str, Any],
        pretrained: Mapping[str, Any] | None = None,
        loss: Mapping[str, Any] | None = None,
        optimizer: Mapping[str, Any] | None = None,
        scheduler: Mapping[str, Any] | None = None,
        ema: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        images: Mapping[str, Any] | None = None,
        channels_last: bool = False,
        compile: bool = False,
        name: str = "sr",
    ) -> None:
        super().__init__()
        self.save_hyperparameters(
            {
                "network": upgrade_targets(plain(network)),
                "degradation": upgrade_degradation(plain(degradation)),
                "normalisation": plain(normalisation),
                "pretrained": plain(pretrained),
                "loss": plain(loss or {}),
                "optimizer": upgrade_targets(plain(optimizer)),
                "scheduler": upgrade_targets(plain(scheduler)),
                "ema": plain(ema or {"enabled": False}),
                "metrics": plain(metrics or {}),
                "images": plain(images or {}),
                "channels_last": channels_last,
                "compile": compile,
                "name": name,
            }
        )
        # The structure only: imported weights are read when a fresh fit starts (on_fit_start), so
        # restoring a checkpoint never needs the original weight file.
        self.network = build_network(
            self.hparams.network, self.hparams.pretrained, load_weights=False
        )
        self.degradation: BaseDegradation = build_degradation(self.hparams.degradation)
        if self.spatial_dims != self.degradation.spatial_dims:
            raise ValueError(
                f"network spatial_dims={self.spatial_dims} differs from degradation spatial_dims="
                f"{self.degradation.spatial_dims}; set both from the one spatial_dims value"
            )
        # The network's factors along (H, W) (one integer twice for a square network, (k, 1) for
        # a one-axis network) must be those the degradation declares.
        if not all(
            math.isclose(n, d, rel_tol=1e-9)
            for n, d in zip(self.factors, self.degradation.factors, strict=True)
        ):
            raise ValueError(
                f"network scale {describe_factors(self.factors)} differs from degradation scale "
                f"{describe_factors(self.degradation.factors)}"
            )
        self.border = int(self.hparams.metrics.get("border", 0))
        self.data_range = float(self.hparams.metrics.get("data_range", 1.0))
        self.loss = SRLoss(**_loss_settings(self.hparams.loss, self.data_range))
        if channels_last:
            self.network.to(memory_format=torch.channels_last)
        # Copied after the conversion, so the EMA weights that validation and prediction run have
        # the live network's memory format.
        ema_config = self.hparams.ema
        self.ema = EMA(self.network, ema_config["decay"]) if ema_config.get("enabled") else None
        # Kept out of the module tree so that state_dict keys never carry a compile prefix.
        self.__dict__["_compiled"] = torch.compile(self.network) if compile else None
        self.val_scores = self._score_trackers()
        self.val_psnr_best = MaxMetric()

    # ------------------------------------------------------------------ network
    @property
    def spatial_dims(self) -> int:
        """2 for a slice network, 3 for a volume network (its ``spatial_dims``)."""
        return int(getattr(self.network, "spatial_dims", 2))

    @property
    def factors(self) -> tuple[float, ...]:
        """The network's upscaling factors along (H, W): ``(s, s)`` for a square network; along
        (D, H, W) for a volume network."""
        scale = self.network.scale
        if isinstance(scale, (tuple, list)):
            return tuple(float(f) for f in scale)
        return (float(scale),) * self.spatial_dims

    @property
    def scale(self) -> int:
        """The one integer scale of a square network.

        Raises:
            ValueError: the network upsamples the axes by different or non-integer factors
                (e.g. one axis only; see :attr:`factors`).
        """
        first = self.factors[0]
        if any(f != first for f in self.factors) or first != int(first):
            raise ValueError(
                f"the {self.hparams.name} network upsamples (H, W) by {self.factors}: no single "
                "integer scale"
            )
        return int(first)

    @property
    def channels(self) -> int:
        return int(self.network.channels)

    @property
    def inference_network(self) -> nn.Module:
        """The weights used outside training: the EMA average when enabled."""
        return self.ema.average if self.ema is not None else self.network

    @property
    def trainable(self) -> bool:
        return any(p.requires_grad for p in self.network.parameters())

    def _prepare_input(self, lr: Tensor) -> Tensor:
        if self.hparams.channels_last:
            lr = lr.contiguous(memory_format=torch.channels_last)
        return lr

    def forward(self, lr: Tensor) -> Tensor:
        """Super-resolve ``lr`` ``(B, C, h, w)`` with the inference weights."""
        return self.inference_network(self._prepare_input(lr))

    def degrade(self, hr: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """The LR image of ``hr``, by the module's own (checkpointed) degradation."""
        return self.degradation(hr, generator)

    # ------------------------------------------------------------------ training
    def on_fit_start(self) -> None:
        # A resumed fit (ckpt_path) already restored trained weights; only a fresh fit imports.
        if self.hparams.pretrained and self.trainer.ckpt_path is None:
            self.load_pretrained_weights()

    @torch.no_grad()
    def load_pretrained_weights(self) -> None:
        """Copy the imported RGB weights (``pretrained``) into the network and its EMA."""
        imported = build_network(self.hparams.network, self.hparams.pretrained, load_weights=True)
        self.network.load_state_dict(imported.state_dict())
        if self.ema is not None:
            self.ema.average.load_state_dict(imported.state_dict())

    def on_after_batch_transfer(self, batch: dict[str, Any], dataloader_idx: int) -> dict[str, Any]:
        # The degradation runs here, batched on the device, so data workers only crop HR. It sees
        # the volume's own normalised intensities; the target is clipped to [0, 1] like the LR
        # (a no-op for volumes normalised with measured_on=hr, which are clipped when loaded).
        batch["lr"] = self.degrade(batch["hr"])
        batch["hr"] = batch["hr"].clamp(0.0, 1.0)
        return batch

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        lr = self._prepare_input(batch["lr"])
        sr = self._compiled(lr) if self._compiled is not None else self.network(lr)
        loss = self.loss(sr, batch["hr"])
        self.log("train/loss", loss, prog_bar=True, batch_size=lr.shape[0])
        self.log(
            "train/lr", self.trainer.optimizers[0].param_groups[0]["lr"], batch_size=lr.shape[0]
        )
        return loss

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        # Lightning calls this once per optimiser step (after the last micro-batch when gradients
        # accumulate), so the EMA's decay and warm-up count optimiser steps, not batches.
        super().optimizer_step(*args, **kwargs)
        if self.ema is not None:
            self.ema.update(self.network)

    # ------------------------------------------------------------------ evaluation
    def _score_trackers(self) -> nn.ModuleDict:
        names = [
            f"{metric}{region}{method}"
            for metric in METRIC_NAMES
            for region in ("", "_brain")
            for method in ("", "_bicubic")
        ]
        return nn.ModuleDict({name: MeanMetric() for name in names})

    def score_batch(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """Per-image scores of the model and of bicubic on the same pixels.

        Returns a dict of ``(B,)`` tensors: ``psnr``, ``ssim``, ``psnr_bicubic``, ... and, when the
        batch carries a ``mask``, the ``_brain`` variants (NaN where a slice's mask is empty).
        """
        hr, lr = batch["hr"], batch["lr"]
        sr = self(lr)
        baseline = self.baseline(lr, hr.shape[2:])
        mask = batch.get("mask")
        scores: dict[str, Tensor] = {}
        for method, prediction in (("", sr), ("_bicubic", baseline)):
            for region, region_mask in (("", None), ("_brain", mask)):
                if region and region_mask is None:
                    continue
                kwargs = {"mask": region_mask, "border": self.border, "data_range": self.data_range}
                scores[f"psnr{region}{method}"] = psnr(prediction, hr, **kwargs)
                scores[f"ssim{region}{method}"] = ssim(prediction, hr, **kwargs)
        batch["sr"], batch["bicubic"] = sr, baseline
        return scores

    def baseline(self, lr: Tensor, hr_size: tuple[int, int]) -> Tensor:
        """The interpolation baseline of ``lr`` on the HR grid of ``hr_size`` ``(H, W)``: bicubic
        for a square integer degradation, else the cubic B-spline along each degraded axis from the
        LR sample centres the degradation declares to the HR pixel centres. Volumes (3-D): the
        tricubic B-spline on the same voxel-centre grid."""
        if self.degradation.spatial_dims == 3:
            return upsample(lr, self.degradation.scale, "bspline")
        fh, fw = self.degradation.factors
        if fh == fw and fh == int(fh):
            return upsample(lr, int(fh), "bicubic")
        out = lr
        for axis, factor, size in ((-2, fh, hr_size[0]), (-1, fw, hr_size[1])):
            if factor != 1:
                positions = self.degradation.lr_positions(size, axis)
                hr_positions = torch.arange(size, dtype=torch.float64)
                out = bspline_to_hr(out, positions, hr_positions, axis)
        return out

    def _evaluation_step(self, batch: dict[str, Any], trackers: nn.ModuleDict) -> None:
        """Add a batch's scores to ``trackers``, the same slices for every method and metric.

        A non-finite score (PSNR +inf where a method reproduces a slice exactly, NaN for an empty
        mask) cannot be averaged. Per region, a slice enters every tracker (PSNR and SSIM, model
        and bicubic) or none, as in ``evaluate.py``: otherwise ``psnr`` and ``psnr_bicubic`` would
        average different slices and their difference would not be the paired gain.
        """
        scores = self.score_batch(batch)
        for region in ("", "_brain"):
            names = [
                f"{metric}{region}{method}"
                for metric in METRIC_NAMES
                for method in ("", "_bicubic")
                if f"{metric}{region}{method}" in scores
            ]
            if not names:
                continue
            finite = torch.stack([torch.isfinite(scores[name]) for name in names]).all(0)
            if finite.any():
                for name in names:
                    trackers[name].update(scores[name][finite])

    def _log_scores(self, stage: str, trackers: nn.ModuleDict) -> dict[str, Tensor]:
        values = {
            name: tracker.compute() for name, tracker in trackers.items() if tracker.update_called
        }
        for metric in METRIC_NAMES:
            for region in ("", "_brain"):
                model, baseline = f"{metric}{region}", f"{metric}{region}_bicubic"
                if model in values and baseline in values:
                    values[f"{metric}{region}_gain"] = values[model] - values[baseline]
        for name, value in values.items():
            # Already reduced across processes by torchmetrics; no second sync.
            self.log(f"{stage}/{name}", value, prog_bar=name in ("psnr", "psnr_gain"))
        for tracker in trackers.values():
            tracker.reset()
        return values

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        # Panels of fixed slices are drawn by srmri.callbacks.panels.ValidationPanels.
        self._evaluation_step(batch, self.val_scores)

    def on_validation_epoch_end(self) -> None:
        values = self._log_scores("val", self.val_scores)
        if "psnr" in values and not self.trainer.sanity_checking:
            self.val_psnr_best.update(values["psnr"])
            self.log("val/psnr_best", self.val_psnr_best.compute())

    # ------------------------------------------------------------------ optimisation
    def configure_optimizers(self) -> Any:
        if self.hparams.optimizer is None:
            raise ValueError("model.optimizer is not set; training needs an optimiser config")
        optimizer = hydra.utils.instantiate(self.hparams.optimizer)(
            params=self.network.parameters()
        )
        schedule = self.hparams.scheduler
        if not schedule:
            return optimizer
        factory = hydra.utils.instantiate(schedule["scheduler"])
        kwargs = {}
        if "total_steps" in inspect.signature(factory).parameters:
            kwargs["total_steps"] = int(self.trainer.estimated_stepping_batches)
        scheduler = factory(optimizer, **kwargs)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {
                "scheduler": scheduler,
                "interval": schedule.get("interval", "step"),
                "frequency": schedule.get("frequency", 1),
            },
        }


def _loss_settings(loss: Mapping[str, Any], data_range: float) -> dict[str, Any]:
    """The loss config with the metrics' data range: SSIM in the loss and in the scores is one SSIM.

    Raises:
        ValueError: ``loss.data_range`` given and different from ``metrics.data_range``.
    """
    settings = dict(loss)
    given = settings.pop("data_range", None)
    if given is not None and float(given) != data_range:
        raise ValueError(
            f"loss.data_range={given} differs from metrics.data_range={data_range}; the loss's "
            "SSIM takes metrics.data_range, so set that one only"
        )
    return {**settings, "data_range": data_range}
