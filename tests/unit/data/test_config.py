"""The Hydra data configs compose, interpolate the root keys and instantiate working datamodules."""

import json

import numpy as np
import pytest
from hydra.utils import instantiate

from benchmarks.common import CONF, compose
from srmri.data.datamodule import SRDataModule
from srmri.data.records import SPLITS


@pytest.fixture
def compose_data(tmp_path):
    """Compose ``data=<name>`` under a minimal root config that has the keys data configs use."""
    root = tmp_path / "conf"
    root.mkdir()
    (root / "root.yaml").write_text(
        "defaults:\n  - data: mni152\n  - _self_\n"
        f"hydra:\n  searchpath:\n    - file://{CONF}\n"
        "seed: 11\n"
        f"paths:\n  cache_dir: {tmp_path / 'cache'}\n  data_dir: {tmp_path / 'data'}\n"
        f"  output_dir: {tmp_path / 'run'}\n"
    )

    def make(name: str, *overrides: str):
        return compose("root", [f"data={name}", *overrides], config_dir=root)

    return make


@pytest.mark.parametrize("name", ["mni152", "nifti_folder", "ixi", "msd_brain"])
def test_every_data_config_composes_with_one_scale_value(compose_data, name):
    for scale in (2, 3, 4):
        cfg = compose_data(name, f"data.scale={scale}")
        assert cfg.data._target_ == "srmri.data.SRDataModule"
        assert cfg.data.scale == scale and cfg.data.patch_size % scale == 0
        assert cfg.data.seed == 11 and cfg.data.source.split_dir.endswith("run")


def test_default_mni152_config_gives_batches(compose_data, srmri_cache, tmp_path):
    cfg = compose_data("mni152", f"paths.cache_dir={srmri_cache}")
    dm = instantiate(cfg.data)
    assert isinstance(dm, SRDataModule)
    dm.prepare_data()
    batch = next(iter(dm.train_dataloader()))
    assert batch["hr"].shape == (cfg.data.batch_size, 1, cfg.data.patch_size, cfg.data.patch_size)
    assert batch["mask"].any()
    split = json.loads((tmp_path / "run" / "split.json").read_text())
    assert split["by"] == "slab" and split["train"][1] < split["val"][0]


def test_ixi_preset_parses_ixi_names(compose_data, tmp_path, brain, nifti):
    names = {
        "IXI-T1/IXI002-Guys-0828-T1.nii.gz": ("IXI002", "T1"),
        "IXI-T2/IXI002-Guys-0828-T2.nii.gz": ("IXI002", "T2"),
        "IXI-PD/IXI012-HH-1211-PD.nii.gz": ("IXI012", "PD"),
        "IXI-T1/IXI012-HH-1211-T1.nii.gz": ("IXI012", "T1"),
        "IXI-T2/IXI013-HH-1212-T2.nii.gz": ("IXI013", "T2"),
    }
    for i, name in enumerate(names):
        nifti(tmp_path / "data" / "IXI" / name, brain((20, 22, 16), seed=i)[0])
    dm = instantiate(compose_data("ixi").data)
    found = {(r.subject, r.contrast) for split in SPLITS for r in dm.records(split)}
    assert found == set(names.values())
    homes = {r.subject: split for split in SPLITS for r in dm.records(split)}
    assert all(homes[r.subject] == split for split in SPLITS for r in dm.records(split))
    assert not dm.has_masks
    assert dm.volumes("train")[0].mask is None


def test_msd_brain_config_reads_the_task_folder(compose_data, msd_root):
    cfg = compose_data(
        "msd_brain",
        f"paths.data_dir={msd_root.parent}",
        "data.views=[coronal]",
        "data.num_workers=0",
    )
    dm = instantiate(cfg.data)
    dm.prepare_data()  # download is off: nothing to do
    records = [r for split in SPLITS for r in dm.records(split)]
    assert len(records) == 16 and {r.channel for r in records} == {0, 1, 2, 3}
    batch = next(iter(dm.val_dataloader()))
    assert batch["view"][0] == "coronal" and batch["mask"].shape == batch["hr"].shape


def test_nifti_folder_config_with_fixed_lists(compose_data, make_folder):
    root = make_folder(subjects=4, contrasts=("T1",), masks=False)
    cfg = compose_data(
        "nifti_folder",
        f"data.source.root={root}",
        "+data.source.fixed={train: [sub00, sub01], val: [sub02], test: [sub03]}",
        "data.num_workers=0",
        "data.patch_size=24",
    )
    dm = instantiate(cfg.data)
    assert [r.subject for r in dm.records("val")] == ["sub02"]
    hr = next(iter(dm.train_dataloader()))["hr"]
    assert hr.shape[-1] == 24 and np.isfinite(hr.numpy()).all()
