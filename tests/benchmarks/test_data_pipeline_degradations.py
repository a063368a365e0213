"""The data-pipeline benchmark measures each degradation as train.py builds it (smoke mode)."""

import pytest

from benchmarks import data_pipeline
from benchmarks.results import RESULTS
from srmri.degradation import Degradation, KSpace, SliceProfile


def test_degradations_are_built_as_train_py_builds_them():
    assert data_pipeline.degradation_of("seed") == Degradation(2)
    assert data_pipeline.degradation_of("kspace degradation.window=hamming") == KSpace(
        2, window="hamming"
    )
    built = data_pipeline.degradation_of(data_pipeline.DEGRADATIONS[-1])
    assert built == SliceProfile(thickness=2.0, spacing=2.0)


@pytest.mark.slow
def test_smoke_run_reports_each_degradation(mni_cache, capsys):
    before = RESULTS.read_text() if RESULTS.exists() else None
    entries = ["kspace", "slice_profile degradation.thickness=2 degradation.spacing=2"]
    data_pipeline.main(["--smoke", "--cache-dir", str(mni_cache), "--degradations", *entries])
    printed = capsys.readouterr().out
    for entry in entries:
        line = next(x for x in printed.splitlines() if x.startswith(f"degradation={entry}:"))
        assert float(line.split(":")[1].split()[0].replace(",", "")) > 0
    assert (RESULTS.read_text() if RESULTS.exists() else None) == before
