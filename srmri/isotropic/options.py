"""Every choice of an isotropic run, checked once: :class:`IsotropicOptions`.

The defaults equal ``conf/isotropic.yaml`` (a test keeps them in step), so the Python functions and
``isotropic.py`` behave alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from srmri.inference.options import VOLUMES_4D
from srmri.tasks.self_training import PRECISIONS, Budget, cpu_autocast

METHODS = ("srmri", "cubic")
PROFILES = ("gaussian", "rect")
LOGGERS = ("wandb", "none")


@dataclass(frozen=True)
class IsotropicOptions:
    """How a thick-slice volume becomes isotropic.

    Attributes:
        method: ``srmri`` trains a network on the scan's own in-plane slices and applies it;
            ``cubic`` writes the cubic B-spline interpolation on the same output grid.
        profile: the slice profile, ``gaussian`` (FWHM = thickness) or ``rect`` (a box).
        thickness: slice thickness in mm; None means the slice spacing (no gap), smaller a gap.
        axis: the slice axis (0, 1, 2); None finds it from the voxel sizes.
        budget: training budget, optimiser steps (``1500``) or minutes (``"4min"``).
        n_blocks, n_feats: the network's residual blocks and feature channels.
        learning_rate: Adam's peak rate (cosine decay to 1 % of it over the budget).
        train_batch: patches per optimiser step.
        patch_rows: about how many HR rows (degraded axis) a training patch has.
        patch_width: columns of a training patch.
        batch_size: planes per network call when the network is applied.
        flips: test-time flips: each plane is also super-resolved flipped along the slice axis,
            the in-plane axis and both, and the four estimates (flipped back) are averaged.
        seed: seed of the patch sampling and the initial weights.
        precision: the network's arithmetic, training and applying: ``auto`` (bfloat16 autocast
            on a CPU with native bfloat16, where a training step runs about twice as fast; float32
            elsewhere), ``float32`` or ``bfloat16``. The cubic B-spline the network adds its detail
            to, and the output, stay float32.
        threads: torch CPU threads, 1 by default: on a CPU shared with other jobs, several threads
            spin-wait for each other and a training step costs many times the CPU time (measured:
            2.5 CPU-s per step at 2 threads against 0.14 at 1 on a 2-core machine at load 20);
            None: torch's default.
        logger: ``wandb`` (offline unless logged in) or ``none``.
        volumes_4d: ``each`` treats every volume of a 4-D file alone; ``error`` refuses 4-D.
        overwrite: replace an existing output file.
        compresslevel: gzip level of ``.nii.gz`` outputs.
        progress: show progress bars.
    """

    method: str = "srmri"
    profile: str = "gaussian"
    thickness: float | None = None
    axis: int | None = None
    budget: int | str = "5min"
    n_blocks: int = 8
    n_feats: int = 32
    learning_rate: float = 2.0e-3
    train_batch: int = 8
    patch_rows: int = 64
    patch_width: int = 64
    batch_size: int = 8
    flips: bool = False
    seed: int = 42
    precision: str = "auto"
    threads: int | None = 1
    logger: str = "wandb"
    volumes_4d: str = "each"
    overwrite: bool = False
    compresslevel: int = 1
    progress: bool = True

    def __post_init__(self) -> None:
        checks = {
            "method": (self.method in METHODS, f"one of {METHODS}"),
            "profile": (self.profile in PROFILES, f"one of {PROFILES}"),
            "thickness": (self.thickness is None or self.thickness > 0, "null or > 0 (mm)"),
            "axis": (self.axis is None or -3 <= self.axis <= 2, "null or 0, 1, 2"),
            "n_blocks": (self.n_blocks >= 0, "an integer >= 0"),
            "n_feats": (self.n_feats >= 1, "an integer >= 1"),
            "learning_rate": (self.learning_rate > 0, "> 0"),
            "train_batch": (self.train_batch >= 1, "an integer >= 1"),
            "patch_rows": (self.patch_rows >= 8, "an integer >= 8"),
            "patch_width": (self.patch_width >= 8, "an integer >= 8"),
            "batch_size": (self.batch_size >= 1, "an integer >= 1"),
            "precision": (self.precision in PRECISIONS, f"one of {PRECISIONS}"),
            "threads": (self.threads is None or self.threads >= 1, "null or an integer >= 1"),
            "logger": (self.logger in LOGGERS, f"one of {LOGGERS}"),
            "volumes_4d": (self.volumes_4d in VOLUMES_4D, f"one of {VOLUMES_4D}"),
            "compresslevel": (0 <= self.compresslevel <= 9, "an integer in 0..9"),
        }
        for key, (valid, expected) in checks.items():
            if not valid:
                raise ValueError(f"isotropic: {key} must be {expected}, got {getattr(self, key)!r}")
        Budget.parse(self.budget)

    @property
    def parsed_budget(self) -> Budget:
        return Budget.parse(self.budget)

    @property
    def amp_dtype(self) -> torch.dtype | None:
        """The autocast type of ``precision`` on the CPU (None: float32)."""
        return cpu_autocast(self.precision)
