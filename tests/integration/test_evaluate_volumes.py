"""evaluate.py with a 3-D checkpoint: volumes scored whole and slice by slice, a slice model and
tricubic on the same voxels, against computations written here (SciPy's cubic spline, the
networks run untiled, NumPy PSNR, scikit-image's 3-D SSIM)."""

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from scipy import ndimage
from skimage.metrics import structural_similarity

from benchmarks.common import compose
from srmri.data import SRDataModule
from srmri.data.brain_mask import brain_mask
from srmri.data.sources import NiftiFolderSource
from srmri.degradation import Degradation
from srmri.tasks.evaluate import evaluate
from tests import reference
from tests.helpers import (
    DEGRADATION_3D,
    NORMALISATION,
    TINY_WDSR_3D,
    save_checkpoint,
    tiny_module,
)
from tests.volumes import synthetic_brain

SHAPE = (36, 40, 28)
FIXED = {"train": ["sub0"], "val": ["sub1"], "test": ["sub2"]}


def scans(root: Path) -> Path:
    root.mkdir()
    for s in range(3):
        image, _ = synthetic_brain(SHAPE, seed=s, radius=0.7, frequency=3)
        nib.save(nib.Nifti1Image(image, np.eye(4)), root / f"sub{s}_T1.nii.gz")
    return root


def spline(volume: np.ndarray, scale: int, axes: tuple[int, ...]) -> np.ndarray:
    """SciPy's cubic B-spline (mirror boundary) at HR coordinates ``(i + 0.5) / s - 0.5`` along
    ``axes``; the other axes are sampled at their own integer positions (the data itself)."""
    grids = [
        (np.arange(n * scale) + 0.5) / scale - 0.5 if a in axes else np.arange(n, dtype=float)
        for a, n in enumerate(volume.shape)
    ]
    points = np.meshgrid(*grids, indexing="ij")
    return ndimage.map_coordinates(volume.astype(np.float64), points, order=3, mode="mirror")


@pytest.mark.slow
def test_a_3d_checkpoint_report_scores_volumes_and_slices_on_the_same_voxels(tmp_path):
    root = scans(tmp_path / "scans")
    vol = tiny_module(TINY_WDSR_3D, degradation=DEGRADATION_3D, name="vol").eval()
    net = tiny_module(name="net", seed=1).eval()
    paths = {
        m.hparams.name: save_checkpoint(m, tmp_path / f"{m.hparams.name}.ckpt") for m in (vol, net)
    }
    cfg = compose(
        "evaluate",
        [
            "data=nifti_folder",
            f"data.source.root={root}",
            f"data.source.fixed={FIXED}".replace("'", ""),
            f"paths.output_dir={tmp_path / 'run'}",
            f"output_dir={tmp_path / 'out'}",
            f"ckpt_path={{vol: {paths['vol']}, net: {paths['net']}}}",
            "views=[axial]",
            "angles=[0,90]",
            "baselines=[bicubic,lanczos]",
            "progress=false",
        ],
    )
    summary = evaluate(cfg)

    # What the run should have scored, computed here.
    source = NiftiFolderSource(root, fixed=FIXED)
    volume = SRDataModule(source, normalisation=NORMALISATION).volumes("test")[0]
    unclipped = volume.image[: SHAPE[0] // 2 * 2, : SHAPE[1] // 2 * 2, : SHAPE[2] // 2 * 2]
    mask = brain_mask(volume, True, 0.1)[0][: unclipped.shape[0], : unclipped.shape[1]]
    mask = mask[..., : unclipped.shape[2]].numpy()
    lr = Degradation(2, spatial_dims=3)(unclipped[None, None].float())
    hr = unclipped.clamp(0, 1).double().numpy()
    lr_np = lr[0, 0].double().numpy()
    with torch.no_grad():
        in_plane = torch.cat(
            [net(lr[0, 0].permute(2, 0, 1)[k : k + 1, None]) for k in range(lr.shape[-1])]
        )
        expected = {
            "tricubic": spline(lr_np, 2, (0, 1, 2)),
            "vol": vol(lr)[0, 0].double().numpy(),
            # The slice model on each axial LR slice, then the spline along z alone.
            "net": spline(in_plane[:, 0].permute(1, 2, 0).double().numpy(), 2, (2,)),
        }

    assert summary["methods"] == ["tricubic", "vol", "net"]
    assert summary["reference"] == "tricubic"
    notes = " ".join(summary["setup"]["notes"])
    assert "lanczos has no 3-D form" in notes and "reduced to [0]" in notes
    by_volume = {(r["method"], r["region"]): r for r in summary["volumes"]}
    for name, sr in expected.items():
        assert by_volume[name, "image"]["psnr"] == pytest.approx(reference.psnr(sr, hr), abs=2e-3)
        assert by_volume[name, "brain"]["psnr"] == pytest.approx(
            reference.psnr(sr, hr, mask.astype(bool)), abs=2e-3
        )
        ssim = structural_similarity(
            np.clip(sr, 0, 1),
            hr,
            data_range=1.0,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        assert by_volume[name, "image"]["ssim"] == pytest.approx(ssim, abs=1e-4)

    # Per axial slice: the rows of metrics.csv, for every method on the same slices.
    with (tmp_path / "out" / "metrics.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle) if r["region"] == "image"]
    per_slice = {
        name: [reference.psnr(sr[..., k], hr[..., k]) for k in range(hr.shape[2])]
        for name, sr in expected.items()
    }
    for name, values in per_slice.items():
        got = [float(r["psnr"]) for r in rows if r["method"] == name]
        np.testing.assert_allclose(got, values, atol=2e-3)
    gain = summary["gains_over_tricubic"]["vol"]["axial"]["image"]["psnr"]["mean"]
    assert gain == pytest.approx(
        np.mean(per_slice["vol"]) - np.mean(per_slice["tricubic"]), abs=2e-3
    )
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Scores per volume" in report and "## Gains over tricubic" in report
