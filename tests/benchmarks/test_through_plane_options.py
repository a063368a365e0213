"""The through-plane benchmark's ablation options: --set KEY=VALUE and --scans."""

import pytest

from benchmarks import through_plane


def test_settings_are_yaml_values_of_known_options():
    parsed = through_plane.parse_settings(["flips=true", "n_feats=48", "learning_rate=4e-3"])
    assert parsed == {"flips": True, "n_feats": 48, "learning_rate": 0.004}
    assert isinstance(parsed["n_feats"], int) and isinstance(parsed["learning_rate"], float)


@pytest.mark.parametrize("setting", ["flip=true", "flips", "=1"])
def test_bad_settings_name_the_setting(setting):
    with pytest.raises(SystemExit, match=f"--set '{setting}'"):
        through_plane.parse_settings([setting])


def test_unknown_scans_are_refused(capsys):
    with pytest.raises(SystemExit):
        through_plane.main(["--cases", "dev", "--scans", "brats5_T1c,brats9_T2"])
    assert "brats9_T2" in capsys.readouterr().err
