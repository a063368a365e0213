import json

import nibabel as nib
import numpy as np
import pytest

from srmri.data.records import NONZERO, DataError
from srmri.data.sources.msd import MsdBrainSource
from srmri.data.volume import load_volume


def test_one_record_per_case_and_contrast_reading_its_channel(msd_root):
    source = MsdBrainSource(msd_root, contrasts=["T1w", "T2w"])
    records = source.find_records()
    assert [(r.subject, r.contrast, r.channel) for r in records[:2]] == [
        ("BRATS_001", "T1w", 1),
        ("BRATS_001", "T2w", 3),
    ]
    assert len(records) == 8 and all(r.mask == NONZERO for r in records)
    volume = load_volume(records[1], {"method": "minmax", "use_mask": False})
    raw = np.asarray(nib.load(records[1].image).dataobj)[..., 3]
    np.testing.assert_allclose(volume.image.numpy(), (raw - raw.min()) / np.ptp(raw), atol=1e-6)
    assert np.array_equal(volume.mask.numpy(), raw > 0)
    splits = source.splits()
    subjects = [{r.subject for r in splits[name]} for name in ("train", "val", "test")]
    assert sum(len(s) for s in subjects) == 4 and len(set().union(*subjects)) == 4


def test_missing_data_says_what_is_missing_and_how_to_get_it(tmp_path, msd_root):
    with pytest.raises(
        FileNotFoundError, match=r"Task01_BrainTumour/dataset.json is missing.*download=true"
    ):
        MsdBrainSource(tmp_path / "elsewhere").find_records()
    (msd_root / "Task01_BrainTumour" / "imagesTr" / "BRATS_003.nii.gz").unlink()
    with pytest.raises(
        FileNotFoundError,
        match=r"1 of 4 images listed in .*dataset.json are missing .*BRATS_003.nii.gz",
    ):
        MsdBrainSource(msd_root).find_records()
    with pytest.raises(DataError, match="contrast\\(s\\) \\['T1'\\] not in its modalities"):
        MsdBrainSource(msd_root, contrasts=["T1"]).find_records()
    manifest = msd_root / "Task01_BrainTumour" / "dataset.json"
    manifest.write_text(json.dumps({"training": []}))
    with pytest.raises(DataError, match=r"dataset.json: not a valid Decathlon dataset.json"):
        MsdBrainSource(msd_root).find_records()


def test_download_only_when_asked_and_failure_explains(tmp_path, monkeypatch):
    calls = []

    def offline(*args, **kwargs):
        calls.append(kwargs)
        raise OSError("network is unreachable")

    monkeypatch.setattr("srmri.data.sources.msd.DecathlonDataset", offline)
    MsdBrainSource(tmp_path / "a").prepare()
    assert calls == []
    with pytest.raises(
        RuntimeError, match="failed \\(network is unreachable\\); this needs network"
    ):
        MsdBrainSource(tmp_path / "b", download=True).prepare()
    assert calls[0]["download"] is True
