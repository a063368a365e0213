import nibabel as nib
import numpy as np
import pytest
import torch

from srmri.data.records import NONZERO, DataError, Slab, VolumeRecord
from srmri.data.volume import VIEWS, load_volume, num_slices, slice_of, slice_shape

MINMAX = {"method": "minmax", "use_mask": False}


def test_slices_follow_the_documented_axis_convention():
    image = torch.arange(2 * 3 * 4).reshape(2, 3, 4)
    assert torch.equal(slice_of(image, "axial", 1), image[:, :, 1])
    assert torch.equal(slice_of(image, "coronal", 2), image[:, 2, :])
    assert torch.equal(slice_of(image, "sagittal", 0), image[0])
    for view, n, hw in (("axial", 4, (2, 3)), ("coronal", 3, (2, 4)), ("sagittal", 2, (3, 4))):
        assert num_slices(image.shape, view) == n
        assert slice_shape(image.shape, view) == hw == tuple(slice_of(image, view, 0).shape)
    with pytest.raises(IndexError, match=r"axial slice 4 is outside 0..3"):
        slice_of(image, "axial", 4)
    with pytest.raises(ValueError, match="view must be one of"):
        slice_of(image, "transverse", 0)


def test_volume_is_normalised_with_its_window(tmp_path, brain, nifti):
    image, mask = brain((20, 22, 18), seed=1)
    path = nifti(tmp_path / "a.nii.gz", image)
    mask_path = nifti(tmp_path / "a_mask.nii.gz", mask.astype(np.uint8))
    volume = load_volume(VolumeRecord("a", "T1", path, mask_path), {"lower": 1, "upper": 99})
    lo, hi = np.percentile(image[mask], [1, 99])
    assert volume.window == pytest.approx((lo, hi), rel=1e-6)
    expected = np.clip((image - lo) / (hi - lo), 0, 1)
    np.testing.assert_allclose(volume.image.numpy(), expected, atol=1e-6)
    assert volume.image.dtype == torch.float32 and volume.mask.dtype == torch.bool
    assert torch.equal(volume.mask, torch.from_numpy(mask))


def _reoriented(image: np.ndarray, affine: np.ndarray, codes: str) -> nib.Nifti1Image:
    """The same image stored in another orientation (voxel order), with its matching affine."""
    ras = nib.Nifti1Image(image, affine)
    target = nib.orientations.axcodes2ornt(tuple(codes))
    current = nib.orientations.io_orientation(affine)
    return ras.as_reoriented(nib.orientations.ornt_transform(current, target))


@pytest.mark.parametrize("codes", ["LPS", "PIR", "SAL"])
def test_another_stored_orientation_gives_the_same_ras_slices(tmp_path, brain, nifti, codes):
    image, _ = brain((20, 22, 18), seed=2)
    # A bright marker on the right (+X), anterior (+Y) and superior (+Z) side of the volume.
    image[17, 19, 15] = image.max() * 2
    affine = np.diag([1.0, 1.5, 2.0, 1.0])
    affine[:3, 3] = (-10, -16, -18)
    ras_path = nifti(tmp_path / "ras.nii.gz", image, affine)
    other = _reoriented(image, affine, codes)
    assert nib.aff2axcodes(other.affine) == tuple(codes)
    other_path = tmp_path / f"{codes}.nii.gz"
    nib.save(other, other_path)
    ras = load_volume(VolumeRecord("s", "T1", ras_path), MINMAX)
    moved = load_volume(VolumeRecord("s", "T1", other_path), MINMAX)
    np.testing.assert_allclose(moved.affine, affine, atol=1e-5)
    assert tuple(moved.image.shape) == image.shape
    for view in VIEWS:
        for k in (0, 7, num_slices(image.shape, view) - 1):
            assert torch.equal(slice_of(moved.image, view, k), slice_of(ras.image, view, k))
    assert tuple(np.argwhere(moved.image.numpy() == 1.0)[0]) == (17, 19, 15)


