"""Each entry point's --help (conf/hydra/help/<command>.yaml) against its config and README.md.

The help lists the command's own options with their defaults and the groups it uses; the README's
option table of the command must list the same options with the same defaults, and the defaults
must be those of the composed config. The group options must be the files of the group folders.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from srmri.tasks.evaluate import EVALUATE_KEYS
from srmri.tasks.isotropic import ISOTROPIC_KEYS
from srmri.tasks.predict import PREDICT_KEYS
from srmri.tasks.train import TRAIN_KEYS

ROOT = Path(__file__).parents[3]
COMMANDS = {
    "train": TRAIN_KEYS,
    "evaluate": EVALUATE_KEYS,
    "predict": PREDICT_KEYS,
    "isotropic": ISOTROPIC_KEYS,
}
# Keys every entry config has that are not options of the command (its name and folders).
NOT_OPTIONS = {"task_name", "paths"}
OPTION = re.compile(r"^  (?P<key>[a-z_][a-z_0-9.]*)=(?P<default>\S+)\s+(?P<text>\S.*)$")
CHOICES = re.compile(r"^(?P<names>[a-z_0-9]+(?: \| [a-z_0-9]+)*):")
README_ROW = re.compile(r"^\| `(?P<key>[a-z_0-9.]+)` \| `(?P<default>[^`]*)` \|")


def help_text(command: str) -> str:
    """What ``python <command>.py --help`` prints (Hydra fills no placeholder of these templates)."""
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(command, return_hydra_config=True)
    return string.Template(cfg.hydra.help.template).substitute()


def section(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(title) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def options(command: str) -> dict[str, str]:
    return {
        m["key"]: m["default"]
        for line in section(help_text(command), "Options (key=default):")
        if (m := OPTION.match(line))
    }


def groups(command: str) -> dict[str, tuple[str, list[str]]]:
    """group -> (default, the options the help names: ``a | b | c: what`` or the default)."""
    found = {}
    for line in section(help_text(command), "Groups (group=option):"):
        m = OPTION.match(line)
        names = CHOICES.match(m["text"])
        choices = names["names"].split(" | ") if names else [m["default"]]
        found[m["key"]] = (m["default"], choices)
    return found


def raw_config(command: str) -> dict:
    """The composed config with interpolations and ??? as written."""
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(command, return_hydra_config=True)
    values = OmegaConf.to_container(cfg, resolve=False)
    values.pop("hydra")
    return values


def readme_options(command: str) -> dict[str, str]:
    """The rows of the README's option table for ``python <command>.py``."""
    text = (ROOT / "README.md").read_text()
    marker = f"<!-- options of {command}.py -->"
    assert marker in text, f"README.md has no option table marked {marker}"
    rows = {}
    for line in text.split(marker, 1)[1].splitlines()[1:]:
        if not line.startswith("|"):
            break
        if m := README_ROW.match(line):
            rows[m["key"]] = m["default"]
    return rows


@pytest.mark.parametrize("command", COMMANDS)
def test_help_lists_every_own_option_with_the_configs_default(command):
    listed = options(command)
    own = set(COMMANDS[command]) - NOT_OPTIONS
    top_level = {key.split(".")[0] for key in listed}
    group_names = set(groups(command))
    assert own - group_names - {"normalisation"} <= top_level | {"normalisation"}, (
        own - top_level - group_names
    )
    config = raw_config(command)
    for key, default in listed.items():
        value = config
        for part in key.split("."):
            value = value[part]
        assert yaml.safe_load(default) == value, (command, key, default, value)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_lists_the_groups_the_command_uses_and_their_options(command):
    listed = groups(command)
    defaults = OmegaConf.load(ROOT / "conf" / f"{command}.yaml").defaults
    used = {}
    for entry in defaults:
        if isinstance(entry, str) or not hasattr(entry, "items"):
            continue
        for group, option in entry.items():
            if not group.startswith(("hydra", "override")):
                used[group] = "null" if option is None else option
    assert set(listed) == set(used), (command, set(listed), set(used))
    for group, (default, choices) in listed.items():
        assert default == used[group], (command, group)
        files = sorted(p.stem for p in (ROOT / "conf" / group).glob("[!_]*.yaml"))
        # The help may name only the options that make sense for the command (evaluate: model=bicubic).
        assert set(choices) - {"null"} <= set(files), (command, group, choices)


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_table_has_the_options_of_the_help(command):
    assert readme_options(command) == options(command)


def test_predict_help_names_no_training_group():
    text = help_text("predict")
    for group in ("data", "debug", "trainer", "hparams_search", "model", "logger"):
        assert not re.search(rf"^\s+{group}=", text, re.MULTILINE), group
    assert len(re.findall(r"^  python predict.py ", text, re.MULTILINE)) == 3
