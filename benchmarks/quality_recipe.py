"""The quality benchmark's training recipe and the Hydra overrides it turns into.

Everything a user may want to change is a field of :class:`Recipe` (set from the command line of
``benchmarks/quality.py``); the rest is ``conf/train.yaml`` and ``conf/evaluate.yaml`` as shipped.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from srmri.data import VIEWS

STANDARD_BUDGET_MINUTES = 10.0
STANDARD_SCALES = (2, 4)
# HR patch side per scale: LR patches of 24 (x2), 16 (x3) and 20 (x4) pixels, similar cost per step.
# The demo's train slab is 89 voxels thick, which bounds coronal and sagittal patches.
DEFAULT_PATCH_SIZES = {2: 48, 3: 48, 4: 80}

# The smoke run: a network and batches small enough that a run takes seconds, one view, and two
# validation batches; the code path (train, stop on the clock, evaluate the best checkpoint) is the
# full run's.
SMOKE_NETWORK = ("model.network.n_blocks=1", "model.network.n_feats=8", "model.network.expansion=2")
SMOKE_RUN = ("data.samples_per_epoch=16", "trainer.limit_val_batches=2")


@dataclass(frozen=True)
class Recipe:
    """How each scale is trained.

    Attributes:
        model: a ``conf/model`` option (``wdsr_a``, ``edsr_baseline``, ...).
        budget_minutes: wall-clock training time per scale (``trainer.max_time``).
        patch_sizes: HR patch side per scale (a multiple of the scale).
        batch_size: patches per step.
        lr: Adam's base learning rate.
        min_lr_factor: the rate at the end of the budget, as a factor of ``lr``.
        val_every_minutes: validation interval (the run also validates when the budget ends);
            the best checkpoint is chosen among these validations.
        views: slicing directions used for training, validation and the evaluation.
        overrides: further Hydra overrides of the training config, applied last.
    """

    model: str
    budget_minutes: float
    patch_sizes: dict[int, int]
    batch_size: int
    lr: float
    min_lr_factor: float
    val_every_minutes: float
    views: tuple[str, ...]
    overrides: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for key in ("budget_minutes", "val_every_minutes", "lr"):
            if not getattr(self, key) > 0:
                raise ValueError(f"{key}={getattr(self, key)!r}: expected a number > 0")
        if not 0.0 <= self.min_lr_factor <= 1.0:
            raise ValueError(f"min_lr_factor={self.min_lr_factor!r}: expected a factor in [0, 1]")
        if self.batch_size < 1:
            raise ValueError(f"batch_size={self.batch_size!r}: expected an integer >= 1")
        if (
            not self.views
            or not set(self.views) <= set(VIEWS)
            or len(set(self.views)) != len(self.views)
        ):
            raise ValueError(f"views={list(self.views)}: expected distinct views from {VIEWS}")
        for scale, patch in self.patch_sizes.items():
            if patch < 1 or patch % scale:
                raise ValueError(
                    f"patch size {patch} for x{scale}: expected a positive multiple of {scale}"
                )

    @property
    def budget_seconds(self) -> int:
        return round(self.budget_minutes * 60)

    @property
    def val_interval_seconds(self) -> int:
        """Validation interval; past the end of the budget when validating only at the end.

        Lightning validates when the budget stops the run in any case, so an interval equal to
        the budget would validate twice in a row.
        """
        if self.val_every_minutes >= self.budget_minutes:
            return self.budget_seconds + 60
        return round(self.val_every_minutes * 60)

    def smoke(self) -> Recipe:
        """The seconds-long version: tiny network and patches, one view, a 3-second budget."""
        return dataclasses.replace(
            self,
            budget_minutes=0.05,
            val_every_minutes=0.05,
            patch_sizes={scale: 24 for scale in self.patch_sizes},
            batch_size=4,
            views=self.views[:1],
            overrides=(*SMOKE_NETWORK, *SMOKE_RUN, *self.overrides),
        )

    def deviations(self, scales: tuple[int, ...]) -> list[str]:
        """How this run differs from the benchmark's standard one (empty when it does not)."""
        found = []
        if self.budget_minutes != STANDARD_BUDGET_MINUTES:
            found.append(
                f"a {self.budget_minutes:g}-minute budget (standard: {STANDARD_BUDGET_MINUTES:g})"
            )
        if tuple(scales) != STANDARD_SCALES:
            found.append(
                f"scales {', '.join(f'x{s}' for s in scales)} "
                f"(standard: {' and '.join(f'x{s}' for s in STANDARD_SCALES)})"
            )
        if set(self.views) != set(VIEWS):
            found.append(f"views {', '.join(self.views)} (standard: all three)")
        return found


def train_overrides(recipe: Recipe, scale: int, run_dir: Path, cache_dir: Path | None) -> list[str]:
    """Overrides of ``conf/train.yaml`` for one scale, writing into ``run_dir``."""
    budget = recipe.budget_seconds
    return [
        f"paths.output_dir={run_dir}",
        f"paths.log_dir={run_dir / 'logs'}",
        *([f"paths.cache_dir={cache_dir}"] if cache_dir else []),
        f"experiment_name=quality_x{scale}",
        f"model={recipe.model}",
        "logger=csv",
        f"data.scale={scale}",
        f"data.views=[{','.join(recipe.views)}]",
        f"data.patch_size={recipe.patch_sizes[scale]}",
        f"data.batch_size={recipe.batch_size}",
        f"model.optimizer.lr={recipe.lr}",
        "model.scheduler.scheduler._target_=benchmarks.time_schedule.wall_clock_cosine",
        "~model.scheduler.scheduler.warmup_steps",
        f"+model.scheduler.scheduler.budget_seconds={float(budget)}",
        f"model.scheduler.scheduler.min_factor={recipe.min_lr_factor}",
        "model.images.every_n_epochs=0",
        # The clock ends the run; epochs only set how often the sampler reshuffles.
        "trainer.max_epochs=-1",
        # Without this Lightning trains on past the budget until the first epoch ends.
        "trainer.min_epochs=0",
        f"trainer.max_time='{lightning_duration(budget)}'",
        f"trainer.val_check_interval='{lightning_duration(recipe.val_interval_seconds)}'",
        "trainer.enable_progress_bar=false",
        "trainer.enable_model_summary=false",
        "print_config=false",
        *recipe.overrides,
    ]


def lightning_duration(seconds: int) -> str:
    """``DD:HH:MM:SS``, the duration format of Lightning's ``max_time`` and time intervals."""
    minutes, secs = divmod(seconds, 60)
    hours, mins = divmod(minutes, 60)
    days, hrs = divmod(hours, 24)
    return f"{days:02d}:{hrs:02d}:{mins:02d}:{secs:02d}"


def evaluate_overrides(
    checkpoint: Path, scale: int, views: tuple[str, ...], out_dir: Path, cache_dir: Path | None
) -> list[str]:
    """Overrides of ``conf/evaluate.yaml``: the checkpoint on the test slab, every slice, angle 0.

    Rotation is a study of its own (``evaluate.py``'s 20 angles); the quality figure is the
    unrotated one.
    """
    return [
        f"paths.output_dir={out_dir}",
        f"paths.log_dir={out_dir / 'logs'}",
        *([f"paths.cache_dir={cache_dir}"] if cache_dir else []),
        f"ckpt_path={checkpoint}",
        f"data.scale={scale}",
        f"views=[{','.join(views)}]",
        "angles=[0]",
        "progress=false",
        "print_config=false",
    ]
