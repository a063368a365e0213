import pytest

from srmri.evaluation.settings import read_angles, read_baselines, read_checkpoints, read_settings


def config(**overrides):
    cfg = {
        "ckpt_path": None,
        "views": ["axial"],
        "angles": [0, 90],
        "slices": None,
        "baselines": ["bicubic"],
        "output_dir": "out",
        "overwrite": False,
        "batch_size": 4,
        "device": "cpu",
        "seed": 0,
        "progress": False,
        "rotation": {"interpolation": "bicubic", "band": "disk", "tolerance": 1e-3},
        "brain_mask": {"use_given": True, "threshold": 0.1},
        "figures": {"slices": None, "zoom": 0.25, "histogram_bins": 10, "histogram_max": 0.25},
    }
    cfg.update(overrides)
    return cfg


def test_a_valid_config_is_read():
    settings = read_settings(config(slices=[5, 3], angles=[0, 18.5]))
    assert settings.angles == [0.0, 18.5]
    assert settings.slices == [3, 5]
    assert settings.baselines == ["bicubic"]


@pytest.mark.parametrize(
    ("angles", "message"),
    [
        (["a", "b"], "item 0 is 'a'"),
        ([0, None], "item 1 is None"),
        ([0, True], "item 1 is True"),
        ([0, float("nan")], "item 1 is nan"),
        ([], "non-empty list"),
        ("ninety", "item 0 is 'ninety'"),
        ([0, 360], "repeated"),
    ],
)
def test_angles_that_are_not_distinct_numbers_are_refused(angles, message):
    with pytest.raises(ValueError, match="angles") as error:
        read_angles(angles)
    assert message in str(error.value)


def test_one_number_is_one_angle():
    assert read_angles(45) == [45.0]


def test_bicubic_is_always_scored_first():
    assert read_baselines(["lanczos"]) == ["bicubic", "lanczos"]
    with pytest.raises(ValueError, match="baselines"):
        read_baselines(["cubic"])


def test_checkpoint_forms():
    assert read_checkpoints("a.ckpt")[0][0] is None
    assert [n for n, _ in read_checkpoints({"edsr": "a.ckpt", "wdsr": "b.ckpt"})] == [
        "edsr",
        "wdsr",
    ]
    assert len(read_checkpoints(["a.ckpt", "b.ckpt"])) == 2
    with pytest.raises(ValueError, match="ckpt_path=3"):
        read_checkpoints(3)


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"views": ["axial", "top"]}, "views"),
        ({"batch_size": 0}, "batch_size"),
        ({"overwrite": "yes"}, "overwrite"),
        ({"slices": [-1]}, "slices"),
        (
            {"rotation": {"interpolation": "spline", "band": "disk", "tolerance": 0.0}},
            "rotation.interpolation",
        ),
        (
            {"rotation": {"interpolation": "fft", "band": "circle", "tolerance": 0.0}},
            "rotation.band",
        ),
        (
            {"rotation": {"interpolation": "bicubic", "band": "disk", "tolerance": -1}},
            "rotation.tolerance",
        ),
    ],
)
def test_bad_values_name_their_key(overrides, key):
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        read_settings(config(**overrides))
