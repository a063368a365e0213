import itertools
import json

import numpy as np
import torch
from nilearn.datasets import load_mni152_brain_mask, load_mni152_template

from srmri.data.records import SPLITS
from srmri.data.sources.mni152 import Mni152Source
from srmri.data.volume import load_volume


def test_slabs_are_disjoint_blocks_of_the_template(srmri_cache, tmp_path):
    source = Mni152Source(srmri_cache, gap=4, split_dir=tmp_path / "run")
    splits = source.splits()
    slabs = {name: splits[name][0].slab for name in SPLITS}
    assert {slab.axis for slab in slabs.values()} == {2}  # superior-inferior, held by axial slices
    ordered = [slabs[name] for name in SPLITS]
    for below, above in itertools.pairwise(ordered):
        assert above.start - below.stop == 4
    mask = load_mni152_brain_mask(resolution=1).get_fdata() > 0
    z = np.flatnonzero(mask.any(axis=(0, 1)))
    assert ordered[0].start == z[0] and ordered[-1].stop == z[-1] + 1
    written = json.loads((tmp_path / "run" / "split.json").read_text())
    assert [written[name] for name in SPLITS] == [[s.start, s.stop] for s in ordered]

    # The test block holds exactly the template's voxels there (normalised as the whole volume).
    template = load_mni152_template(resolution=1).get_fdata()
    test = load_volume(splits["test"][0], {"lower": 0.5, "upper": 99.5})
    lo, hi = np.percentile(template[mask], [0.5, 99.5])
    block = template[:, :, slabs["test"].start : slabs["test"].stop]
    np.testing.assert_allclose(
        test.image.numpy(), np.clip((block - lo) / (hi - lo), 0, 1), atol=1e-5
    )
    assert torch.equal(
        test.mask, torch.from_numpy(mask[:, :, slabs["test"].start : slabs["test"].stop])
    )
    # World z of the block's first voxel: the template's origin plus start voxels of 1 mm.
    assert (
        test.affine[2, 3] == load_mni152_template(resolution=1).affine[2, 3] + slabs["test"].start
    )


def test_files_are_written_once_into_the_cache(srmri_cache):
    source = Mni152Source(srmri_cache)
    source.prepare()
    stamp = source.image_path.stat().st_mtime_ns
    source.prepare()
    assert source.image_path.stat().st_mtime_ns == stamp
    assert source.image_path.is_relative_to(srmri_cache) and source.mask_path.is_file()
    assert not list(source.folder.glob(".tmp.*"))
