import json
from types import SimpleNamespace

import nibabel as nib
import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from srmri.data.datamodule import SRDataModule
from srmri.data.records import SPLITS, DataError
from srmri.data.sources.folder import NiftiFolderSource
from srmri.data.volume import VIEWS
from srmri.degradation import Degradation
from tests.helpers import quiet_trainer

SHAPE = (30, 35, 26)
SLICE_SHAPES = {"axial": (30, 35), "coronal": (30, 26), "sagittal": (35, 26)}  # (X,Y) (X,Z) (Y,Z)
MASKS = "masks/{subject}_{contrast}_mask.nii.gz"


def _datamodule(root, mask=MASKS, split_dir=None, **kwargs) -> SRDataModule:
    source = NiftiFolderSource(
        root,
        patterns=["*.nii.gz"],
        mask=mask,
        fractions={"train": 0.5, "val": 0.25, "test": 0.25},
        split_dir=split_dir,
    )
    settings = {"scale": 2, "patch_size": 24, "batch_size": 8, "samples_per_epoch": 32}
    return SRDataModule(source, **{**settings, **kwargs})


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_patch_and_slice_shapes(make_folder, scale, view):
    dm = _datamodule(make_folder(subjects=4, contrasts=("T1",)), scale=scale, views=[view])
    dm.setup("fit")
    train = next(iter(dm.train_dataloader()))
    assert train["hr"].shape == (8, 1, 24, 24) and train["mask"].shape == (8, 1, 24, 24)
    assert train["hr"].dtype == torch.float32 and 0 <= train["hr"].min() <= train["hr"].max() <= 1
    height, width = SLICE_SHAPES[view]
    expected = (height - height % scale, width - width % scale)
    for split, loader in (("val", dm.val_dataloader()), ("test", dm.test_dataloader())):
        batches = list(loader)
        assert batches, split
        for batch in batches:
            assert batch["hr"].shape[1:] == (1, *expected)
            assert batch["mask"].shape == batch["hr"].shape and batch["mask"].dtype == torch.bool
            assert set(batch["view"]) == {view} and batch["slice"].dtype == torch.int64
            assert len(batch["subject"]) == len(batch["contrast"]) == batch["hr"].shape[0]


def _cubic(x: np.ndarray, a: float) -> np.ndarray:
    x = np.abs(x)
    near = (a + 2) * x**3 - (a + 3) * x**2 + 1
    far = a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


