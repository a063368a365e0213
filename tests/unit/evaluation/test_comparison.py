import pytest
from omegaconf import OmegaConf

from srmri.degradation import Degradation
from srmri.evaluation.comparison import CheckpointError, build_comparison
from tests.helpers import NORMALISATION


def compare(checkpoints, **kwargs):
    options = {
        "model": None,
        "baselines": ["bicubic"],
        "data_scale": 2,
        "data_normalisation": NORMALISATION,
    }
    options.update(kwargs)
    return build_comparison(checkpoints, **options)


def test_checkpoints_of_different_scales_are_refused(make_checkpoint):
    x2 = make_checkpoint("a", scale=2)
    x4 = make_checkpoint("b", scale=4)
    with pytest.raises(CheckpointError, match=r"share one scale.*x2.*x4"):
        compare([(None, x2), (None, x4)])


def test_two_models_of_one_name_must_be_named(make_checkpoint):
    first, second = make_checkpoint("net", seed=0), make_checkpoint("net", seed=1)
    with pytest.raises(CheckpointError, match="two models named 'net'"):
        compare([(None, first), (None, second)])
    named = compare([("first", first), ("second", second)])
    assert named.models == ["first", "second"]


def test_the_checkpoint_fixes_scale_degradation_and_normalisation_and_notes_differences(
    make_checkpoint,
):
    own = {"method": "minmax", "lower": 0.0, "upper": 100.0, "use_mask": False}
    path = make_checkpoint(
        scale=4, degradation={"scale": 4, "preset": "thesis_opencv"}, normalisation=own
    )
    result = compare([(None, path)])
    assert result.scale == 4
    assert result.degradation == Degradation(scale=4, preset="thesis_opencv")
    assert result.normalisation == {**own, "measured_on": "hr"}  # written before the key existed
    assert any("data.scale=2" in note for note in result.notes)
    assert any("not data.normalisation" in note for note in result.notes)
    # A config override wins, with a note naming what the model was trained with.
    overridden = compare([(None, path)], degradation={"scale": 2, "preset": "bicubic"})
    assert overridden.degradation == Degradation(scale=4, preset="bicubic")
    assert any("trained with degradation" in note for note in overridden.notes)


def test_different_training_degradations_need_a_choice(make_checkpoint):
    a = make_checkpoint("a", degradation={"scale": 2, "preset": "seed"})
    b = make_checkpoint("b", degradation={"scale": 2, "preset": "bicubic"})
    with pytest.raises(CheckpointError, match="different degradations"):
        compare([(None, a), (None, b)])
    chosen = compare([(None, a), (None, b)], degradation={"preset": "bicubic"})
    assert chosen.degradation.preset == "bicubic"


def model_config(target: dict) -> dict:
    return OmegaConf.create(
        {"_target_": "srmri.lightning.module.SRModule", "_recursive_": False, **target}
    )


def test_model_bicubic_without_checkpoint_is_the_baseline_itself():
    config = model_config(
        {
            "name": "bicubic",
            "network": {"_target_": "srmri.models.interpolation.Interpolation", "scale": 2},
        }
    )
    result = compare([], model=config)
    assert [m.name for m in result.methods] == ["bicubic"]
    assert result.models == []


def test_a_model_with_parameters_needs_a_checkpoint():
    config = model_config(
        {
            "name": "wdsr",
            "network": {
                "_target_": "srmri.models.wdsr.WDSRA",
                "scale": 2,
                "n_blocks": 1,
                "n_feats": 4,
            },
        }
    )
    with pytest.raises(ValueError, match="trainable parameters and no checkpoint"):
        compare([], model=config)
