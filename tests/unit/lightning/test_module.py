import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from skimage.metrics import structural_similarity
from torch.utils.data import DataLoader

from benchmarks.common import HRPatches, random_patches
from srmri.degradation import Degradation
from srmri.lightning.module import SRModule
from tests import reference
from tests.helpers import SCALE, quiet_trainer, trainable_module


def trainer(tmp_path, **kwargs) -> pl.Trainer:
    return quiet_trainer(tmp_path, **{"max_steps": 5, "enable_checkpointing": False, **kwargs})


def loader(
    n: int = 8, size: int = 32, seed: int = 0, batch_size: int = 4, with_mask: bool = True
) -> DataLoader:
    """Smooth random slices, with a "brain" where they exceed 0.5 when ``with_mask``."""
    hr = random_patches(n, size, seed=seed, smooth=True)
    return DataLoader(HRPatches(hr, mask_above=0.5 if with_mask else None), batch_size=batch_size)


def test_validation_scores_model_and_bicubic_against_an_independent_computation(tmp_path):
    module = trainable_module(ema={"enabled": False})
    data = loader(n=4, size=48, seed=1)
    logged = trainer(tmp_path).validate(module, data, verbose=False)[0]
    hr = data.dataset.hr
    lr = Degradation(scale=SCALE)(hr)
    with torch.no_grad():
        sr = module(lr)
    bicubic = torch.nn.functional.interpolate(lr, scale_factor=SCALE, mode="bicubic")
    for name, prediction in (("psnr", sr), ("psnr_bicubic", bicubic)):
        expected = np.mean(
            [reference.psnr(prediction[i, 0].numpy(), hr[i, 0].numpy()) for i in range(4)]
        )
        assert logged[f"val/{name}"] == pytest.approx(expected, abs=0.01)
    ssim_expected = np.mean(
        [
            structural_similarity(
                hr[i, 0].double().numpy(),
                bicubic[i, 0].clamp(0, 1).double().numpy(),
                data_range=1.0,
                gaussian_weights=True,
                sigma=1.5,
                use_sample_covariance=False,
            )
            for i in range(4)
        ]
    )
    assert logged["val/ssim_bicubic"] == pytest.approx(ssim_expected, abs=1e-4)
    assert logged["val/psnr_gain"] == pytest.approx(logged["val/psnr"] - logged["val/psnr_bicubic"])
    mask = hr > 0.5
    brain = np.mean(
        [
            reference.psnr(bicubic[i, 0].numpy(), hr[i, 0].numpy(), mask[i, 0].numpy())
            for i in range(4)
        ]
    )
    assert logged["val/psnr_brain_bicubic"] == pytest.approx(brain, abs=0.01)


def test_ema_is_what_validation_uses_and_it_differs_from_the_live_weights(tmp_path):
    module = trainable_module()
    start = [p.detach().clone() for p in module.network.parameters()]
    trainer(tmp_path, max_steps=6).fit(module, loader())
    live = list(module.network.parameters())
    average = list(module.ema.average.parameters())
    assert int(module.ema.updates) == 6
    assert any(not torch.equal(a, s) for a, s in zip(average, start, strict=True))
    assert any(not torch.allclose(a, p) for a, p in zip(average, live, strict=True))
    lr = torch.rand(1, 1, 16, 16)
    with torch.no_grad():
        assert torch.equal(module(lr), module.ema.average(lr))
        assert not torch.allclose(module(lr), module.network(lr))


def test_checkpoint_reloads_safely_and_gives_identical_outputs(tmp_path):
    module = trainable_module()
    fit = trainer(tmp_path, max_steps=3)
    fit.fit(module, loader())
    path = tmp_path / "model.ckpt"
    fit.save_checkpoint(path)
    # Everything a checkpoint holds is plain data: loadable without unpickling code.
    torch.load(path, weights_only=True, map_location="cpu")
    restored = SRModule.load_from_checkpoint(path, map_location="cpu")
    assert restored.scale == SCALE
    assert restored.hparams.degradation == module.hparams.degradation
    assert restored.hparams.normalisation["method"] == "percentile"
    module.eval()
    restored.eval()
    lr = torch.rand(2, 1, 20, 24)
    with torch.no_grad():
        assert torch.equal(module(lr), restored(lr))


@pytest.mark.parametrize("precision", ["bf16-mixed", "32-true"])
def test_mixed_precision_and_channels_last_train_to_finite_scores(tmp_path, precision):
    module = trainable_module(channels_last=True)
    fit = trainer(tmp_path, max_steps=3, precision=precision, limit_val_batches=1)
    fit.fit(module, loader(), loader(n=4, seed=2))
    assert torch.isfinite(fit.callback_metrics["train/loss"])
    assert torch.isfinite(fit.callback_metrics["val/psnr"])


def test_losses_l2_and_l1_ssim_train(tmp_path):
    for loss in ({"name": "l2"}, {"name": "l1_ssim", "ssim_weight": 0.5}):
        fit = trainer(tmp_path, max_steps=2)
        fit.fit(trainable_module(loss=loss), loader())
        assert torch.isfinite(fit.callback_metrics["train/loss"])


def test_scale_mismatch_between_network_and_degradation_is_refused():
    with pytest.raises(ValueError, match="x2 differs from degradation scale x4"):
        trainable_module(degradation={"scale": 4})


@pytest.mark.slow
def test_checkpoint_of_a_compiled_model_loads_uncompiled(tmp_path):
    module = trainable_module(compile=True)
    fit = trainer(tmp_path, max_steps=2)
    fit.fit(module, loader(n=4))
    path = tmp_path / "compiled.ckpt"
    fit.save_checkpoint(path)
    state = torch.load(path, weights_only=True)["state_dict"]
    assert not any("_orig_mod" in key for key in state)
    restored = SRModule.load_from_checkpoint(path, compile=False)
    lr = torch.rand(1, 1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(restored(lr), module(lr))


def test_imported_weights_are_loaded_when_a_fresh_fit_starts(tmp_path):
    from srmri.models import EDSR
    from srmri.models.keymaps import edsr_pytorch_keys

    network = {
        "_target_": "srmri.models.EDSR",
        "scale": SCALE,
        "channels": 1,
        "n_blocks": 1,
        "n_feats": 8,
    }
    rgb = EDSR(scale=SCALE, channels=3, n_blocks=1, n_feats=8)
    for parameter in rgb.parameters():
        torch.nn.init.normal_(parameter, std=0.05)
    # The file as EDSR-PyTorch writes it (0..255 range: biases x255) holds the same function.
    ours = rgb.state_dict()
    public = {
        theirs: ours[mine] * (255.0 if mine.endswith("bias") else 1.0)
        for theirs, mine in edsr_pytorch_keys(rgb).items()
    }
    path = tmp_path / "edsr_rgb.pt"
    torch.save(public, path)
    module = trainable_module(
        network=network,
        pretrained={"path": str(path), "format": "edsr_pytorch", "mode": "as_is"},
        optimizer={"_target_": "torch.optim.SGD", "_partial_": True, "lr": 0.0},
    )
    before = module.network.network.conv_first.weight.detach().clone()
    trainer(tmp_path, max_steps=1).fit(module, loader(n=4))
    loaded = module.network.network.conv_first.weight.detach()
    assert not torch.equal(before, loaded)
    assert torch.allclose(loaded, rgb.conv_first.weight)
    assert torch.allclose(module.network.network.conv_first.bias, rgb.conv_first.bias)
    assert torch.allclose(module.ema.average.network.conv_first.weight, rgb.conv_first.weight)
