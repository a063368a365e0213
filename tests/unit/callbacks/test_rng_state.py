"""Global random states survive a weights-only checkpoint round trip and replay the same draws."""

from __future__ import annotations

import io
import random

import numpy as np
import torch

from srmri.callbacks.rng_state import RNGStateCheckpoint, rng_state, set_rng_state


def draws() -> list[float]:
    return [
        random.random(),
        random.gauss(0.0, 1.0),
        *np.random.rand(3).tolist(),
        float(np.random.standard_normal()),
        *torch.rand(3).tolist(),
        float(torch.randn(())),
    ]


def test_restored_states_replay_the_same_draws_after_a_weights_only_round_trip():
    torch.manual_seed(3)
    np.random.seed(4)
    random.seed(5)
    # Leave a cached Gaussian in Python's and NumPy's generators: part of the state too.
    random.gauss(0.0, 1.0)
    np.random.standard_normal()
    buffer = io.BytesIO()
    torch.save({"callbacks": {"rng": RNGStateCheckpoint().state_dict()}}, buffer)
    expected = draws()
    draws()
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)["callbacks"]["rng"]
    RNGStateCheckpoint().load_state_dict(saved)
    assert draws() == expected


def test_other_states_give_other_draws():
    state = rng_state()
    first = draws()
    set_rng_state(state)
    torch.manual_seed(99)
    assert draws()[-4:] != first[-4:]
