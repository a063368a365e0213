import numpy as np
import torch

from srmri.data.records import VolumeRecord
from srmri.data.slicing import slice_table
from srmri.data.volume import Volume


def _volume(image: np.ndarray, mask: np.ndarray | None) -> Volume:
    return Volume(
        VolumeRecord("s", "T1", "s.nii.gz"),
        torch.from_numpy(image.astype(np.float32)),
        None if mask is None else torch.from_numpy(mask),
        np.eye(4),
        (0.0, 1.0),
    )


def test_table_keeps_slices_with_enough_foreground_and_their_boxes(brain):
    image, mask = brain((20, 24, 16), seed=0)
    volumes = [_volume(image / image.max(), mask)]
    table = slice_table(volumes, ["axial", "sagittal"], min_foreground=0.2, level=0.5)
    for w, (axis, view_mask) in enumerate(((2, mask.transpose(2, 0, 1)), (0, mask))):
        kept = table.index[table.view == w]
        fractions = view_mask.reshape(view_mask.shape[0], -1).mean(axis=1)
        np.testing.assert_array_equal(kept, np.flatnonzero(fractions >= 0.2))
        for k, box in zip(kept, table.box[table.view == w], strict=True):
            rows, cols = np.nonzero(view_mask[k])
            assert tuple(box) == (rows.min(), rows.max(), cols.min(), cols.max())
        assert 0 < len(kept) < mask.shape[axis]


def test_without_a_mask_foreground_is_the_intensity_level():
    image = np.zeros((6, 6, 4))
    image[:, :, 1] = 0.3  # every voxel of axial slice 1 is faint
    image[1:3, 2:5, 2] = 0.9  # a small bright patch in slice 2
    table = slice_table([_volume(image, None)], ["axial"], min_foreground=0.0, level=0.5)
    assert list(table.index) == [0, 1, 2, 3]
    assert tuple(table.box[2]) == (1, 2, 2, 4)
    assert tuple(table.box[1]) == (0, 5, 0, 5)  # no foreground: the whole slice
    kept = slice_table([_volume(image, None)], ["axial"], min_foreground=0.1, level=0.2)
    assert list(kept.index) == [1, 2]
