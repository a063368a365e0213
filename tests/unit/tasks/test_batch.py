"""run_batch: stop at the first bad input or skip it, a summary of what was written and what
failed, and an error at the end whose exit code says whether a bug was among the failures."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from srmri.data import DataError
from srmri.io.errors import BatchError, ConfigError
from srmri.tasks.batch import run_batch
from srmri.tasks.cli import exit_code

JOBS = [(Path(f"in/{name}.nii"), Path(f"out/{name}.nii")) for name in ("a", "b", "c")]


def work_failing_on(bad: dict[str, Exception]):
    done = []

    def work(source: Path, target: Path) -> Path:
        if source.stem in bad:
            raise bad[source.stem]
        done.append(source.stem)
        return target

    return work, done


def test_skip_goes_on_lists_every_input_and_raises_at_the_end(capsys):
    work, done = work_failing_on({"b": DataError("in/b.nii: 3 NaN/Inf voxels")})
    out = io.StringIO()
    with pytest.raises(BatchError, match=r"^1 of 3 inputs failed \(in/b\.nii\)") as caught:
        run_batch(JOBS, work, "skip", out)
    assert done == ["a", "c"]
    assert out.getvalue().splitlines() == [
        "2 written, 1 failed, 0 not run",
        "  written  in/a.nii -> out/a.nii",
        "  written  in/c.nii -> out/c.nii",
        "  failed   in/b.nii: in/b.nii: 3 NaN/Inf voxels",
    ]
    assert capsys.readouterr().err == "skipped in/b.nii: in/b.nii: 3 NaN/Inf voxels\n"
    assert exit_code(caught.value) == 2


def test_a_bug_under_skip_keeps_its_traceback_and_exits_1(capsys, caplog):
    work, done = work_failing_on({"a": RuntimeError("out of memory")})
    with pytest.raises(BatchError) as caught:
        run_batch(JOBS, work, "skip", io.StringIO())
    assert done == ["b", "c"]
    assert exit_code(caught.value) == 1
    assert "Traceback" in caplog.text and "out of memory" in caplog.text


def test_stop_raises_the_first_error_after_the_summary():
    error = DataError("in/b.nii: not NIfTI")
    work, done = work_failing_on({"b": error})
    out = io.StringIO()
    with pytest.raises(DataError) as caught:
        run_batch(JOBS, work, "stop", out)
    assert caught.value is error and done == ["a"]
    assert out.getvalue().splitlines()[0] == "1 written, 1 failed, 1 not run"
    assert "  not run  in/c.nii" in out.getvalue().splitlines()


def test_all_good_returns_the_outputs_and_one_input_prints_no_summary():
    work, _ = work_failing_on({})
    out = io.StringIO()
    assert run_batch(JOBS[:1], work, "skip", out) == [Path("out/a.nii")]
    assert out.getvalue() == ""
    with pytest.raises(ConfigError, match=r"on_error='retry': expected one of"):
        run_batch(JOBS, work, "retry")