def _antialiased_bicubic(n: int, s: int) -> np.ndarray:
    """(n/s, n) matrix: Keys cubic (a=-0.5) stretched by s, cut at the border, renormalised."""
    out = np.arange(n // s)[:, None]
    offset = np.arange(n)[None, :] + 0.5 - s * (out + 0.5)
    weights = _cubic(offset / s, -0.5)
    return weights / weights.sum(axis=1, keepdims=True)


def _plain_bicubic(n: int, s: int) -> np.ndarray:
    """(n/s, n) matrix: Keys cubic (a=-0.75) at 4 taps, borders replicated (OpenCV INTER_CUBIC)."""
    matrix = np.zeros((n // s, n))
    for i in range(n // s):
        source = (i + 0.5) * s - 0.5
        base = np.floor(source)
        for tap in (-1, 0, 1, 2):
            matrix[i, int(np.clip(base + tap, 0, n - 1))] += _cubic(tap - (source - base), -0.75)
    return matrix


def _gaussian_blur(image: np.ndarray, size: int = 3, sigma: float = 1.0) -> np.ndarray:
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    kernel = np.outer(g, g) / np.outer(g, g).sum()
    pad = size // 2
    padded = np.pad(image, pad, mode="reflect")
    h, w = image.shape
    return sum(
        kernel[i, j] * padded[i : i + h, j : j + w] for i in range(size) for j in range(size)
    )


def _reference_lr(hr: np.ndarray, scale: int, preset: str) -> np.ndarray:
    h, w = hr.shape
    if preset == "seed":
        down = _antialiased_bicubic(h, scale) @ hr @ _antialiased_bicubic(w, scale).T
        return np.clip(_gaussian_blur(down), 0, 1)
    blurred = _gaussian_blur(hr)
    return np.clip(_plain_bicubic(h, scale) @ blurred @ _plain_bicubic(w, scale).T, 0, 1)


@pytest.mark.parametrize("preset", ["seed", "thesis_opencv"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_lr_of_the_batches_matches_an_independent_computation(make_folder, scale, preset):
    dm = _datamodule(make_folder(subjects=4, contrasts=("T1",)), scale=scale, views=["coronal"])
    degradation = Degradation(scale, preset)
    for batch in (next(iter(dm.train_dataloader())), next(iter(dm.val_dataloader()))):
        lr = degradation(batch["hr"])
        assert lr.shape[-2:] == (batch["hr"].shape[-2] // scale, batch["hr"].shape[-1] // scale)
        for hr_image, lr_image in zip(
            batch["hr"][:, 0].double().numpy(), lr[:, 0].numpy(), strict=True
        ):
            np.testing.assert_allclose(lr_image, _reference_lr(hr_image, scale, preset), atol=1e-6)


def test_foreground_filter_and_mask_presence(make_folder):
    root = make_folder(subjects=4, contrasts=("T1",))
    dm = _datamodule(root, views=["sagittal"], min_foreground=0.3)
    for split in SPLITS:
        fractions = []
        for volume in dm.volumes(split):
            mask = nib.load(volume.record.mask).get_fdata() > 0
            fractions.append(mask.reshape(mask.shape[0], -1).mean(axis=1))
        kept = [
            list(dm.table(split).index[dm.table(split).volume == v]) for v in range(len(fractions))
        ]
        if split == "test":
            assert kept == [list(range(SHAPE[0]))] * len(fractions)
        else:
            assert kept == [list(np.flatnonzero(f >= 0.3)) for f in fractions]
    unmasked = _datamodule(root, mask=None)
    assert not unmasked.has_masks
    assert set(next(iter(unmasked.train_dataloader()))) == {"hr"}
    assert "mask" not in next(iter(unmasked.test_dataloader()))


def _epoch(dm: SRDataModule, epoch: int, loader=None) -> torch.Tensor:
    loader = loader or dm.train_dataloader()
    loader.sampler.set_epoch(epoch)
    return torch.cat([batch["hr"] for batch in loader])


def test_samples_depend_on_seed_epoch_and_index_only(make_folder):
    root = make_folder(subjects=4, contrasts=("T1",))
    single = _datamodule(root, num_workers=0, batch_size=8)
    workers = _datamodule(root, num_workers=2, batch_size=5)
    loader = workers.train_dataloader()
    first, second = _epoch(workers, 0, loader), _epoch(workers, 1, loader)
    assert torch.equal(first, _epoch(single, 0))
    assert torch.equal(second, _epoch(single, 1))  # a run resumed at epoch 1 replays it
    assert not torch.equal(first, second)
    assert not torch.equal(first, _epoch(_datamodule(root, seed=1), 0))


def test_distributed_ranks_share_no_sample_and_every_slice_once(make_folder):
    root = make_folder(subjects=4, contrasts=("T1",))
    whole = _datamodule(root, views=list(VIEWS), samples_per_epoch=30)
    ranks = []
    for rank in range(2):
        dm = _datamodule(root, views=list(VIEWS), samples_per_epoch=30)
        dm.trainer = SimpleNamespace(world_size=2, global_rank=rank)
        ranks.append(dm)
    shards = [_epoch(dm, 1) for dm in ranks]
    assert [len(s) for s in shards] == [15, 15]
    together = torch.cat(shards).flatten(1)
    everything = _epoch(whole, 1).flatten(1)
    assert torch.equal(torch.unique(together, dim=0), torch.unique(everything, dim=0))
    for split, loader in (("val", "val_dataloader"), ("test", "test_dataloader")):
        seen = [
            (subject, view, k)
            for dm in ranks
            for batch in getattr(dm, loader)()
            for subject, view, k in zip(
                batch["subject"], batch["view"], batch["slice"].tolist(), strict=True
            )
        ]
        assert len(seen) == len(set(seen)) == len(whole.table(split))


class _Recorder(pl.LightningModule):
    """Fits one parameter; remembers what the datamodule handed to it."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(()))
        self.train_batches: dict[int, list[torch.Tensor]] = {}
        self.val_views: list[str] = []

    def training_step(self, batch, batch_idx):
        self.train_batches.setdefault(self.current_epoch, []).append(batch["hr"])
        return (batch["hr"].mean() - self.weight) ** 2

    def validation_step(self, batch, batch_idx):
        self.val_views += batch["view"]

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_lightning_fit_sets_the_epoch_and_validates(make_folder, tmp_path, snapshot):
    root = make_folder(subjects=4, contrasts=("T1", "T2"))
    before = snapshot(root)
    dm = _datamodule(root, views=["axial", "coronal"], split_dir=tmp_path / "run")
    model = _Recorder()
    trainer = quiet_trainer(
        tmp_path, max_epochs=2, enable_checkpointing=False, use_distributed_sampler=False
    )
    trainer.fit(model, datamodule=dm)
    fresh = _datamodule(root, views=["axial", "coronal"])
    for epoch in (0, 1):
        assert torch.equal(torch.cat(model.train_batches[epoch]), _epoch(fresh, epoch))
    assert set(model.val_views) == {"axial", "coronal"}
    assert len(model.val_views) == 2 * len(dm.table("val"))  # two epochs of validation
    assert snapshot(root) == before  # nothing written next to the data
    assert (tmp_path / "run" / "split.json").is_file()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"scale": 3, "patch_size": 32},
            "data.patch_size=32: expected a positive multiple of scale 3",
        ),
        ({"scale": 5}, "data.scale=5: expected one of"),
        (
            {"views": ["axial", "oblique"]},
            "data.views=.*expected a non-empty list of distinct views",
        ),
        ({"normalisation": {"method": "zscore"}}, "normalisation.method must be one of"),
    ],
)
def test_bad_settings_are_named(make_folder, settings, message):
    with pytest.raises(ValueError, match=message):
        _datamodule(make_folder(subjects=3, contrasts=("T1",)), **settings)


def test_volumes_smaller_than_the_patch_and_empty_slices_are_errors(make_folder):
    root = make_folder(subjects=3, contrasts=("T1",))
    with pytest.raises(
        DataError, match=r"sub0\d_T1.nii.gz: sagittal slices are 35x26, smaller than patch_size 28"
    ):
        _datamodule(root, views=["sagittal"], patch_size=28).train_dataloader()
    with pytest.raises(
        DataError, match=r"no training slice has a foreground fraction >= min_foreground=1.0"
    ):
        _datamodule(root, min_foreground=1.0).train_dataloader()


class _RankRecorder(_Recorder):
    """Writes what each rank saw to ``folder/rank{r}.json`` (ranks run in other processes)."""

    def __init__(self, folder) -> None:
        super().__init__()
        self.folder = folder
        self.val_slices: list[tuple] = []

    def validation_step(self, batch, batch_idx):
        keys = zip(batch["subject"], batch["view"], batch["slice"].tolist(), strict=True)
        self.val_slices += [list(key) for key in keys]

    def on_train_end(self) -> None:
        hr = torch.cat(self.train_batches[0]).flatten(1)
        record = {"train": hr.sum(1).tolist(), "val": self.val_slices}
        (self.folder / f"rank{self.global_rank}.json").write_text(json.dumps(record))


def test_real_ddp_run_shards_train_samples_and_eval_slices(make_folder, tmp_path):
    root = make_folder(subjects=4, contrasts=("T1",))
    dm = _datamodule(root, views=["axial", "sagittal"], samples_per_epoch=40, batch_size=4)
    trainer = quiet_trainer(
        tmp_path,
        max_epochs=1,
        devices=2,
        strategy="ddp_fork",
        enable_checkpointing=False,
        use_distributed_sampler=False,
    )
    trainer.fit(_RankRecorder(tmp_path), datamodule=dm)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    reference = _epoch(_datamodule(root, views=["axial", "sagittal"], samples_per_epoch=40), 0)
    train = sorted(ranks[0]["train"] + ranks[1]["train"])
    assert len(ranks[0]["train"]) == len(ranks[1]["train"]) == 20
    assert train == pytest.approx(sorted(reference.flatten(1).sum(1).tolist()), rel=1e-6)
    seen = [tuple(key) for rank in ranks for key in rank["val"]]
    assert len(seen) == len(set(seen)) == len(dm.table("val"))


def test_evaluation_only_folder_has_test_slices_and_no_training(make_folder):
    root = make_folder(subjects=3, contrasts=("T1",))
    source = NiftiFolderSource(root, patterns=["*.nii.gz"], fixed={"test": ["sub00", "sub02"]})
    dm = SRDataModule(source, patch_size=24)
    assert [r.subject for r in dm.records("test")] == ["sub00", "sub02"]
    assert sum(len(batch["subject"]) for batch in dm.test_dataloader()) == 2 * SHAPE[2]
    with pytest.raises(DataError, match="gave no training volume"):
        dm.train_dataloader()
