"""Import of public RGB weights, checked against the public networks written out functionally.

The state dicts are built here with the public key names and shapes (EDSR-PyTorch's ``EDSR``,
the WDSR reference ``wdsr_a.py`` / ``wdsr_b.py`` with ``torch.nn.utils.weight_norm``) and random
values; the reference forwards take 0..255 images as the public code does.
"""

import re

import pytest
import torch
import torch.nn.functional as F

from srmri.models import (
    EDSR,
    WDSRA,
    WDSRB,
    GreyAsRGB,
    WeightImportError,
    build_network,
    fold_to_grey,
    load_pretrained,
)

# The networks hold their default mean in float32, as a 0..1 image buffer would be.
DIV2K_MEAN = torch.tensor([0.4488, 0.4371, 0.4040]).double()
CHECKPOINT_MEAN = torch.tensor([0.30, 0.50, 0.60], dtype=torch.float64)
N_BLOCKS, N_FEATS = 2, 8


def random_conv(state, name, c_in, c_out, kernel=3, weight_norm=False):
    fan_in = c_in * kernel * kernel
    weight = torch.randn(c_out, c_in, kernel, kernel, dtype=torch.float64) / fan_in**0.5
    if weight_norm:
        state[f"{name}.weight_g"] = 0.5 + torch.rand(c_out, 1, 1, 1, dtype=torch.float64)
        state[f"{name}.weight_v"] = weight
    else:
        state[f"{name}.weight"] = weight
    # Biases of a few grey levels on the 0..255 scale, so a wrong rescaling shows.
    state[f"{name}.bias"] = 5 * torch.randn(c_out, dtype=torch.float64)


