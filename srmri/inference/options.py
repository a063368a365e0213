"""Every choice of a prediction run, checked once: :class:`PredictOptions`.

The defaults equal ``conf/predict.yaml`` (a test keeps them in step), so the Python functions and
``predict.py`` behave alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from srmri.data import NONZERO, VIEWS
from srmri.io.errors import ConfigError

DTYPES = ("float32", "input")
BLENDS = ("core", "constant", "gaussian")
# auto: bfloat16 autocast on a CPU with native bfloat16 arithmetic, float32 elsewhere (see
# srmri.inference.slices.autocast_dtype); the others force one.
PRECISIONS = ("auto", "float32", "bfloat16", "float16")
VOLUMES_4D = ("each", "error")


@dataclass(frozen=True)
class PredictOptions:
    """How volumes are super-resolved and written.

    Attributes:
        view: the anatomical plane whose slices are super-resolved: ``axial``, ``coronal`` or
            ``sagittal``; its two in-plane voxel axes get ``scale`` times as many voxels.
        batch_size: slices per network call.
        tile: largest LR tile side in pixels; None runs whole slices (memory grows with them).
        overlap: LR pixels of context around each tile (see :mod:`srmri.inference.tiling`).
        self_ensemble: average the 8 dihedral transforms (8 times slower).
        device: ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.
        precision: the network's arithmetic: ``float32`` (the default: bfloat16 moved the shipped
            x2 model's brain PSNR on two development scans by more than the 0.01 dB bar for a
            faster default, up to 0.02 dB), ``auto`` (bfloat16 autocast on a CPU with native
            bfloat16 support, 2.6-5x faster there; float32 elsewhere), ``bfloat16`` or
            ``float16`` (autocast).
        dtype: ``float32`` writes float32; ``input`` keeps an integer input's on-disk type and
            its scl_slope / scl_inter, rounding and clipping to the type's range (float inputs
            are written as float32 either way).
        volumes_4d: ``each`` super-resolves every volume along the 4th axis; ``error`` refuses
            4-D inputs.
        mask: where the intensity window is measured when the checkpoint's normalisation has
            ``use_mask``: None (the whole volume), ``nonzero`` (voxels > 0, for skull-stripped
            inputs) or a brain-mask NIfTI on the input's grid (one input only).
        overwrite: replace an existing output file.
        compresslevel: gzip level (1 fastest .. 9 smallest) of ``.nii.gz`` outputs.
        progress: show a progress bar over slices.
        volume_tile: 3-D checkpoints: largest LR core side of a sliding window, in voxels (None:
            the whole volume at once); each window adds ``overlap`` LR voxels of context per side.
        blend: 3-D checkpoints: how windows are combined, ``core`` (each voxel from a window
            holding it in its core: equals an untiled run when ``overlap`` covers the receptive
            field), ``constant`` or ``gaussian`` (MONAI's blending over whole windows).
    """

    view: str = "axial"
    batch_size: int = 4
    tile: int | None = 256
    overlap: int = 16
    self_ensemble: bool = False
    device: str = "auto"
    precision: str = "float32"
    dtype: str = "float32"
    volumes_4d: str = "each"
    mask: str | Path | None = None
    overwrite: bool = False
    compresslevel: int = 1
    progress: bool = True
    volume_tile: int | None = 64
    blend: str = "core"

    def __post_init__(self) -> None:
        checks = {
            "view": (self.view in VIEWS, f"one of {VIEWS}"),
            "batch_size": (self.batch_size >= 1, "an integer >= 1"),
            "tile": (self.tile is None or self.tile >= 1, "null or an integer >= 1"),
            "overlap": (self.overlap >= 0, "an integer >= 0"),
            "precision": (self.precision in PRECISIONS, f"one of {PRECISIONS}"),
            "dtype": (self.dtype in DTYPES, f"one of {DTYPES}"),
            "volumes_4d": (self.volumes_4d in VOLUMES_4D, f"one of {VOLUMES_4D}"),
            "compresslevel": (0 <= self.compresslevel <= 9, "an integer in 0..9"),
            "volume_tile": (
                self.volume_tile is None or self.volume_tile >= 1,
                "null or an integer >= 1",
            ),
            "blend": (self.blend in BLENDS, f"one of {BLENDS}"),
        }
        for key, (valid, expected) in checks.items():
            if not valid:
                raise ConfigError(f"{key}={getattr(self, key)!r}: expected {expected}")
        if self.mask is not None and self.mask != NONZERO:
            object.__setattr__(self, "mask", Path(self.mask))
