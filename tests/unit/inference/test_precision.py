"""precision=auto: bfloat16 autocast on a CPU with native bfloat16, float32 anywhere else."""

import pytest
import torch

from srmri.inference import slices
from srmri.inference.options import PredictOptions
from srmri.io.errors import ConfigError


@pytest.mark.parametrize("native", [True, False])
def test_auto_is_bfloat16_only_on_a_cpu_that_computes_it_natively(monkeypatch, native):
    monkeypatch.setattr(slices, "cpu_has_bfloat16", lambda: native)
    cpu = torch.device("cpu")
    assert slices.autocast_dtype("auto", cpu) == (torch.bfloat16 if native else None)
    assert slices.autocast_dtype("auto", torch.device("cuda")) is None
    assert slices.autocast_dtype("float32", cpu) is None
    assert slices.autocast_dtype("bfloat16", cpu) is torch.bfloat16
    assert slices.autocast_dtype("float16", torch.device("cuda")) is torch.float16


def test_the_default_is_auto_and_other_values_are_refused():
    assert PredictOptions().precision == "auto"
    with pytest.raises(ConfigError, match="precision='half': expected one of"):
        PredictOptions(precision="half")
