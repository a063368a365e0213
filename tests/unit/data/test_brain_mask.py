import numpy as np
import torch

from srmri.data import Volume, VolumeRecord
from srmri.data.brain_mask import automatic_mask, brain_mask


def test_automatic_mask_keeps_the_largest_component_and_fills_its_holes():
    image = np.zeros((30, 30, 30), dtype=np.float32)
    grid = np.stack(np.meshgrid(*[np.arange(30)] * 3, indexing="ij"))
    head = ((grid - 15) ** 2).sum(0) <= 10**2
    hole = ((grid - 15) ** 2).sum(0) <= 3**2
    image[head] = 0.8
    image[hole] = 0.0  # a dark ventricle inside
    image[1:3, 1:3, 1:3] = 0.9  # a bright speck apart from the head
    mask = automatic_mask(torch.from_numpy(image), threshold=0.1).numpy()
    assert np.array_equal(mask, head)


def test_given_mask_is_used_when_present_and_asked_for():
    image = torch.rand(8, 8, 8)
    given = torch.zeros(8, 8, 8, dtype=torch.bool)
    given[2:5, 2:5, 2:5] = True
    volume = Volume(VolumeRecord("s", "T1", "x.nii.gz"), image, given, np.eye(4), (0.0, 1.0))
    mask, source = brain_mask(volume, use_given=True, threshold=0.5)
    assert source == "given" and torch.equal(mask, given)
    mask, source = brain_mask(volume, use_given=False, threshold=0.5)
    assert source == "automatic" and torch.equal(mask, automatic_mask(image, 0.5))