def test_slab_is_cut_after_normalising_the_whole_volume(tmp_path, brain, nifti):
    image, _ = brain((16, 18, 20), seed=3)
    affine = np.diag([1.0, 1.0, 2.0, 1.0])
    path = nifti(tmp_path / "v.nii.gz", image, affine)
    whole = load_volume(VolumeRecord("v", "T1", path, NONZERO), None)
    block = load_volume(VolumeRecord("v", "T1", path, NONZERO, slab=Slab(2, 5, 12)), None)
    assert block.window == whole.window
    assert torch.equal(block.image, whole.image[:, :, 5:12])
    assert torch.equal(block.mask, torch.from_numpy(image[:, :, 5:12] > 0))
    # The block's first voxel is 5 voxels of 2 mm above the volume's.
    np.testing.assert_allclose(block.affine[:3, 3], whole.affine[:3, 3] + (0, 0, 10))


def test_channel_of_a_4d_file(tmp_path, brain, nifti):
    channels = np.stack([brain((12, 14, 10), seed=s)[0] for s in range(3)], axis=-1)
    path = nifti(tmp_path / "multi.nii.gz", channels)
    volume = load_volume(VolumeRecord("m", "T2", path, channel=2), MINMAX)
    c = channels[..., 2]
    np.testing.assert_allclose(volume.image.numpy(), (c - c.min()) / (c.max() - c.min()), atol=1e-6)


@pytest.mark.parametrize(
    ("case", "error", "message"),
    [
        ("missing", FileNotFoundError, "missing.nii.gz: image file not found"),
        ("four_d", DataError, "bad.nii.gz: expected a 3-D volume, got shape"),
        ("two_d", DataError, "bad.nii.gz: expected a 3-D volume, got shape \\(8, 9\\)"),
        ("nan", DataError, "bad.nii.gz: 1 NaN/Inf voxels"),
        ("inf", DataError, "bad.nii.gz: 2 NaN/Inf voxels"),
        ("mask_shape", DataError, "mask.nii.gz: mask shape \\(8, 9, 6\\) differs from image"),
        ("mask_grid", DataError, "mask.nii.gz: mask grid \\(affine\\) differs from image"),
        ("mask_missing", FileNotFoundError, "nomask.nii.gz: mask file not found"),
        ("not_nifti", DataError, "bad.nii.gz: cannot read image as NIfTI"),
        ("constant", DataError, "bad.nii.gz: cannot normalise intensities"),
        ("channel", DataError, "bad.nii.gz: expected a 4-D volume with channel 0"),
    ],
)
def test_bad_volumes_raise_errors_that_name_the_file(tmp_path, nifti, case, error, message):
    good = np.random.default_rng(0).random((8, 9, 7)).astype(np.float32)
    bad, mask, channel = tmp_path / "bad.nii.gz", None, None
    if case == "four_d":
        nifti(bad, np.stack([good, good], axis=-1))
    elif case == "two_d":
        nifti(bad, good[:, :, 0])
    elif case in ("nan", "inf"):
        good[1, 2, 3] = np.nan if case == "nan" else np.inf
        if case == "inf":
            good[0, 0, 0] = -np.inf
        nifti(bad, good)
    elif case == "not_nifti":
        bad.write_bytes(b"this is not a NIfTI file")
    elif case == "constant":
        nifti(bad, np.full((8, 9, 7), 3.0, np.float32))
    else:
        nifti(bad, good)
    if case == "mask_shape":
        mask = nifti(tmp_path / "mask.nii.gz", np.ones((8, 9, 6), np.uint8))
    elif case == "mask_grid":
        mask = nifti(
            tmp_path / "mask.nii.gz", np.ones((8, 9, 7), np.uint8), np.diag([2, 1, 1, 1.0])
        )
    elif case == "mask_missing":
        mask = tmp_path / "nomask.nii.gz"
    elif case == "channel":
        channel = 0
    image = tmp_path / "missing.nii.gz" if case == "missing" else bad
    with pytest.raises(error, match=message):
        load_volume(VolumeRecord("s", "T1", image, mask, channel), MINMAX)
