"""``adapt=true`` on predict.py's command line means ``adapt.enabled=true``; nothing else changes."""

from srmri.tasks.cli import expand_shorthands
from srmri.tasks.predict import SHORTHANDS


def test_adapt_flag_becomes_the_nested_key_and_other_arguments_stay():
    arguments = ["adapt=true", "adapt.budget=2min", "input=a=b.nii", "adapter=1", "--help"]
    assert expand_shorthands(arguments, SHORTHANDS) == [
        "adapt.enabled=true",
        "adapt.budget=2min",
        "input=a=b.nii",
        "adapter=1",
        "--help",
    ]
