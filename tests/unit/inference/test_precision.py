"""precision: float32 by default; auto is bfloat16 autocast on a CPU with native bfloat16, float32
anywhere else."""

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


def test_the_default_is_float32_and_other_values_are_refused():
    # bfloat16 moved the shipped models' brain PSNR by more than the 0.01 dB bar (README "Predict").
    assert PredictOptions().precision == "float32"
    with pytest.raises(ConfigError, match="precision='half': expected one of"):
        PredictOptions(precision="half")


def test_autocast_keeps_the_convolutions_that_read_the_image_in_float32():
    # Rounding the image to bfloat16 before the first layers costs PSNR once the network sharpens
    # it; those layers (as many input channels as the image: WDSR's head and skip) must see it in
    # float32, the rest may run in bfloat16.
    from srmri.inference.slices import inference_copy
    from tests.helpers import tiny_module

    network = inference_copy(tiny_module(), torch.device("cpu"))
    seen: dict[str, tuple[int, torch.dtype]] = {}

    def record(name: str):
        def hook(layer, _inputs, out) -> None:
            seen[name] = (layer.in_channels, out.dtype)

        return hook

    for name, layer in network.named_modules():
        if isinstance(layer, torch.nn.Conv2d):
            layer.register_forward_hook(record(name))
    image = torch.rand(2, 1, 12, 12)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        network(image)
    reading = {name for name, (channels, _) in seen.items() if channels == 1}
    assert len(reading) == 2 and all(seen[name][1] == torch.float32 for name in reading)
    others = set(seen) - reading
    assert others and all(seen[name][1] == torch.bfloat16 for name in others)
    # Without autocast the layers give what the module's own network gives.
    plain = tiny_module().inference_network.eval()
    with torch.no_grad():
        torch.testing.assert_close(network(image), plain(image), rtol=1e-5, atol=1e-6)
