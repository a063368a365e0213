"""predict.py on the command line: a pattern of inputs into a folder, nothing written beside the
data, an existing output refused."""

from __future__ import annotations

import nibabel as nib
import pytest

from tests.helpers import run_script
from tests.volumes import scan_folder


@pytest.mark.slow
def test_command_line_end_to_end(tmp_path, make_checkpoint):
    scans, checkpoint = scan_folder(tmp_path / "scans"), make_checkpoint()
    out = tmp_path / "out"
    out.mkdir()
    arguments = [f"ckpt_path={checkpoint}", f"input={scans}/*.nii.gz", f"output={out}"]
    done = run_script(
        "predict.py", *arguments, "view=coronal", "tile=4", "progress=false", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["b.nii.gz", "c.nii.gz"]
    assert nib.load(out / "b.nii.gz").shape == (16, 6, 6)
    # Hydra keeps the run's config and log under logs/predict/, never next to the data.
    assert (tmp_path / "logs" / "predict").is_dir()
    assert sorted(p.name for p in scans.iterdir()) == [
        "a.nii",
        "b.nii.gz",
        "c.nii.gz",
        "notes.txt",
        "sub",
    ]

    again = run_script("predict.py", *arguments, cwd=tmp_path)
    assert again.returncode != 0
    assert f"{out / 'b.nii.gz'}: output exists; pass overwrite=true" in again.stderr
