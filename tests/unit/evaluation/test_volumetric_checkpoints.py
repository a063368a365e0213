"""evaluate.py does not score 3-D checkpoints yet: it says so, naming the checkpoint."""

import pytest

from srmri.evaluation.comparison import _scale
from srmri.io.errors import CheckpointError
from tests.helpers import tiny_module


def test_a_3d_checkpoint_is_named_and_refused():
    network = {
        "_target_": "srmri.models.wdsr.WDSRA",
        "scale": 2,
        "n_blocks": 1,
        "n_feats": 4,
        "spatial_dims": 3,
    }
    module = tiny_module(
        network,
        degradation={"_target_": "srmri.degradation.Degradation", "scale": 2, "spatial_dims": 3},
    )
    with pytest.raises(CheckpointError, match=r"runs/a\.ckpt: 3-D checkpoints"):
        _scale({"a": module, "b": tiny_module()}, {"a": "runs/a.ckpt", "b": "b.ckpt"}, 2, [])
