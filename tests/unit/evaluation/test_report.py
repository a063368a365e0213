import csv
import json

import pytest

from srmri.evaluation.figures import new_figure
from srmri.evaluation.report import check_output_dir, write_report
from srmri.evaluation.scores import COLUMNS, Scores


def small_scores() -> Scores:
    scores = Scores()
    scores.add(
        ("s", "T1", "axial"),
        [(3, 0.0), (3, 18.0)],
        "bicubic",
        "image",
        [30.0, float("inf")],
        [0.9, 1.0],
    )
    return scores


def write(output_dir, figure=None, overwrite=False):
    figures = {"plot.png": figure or new_figure(2, 2)}
    return write_report(output_dir, small_scores(), {"a": 1}, figures, "# report\n", overwrite)


def test_report_files_and_csv_columns(tmp_path):
    out = tmp_path / "report"
    write(out)
    with (out / "metrics.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(COLUMNS)
    assert rows[1] == ["s", "T1", "axial", "3", "0", "bicubic", "image", "30.000000", "0.900000"]
    assert rows[2][4] == "18" and rows[2][7] == "inf"
    assert json.loads((out / "summary.json").read_text()) == {"a": 1}
    assert (out / "figures" / "plot.png").stat().st_size > 0
    assert (out / "report.md").read_text() == "# report\n"


def test_a_previous_report_is_refused_unless_overwrite(tmp_path):
    out = tmp_path / "report"
    write(out)
    before = (out / "metrics.csv").read_text()
    with pytest.raises(FileExistsError, match="overwrite=true"):
        write(out)
    with pytest.raises(FileExistsError, match=r"report\.md"):
        check_output_dir(out, overwrite=False)
    assert (out / "metrics.csv").read_text() == before
    write(out, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


class BrokenFigure:
    def savefig(self, path):
        raise OSError("disk full")


def test_a_failure_leaves_nothing_half_written(tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "split.json").write_text("{}")  # what Hydra's run directory already holds
    with pytest.raises(OSError, match="disk full"):
        write(out, figure=BrokenFigure())
    assert sorted(p.name for p in out.iterdir()) == ["split.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
