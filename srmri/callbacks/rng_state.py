"""The global random states (Python, NumPy, torch CPU and CUDA), saved and restored with checkpoints.

Lightning restores weights, optimiser, scheduler and loop counters on resume, but not the global
random generators, so a resumed run would draw different noise (e.g. the ``rician`` degradation)
from the run it continues. Training samples themselves do not need this: they are a function of
(seed, epoch, index), see :mod:`srmri.data.sampling`.

States are stored as tensors and plain numbers so that checkpoints stay ``weights_only`` loadable.
Under DDP the checkpoint holds rank 0's states; every rank restores them, as every rank started
from the same seed.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from pytorch_lightning.callbacks import Callback

NUMPY_GENERATOR = "MT19937"


def rng_state() -> dict[str, Any]:
    """The current global random states as tensors, lists and numbers."""
    version, internal, gauss = random.getstate()
    _, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    state = {
        "python": {"version": version, "internal": list(internal), "gauss": gauss},
        "numpy": {
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore states captured by :func:`rng_state` (CUDA ones only on a matching device count)."""
    python = state["python"]
    random.setstate((python["version"], tuple(python["internal"]), python["gauss"]))
    numpy = state["numpy"]
    np.random.set_state(
        (
            NUMPY_GENERATOR,
            numpy["keys"].cpu().numpy().astype(np.uint32),
            numpy["position"],
            numpy["has_gauss"],
            numpy["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"].cpu())
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([generator.cpu() for generator in cuda])


class RNGStateCheckpoint(Callback):
    """Adds the global random states to every checkpoint and restores them on resume."""

    def state_dict(self) -> dict[str, Any]:
        return rng_state()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        set_rng_state(state_dict)