def official_edsr_state(scale, mean_shift=True):
    state = {}
    if mean_shift:
        eye = torch.eye(3, dtype=torch.float64).view(3, 3, 1, 1)
        state["sub_mean.weight"], state["sub_mean.bias"] = eye, -255 * CHECKPOINT_MEAN
        state["add_mean.weight"], state["add_mean.bias"] = eye.clone(), 255 * CHECKPOINT_MEAN
    random_conv(state, "head.0", 3, N_FEATS)
    for i in range(N_BLOCKS):
        random_conv(state, f"body.{i}.body.0", N_FEATS, N_FEATS)
        random_conv(state, f"body.{i}.body.2", N_FEATS, N_FEATS)
    random_conv(state, f"body.{N_BLOCKS}", N_FEATS, N_FEATS)
    if scale == 3:
        random_conv(state, "tail.0.0", N_FEATS, 9 * N_FEATS)
    else:
        for j in range(scale // 2):
            random_conv(state, f"tail.0.{2 * j}", N_FEATS, 4 * N_FEATS)
    random_conv(state, "tail.1", N_FEATS, 3)
    return state


def official_edsr(state, x255, scale, res_scale, mean):
    """EDSR-PyTorch's forward on a 0..255 image."""

    def conv(name, t):
        weight = state[f"{name}.weight"]
        return F.conv2d(t, weight, state[f"{name}.bias"], padding=weight.shape[-1] // 2)

    mean255 = 255 * mean.view(1, 3, 1, 1)
    x = conv("head.0", x255 - mean255)
    res = x
    for i in range(N_BLOCKS):
        res = res + res_scale * conv(f"body.{i}.body.2", F.relu(conv(f"body.{i}.body.0", res)))
    res = conv(f"body.{N_BLOCKS}", res) + x
    factor = 3 if scale == 3 else 2
    j = 0
    while f"tail.0.{j}.weight" in state:
        res = F.pixel_shuffle(conv(f"tail.0.{j}", res), factor)
        j += 2
    return conv("tail.1", res) + mean255


def official_wdsr_state(scale, variant):
    state = {}
    out = 3 * scale * scale
    random_conv(state, "head.0", 3, N_FEATS, weight_norm=True)
    rank = int(0.8 * N_FEATS)
    for i in range(N_BLOCKS):
        if variant == "a":
            random_conv(state, f"body.{i}.body.0", N_FEATS, 4 * N_FEATS, 3, True)
            random_conv(state, f"body.{i}.body.2", 4 * N_FEATS, N_FEATS, 3, True)
        else:
            random_conv(state, f"body.{i}.body.0", N_FEATS, 6 * N_FEATS, 1, True)
            random_conv(state, f"body.{i}.body.2", 6 * N_FEATS, rank, 1, True)
            random_conv(state, f"body.{i}.body.3", rank, N_FEATS, 3, True)
    random_conv(state, "tail.0", N_FEATS, out, 3, True)
    random_conv(state, "skip.0", 3, out, 5, True)
    return state


def official_wdsr(state, x255, scale, res_scale, mean):
    """The WDSR reference forward on a 0..255 image (weight = g * v / ||v||)."""

    def conv(name, t):
        g, v = state[f"{name}.weight_g"], state[f"{name}.weight_v"]
        weight = g * v / v.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
        return F.conv2d(t, weight, state[f"{name}.bias"], padding=weight.shape[-1] // 2)

    mean255 = 255 * mean.view(1, 3, 1, 1)
    x = (x255 - mean255) / 127.5
    skip = F.pixel_shuffle(conv("skip.0", x), scale)
    h = conv("head.0", x)
    for i in range(N_BLOCKS):
        layers = sorted(
            int(key.split(".")[3])
            for key in state
            if key.startswith(f"body.{i}.body.") and key.endswith("bias")
        )
        r = F.relu(conv(f"body.{i}.body.{layers[0]}", h))
        for layer in layers[1:]:
            r = conv(f"body.{i}.body.{layer}", r)
        h = h + res_scale * r
    return (F.pixel_shuffle(conv("tail.0", h), scale) + skip) * 127.5 + mean255


def lr_batch(channels=3, h=7, w=9):
    torch.manual_seed(1)
    return torch.rand(2, channels, h, w, dtype=torch.float64)


@pytest.mark.parametrize("mean_shift", [True, False])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_edsr_import_computes_the_official_network(tmp_path, scale, mean_shift):
    torch.manual_seed(scale)
    state = official_edsr_state(scale, mean_shift)
    path = tmp_path / f"edsr_x{scale}.pt"
    torch.save(state, path)
    network = EDSR(scale, 3, N_BLOCKS, N_FEATS, res_scale=0.1).double()
    load_pretrained(network, path, "edsr_pytorch")
    lr = lr_batch()
    # Without mean shifts in the file the network keeps its own (DIV2K) mean.
    mean = CHECKPOINT_MEAN if mean_shift else DIV2K_MEAN
    expected = official_edsr(state, 255 * lr, scale, 0.1, mean) / 255
    with torch.no_grad():
        assert torch.allclose(network(lr), expected, atol=1e-10)


@pytest.mark.parametrize("variant", ["a", "b"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_wdsr_import_computes_the_official_network(tmp_path, scale, variant):
    torch.manual_seed(10 + scale)
    state = official_wdsr_state(scale, variant)
    path = tmp_path / "wdsr.pt"
    torch.save(state, path)
    network_class = WDSRA if variant == "a" else WDSRB
    network = network_class(scale, 3, N_BLOCKS, N_FEATS).double()
    load_pretrained(network, path, "wdsr")
    lr = lr_batch()
    expected = official_wdsr(state, 255 * lr, scale, 1.0, DIV2K_MEAN) / 255
    with torch.no_grad():
        assert torch.allclose(network(lr), expected, atol=1e-10)


def test_import_from_float32_file_into_float32_network(tmp_path):
    torch.manual_seed(3)
    state = {k: v.float() for k, v in official_edsr_state(2).items()}
    torch.save(state, tmp_path / "edsr.pt")
    network = load_pretrained(EDSR(2, 3, N_BLOCKS, N_FEATS), tmp_path / "edsr.pt", "edsr_pytorch")
    lr = lr_batch()
    double_state = {k: v.double() for k, v in state.items()}
    expected = official_edsr(double_state, 255 * lr, 2, 1.0, CHECKPOINT_MEAN) / 255
    with torch.no_grad():
        assert torch.allclose(network(lr.float()).double(), expected, atol=1e-4)


def test_shape_mismatch_names_key_and_both_shapes():
    state = official_edsr_state(2)
    network = EDSR(2, 3, N_BLOCKS, 16)
    with pytest.raises(WeightImportError) as error:
        load_pretrained(network, state, "edsr_pytorch")
    message = str(error.value)
    assert "'head.0.weight' is (8, 3, 3, 3) in the checkpoint" in message
    assert "'conv_first.weight' is (16, 3, 3, 3) in the network" in message


def test_grey_network_refused_for_rgb_weights():
    with pytest.raises(WeightImportError, match=r"\(8, 3, 3, 3\).*\(8, 1, 3, 3\)"):
        load_pretrained(EDSR(2, 1, N_BLOCKS, N_FEATS), official_edsr_state(2), "edsr_pytorch")


def test_missing_and_unexpected_keys_are_listed():
    state = official_wdsr_state(2, "a")
    del state["tail.0.bias"]
    state["tail.1.weight"] = torch.zeros(1)
    with pytest.raises(WeightImportError) as error:
        load_pretrained(WDSRA(2, 3, N_BLOCKS, N_FEATS), state, "wdsr")
    assert "missing keys ['tail.0.bias']" in str(error.value)
    assert "unexpected keys ['tail.1.weight']" in str(error.value)


def test_checkpoint_with_more_blocks_is_refused():
    state = official_edsr_state(2)
    with pytest.raises(WeightImportError, match=r"missing keys.*'body\.3\.weight'"):
        load_pretrained(EDSR(2, 3, N_BLOCKS + 1, N_FEATS), state, "edsr_pytorch")


def test_format_and_network_kind_must_agree():
    with pytest.raises(TypeError, match="wdsr weights need a WDSRA or WDSRB network, got EDSR"):
        load_pretrained(EDSR(2, 3, 1, 4), {}, "wdsr")
    with pytest.raises(ValueError, match="'rcan'"):
        load_pretrained(EDSR(2, 3, 1, 4), {}, "rcan")


def test_mean_shift_with_rgb_std_is_refused():
    state = official_edsr_state(2)
    state["sub_mean.weight"] = 2 * state["sub_mean.weight"]
    with pytest.raises(WeightImportError, match=r"sub_mean\.weight must be the 3x3 identity"):
        load_pretrained(EDSR(2, 3, N_BLOCKS, N_FEATS), state, "edsr_pytorch")


executed = []


def _record_execution():
    executed.append(True)
    return {}


class Payload:
    """Pickles to a call of a Python function: what a malicious weight file would carry."""

    def __reduce__(self):
        return (_record_execution, ())


def test_pickled_object_payload_is_refused_without_running_it(tmp_path):
    path = tmp_path / "payload.pt"
    torch.save({"head.0.weight": Payload()}, path)
    with pytest.raises(WeightImportError, match=re.escape(f"refused to load {path}")):
        load_pretrained(EDSR(2, 3, 1, 4), path, "edsr_pytorch")
    assert executed == []


def test_missing_and_unreadable_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nowhere\.pt"):
        load_pretrained(EDSR(2, 3, 1, 4), tmp_path / "nowhere.pt", "edsr_pytorch")
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a weight file")
    with pytest.raises(WeightImportError, match=r"broken\.pt"):
        load_pretrained(EDSR(2, 3, 1, 4), broken, "edsr_pytorch")
    listed = tmp_path / "list.pt"
    torch.save([torch.zeros(1)], listed)
    with pytest.raises(WeightImportError, match=r"list\.pt holds a list"):
        load_pretrained(EDSR(2, 3, 1, 4), listed, "edsr_pytorch")


def rgb_network(kind, scale, pixel_mean):
    torch.manual_seed(7)
    if kind == "edsr":
        network = EDSR(scale, 3, N_BLOCKS, N_FEATS, pixel_mean=pixel_mean)
    elif kind == "wdsr_a":
        network = WDSRA(scale, 3, N_BLOCKS, N_FEATS, pixel_mean=pixel_mean)
    else:
        network = WDSRB(scale, 3, N_BLOCKS, N_FEATS, pixel_mean=pixel_mean)
    network = network.double()
    with torch.no_grad():
        # Distinct biases per channel, so channel mix-ups in the fold change the output.
        for name, parameter in network.named_parameters():
            if name.endswith("bias"):
                parameter.copy_(0.05 * torch.randn_like(parameter))
    return network


@pytest.mark.parametrize("kind", ["edsr", "wdsr_a", "wdsr_b"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_folded_network_equals_grey_as_rgb_when_channel_means_agree(kind, scale):
    network = rgb_network(kind, scale, pixel_mean=0.45)
    grey = fold_to_grey(network)
    lr = lr_batch(channels=1)
    assert grey.channels == 1 and grey.scale == scale
    assert sum(p.numel() for p in grey.parameters()) < sum(p.numel() for p in network.parameters())
    with torch.no_grad():
        assert torch.allclose(grey(lr), GreyAsRGB(network)(lr), atol=1e-10)


@pytest.mark.parametrize("kind", ["edsr", "wdsr_a"])
@pytest.mark.parametrize("scale", [2, 3])
def test_folded_network_equals_grey_as_rgb_inside_with_div2k_mean(kind, scale):
    # The three channel means meet zero padding differently at the border; a pixel further
    # from the border than the receptive field (1 + 2 per block + 2 convs, in LR pixels) is exact.
    network = rgb_network(kind, scale, pixel_mean=None)
    lr = lr_batch(channels=1, h=20, w=21)
    with torch.no_grad():
        folded, as_is = fold_to_grey(network)(lr), GreyAsRGB(network)(lr)
    margin = (2 * N_BLOCKS + 4) * scale
    inner = (..., slice(margin, -margin), slice(margin, -margin))
    assert torch.allclose(folded[inner], as_is[inner], atol=1e-10)
    assert torch.allclose(fold_to_grey(network).pixel_mean, DIV2K_MEAN.mean())


def test_fold_leaves_the_rgb_network_unchanged_and_refuses_grey():
    network = rgb_network("wdsr_a", 2, None)
    before = {k: v.clone() for k, v in network.state_dict().items()}
    fold_to_grey(network)
    assert all(torch.equal(before[k], v) for k, v in network.state_dict().items())
    assert network.channels == 3
    with pytest.raises(ValueError, match="3-channel"):
        fold_to_grey(EDSR(2, 1, 1, 4))
    with pytest.raises(ValueError, match="3-channel"):
        GreyAsRGB(EDSR(2, 1, 1, 4))


def test_grey_as_rgb_averages_the_three_outputs_of_the_copied_grey():
    network = rgb_network("edsr", 2, None)
    lr = lr_batch(channels=1)
    with torch.no_grad():
        expected = network(lr.repeat(1, 3, 1, 1)).mean(dim=1, keepdim=True)
        assert torch.allclose(GreyAsRGB(network)(lr), expected)
    with pytest.raises(ValueError, match=r"\(B, 1, h, w\)"):
        GreyAsRGB(network)(lr.repeat(1, 3, 1, 1))


EDSR_CONFIG = {
    "_target_": "srmri.models.EDSR",
    "scale": 2,
    "n_blocks": N_BLOCKS,
    "n_feats": N_FEATS,
}


def test_build_network_without_pretrained_instantiates_the_target():
    network = build_network(EDSR_CONFIG)
    assert isinstance(network, EDSR) and network.channels == 1 and network.scale == 2


def test_build_network_as_is_and_adapted(tmp_path):
    torch.manual_seed(5)
    state = {k: v.float() for k, v in official_edsr_state(2).items()}
    path = tmp_path / "edsr_x2.pt"
    torch.save(state, path)
    as_is = build_network(
        EDSR_CONFIG, {"path": str(path), "format": "edsr_pytorch", "mode": "as_is"}
    )
    adapted = build_network(
        EDSR_CONFIG, {"path": path, "format": "edsr_pytorch", "mode": "adapted"}
    )
    assert isinstance(as_is, GreyAsRGB) and as_is.channels == 1
    assert isinstance(adapted, EDSR) and adapted.channels == 1
    lr = lr_batch(channels=1, h=20, w=20).float()
    double_state = {k: v.double() for k, v in state.items()}
    grey255 = 255 * lr.double().repeat(1, 3, 1, 1)
    expected = (
        official_edsr(double_state, grey255, 2, 1.0, CHECKPOINT_MEAN).mean(1, keepdim=True) / 255
    )
    with torch.no_grad():
        assert torch.allclose(as_is(lr).double(), expected, atol=1e-4)
        inner = (..., slice(16, -16), slice(16, -16))
        assert torch.allclose(adapted(lr)[inner].double(), expected[inner], atol=1e-4)


def test_build_network_structure_only_reads_no_file(tmp_path):
    config = {
        "_target_": "srmri.models.WDSRA",
        "scale": 3,
        "n_blocks": 1,
        "n_feats": 4,
        "pixel_mean": 0.5,
    }
    settings = {"path": str(tmp_path / "absent.pt"), "format": "wdsr", "mode": "as_is"}
    network = build_network(config, settings, load_weights=False)
    assert isinstance(network, GreyAsRGB)
    # The RGB network keeps the RGB mean its weights need, not the grey config value.
    assert torch.allclose(network.network.pixel_mean.flatten(), DIV2K_MEAN.float())
    with pytest.raises(FileNotFoundError, match=r"absent\.pt"):
        build_network(config, settings)


@pytest.mark.parametrize(
    ("pretrained", "match"),
    [
        ({"path": "w.pt", "format": "edsr_pytorch"}, r"missing \['mode'\]"),
        ({"path": "w.pt", "format": "edsr_pytorch", "mode": "as_is", "lr": 1}, r"unknown \['lr'\]"),
        ({"path": "w.pt", "format": "edsr_pytorch", "mode": "frozen"}, "'frozen'"),
        ({"path": "w.pt", "format": "srcnn", "mode": "as_is"}, "'srcnn'"),
    ],
)
def test_build_network_rejects_bad_pretrained_settings(pretrained, match):
    with pytest.raises(ValueError, match=match):
        build_network(EDSR_CONFIG, pretrained, load_weights=False)


def test_build_network_pretrained_needs_a_grey_network():
    settings = {"path": "w.pt", "format": "edsr_pytorch", "mode": "as_is"}
    with pytest.raises(ValueError, match=r"network\.channels must be 1"):
        build_network({**EDSR_CONFIG, "channels": 3}, settings, load_weights=False)
