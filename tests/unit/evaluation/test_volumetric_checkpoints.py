"""evaluate.py does not score 3-D checkpoints yet: it says so, naming the checkpoint."""

import pytest

from srmri.evaluation.comparison import _scale
from srmri.io.errors import CheckpointError
from tests.helpers import DEGRADATION_3D, TINY_WDSR_3D, tiny_module


def test_a_3d_checkpoint_is_named_and_refused():
    module = tiny_module(TINY_WDSR_3D, degradation=DEGRADATION_3D)
    with pytest.raises(CheckpointError, match=r"runs/a\.ckpt: 3-D checkpoints"):
        _scale({"a": module, "b": tiny_module()}, {"a": "runs/a.ckpt", "b": "b.ckpt"}, 2, [])
