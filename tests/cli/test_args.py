"""The settings rules both recipes share (modeling_gve/args.py), on a small recipe:
the file sets values and the command line overrides them, every spelling of a list, mapping,
flag and null, unknown keys with a "did you mean", and type checks whatever the origin."""

from dataclasses import dataclass, field
from typing import Literal

import pytest

from modeling_gve.args import RecipeArguments, RecipeConfig, RecipeParser


@dataclass
class First(RecipeArguments):
    """First group."""

    name: str = field(metadata={"help": "required: no default"})
    rate: float = 0.5
    limit: int | None = 3
    mode: Literal["fast", "slow"] = "fast"
    precision: Literal["bf16", "fp16"] | None = None


@dataclass
class Second(RecipeArguments):
    """Second group."""

    tasks: list[Literal["T2V", "I2V", "V2V"]] = field(default_factory=lambda: ["T2V"])
    tags: list[str] | None = None
    caps: dict[str, int] = field(default_factory=dict)
    verbose: bool = False
    keep: bool = True
    private: bool | None = None


@dataclass
class Settings(RecipeConfig):
    first: First
    second: Second


def test_file_then_command_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: n\nrate: 3e-5\nlimit: null\ntasks: [I2V]\ncaps: {T2V: 2}\nkeep: false\n")
    config = Settings.parse(["--config", str(path), "--mode", "slow", "--tags", "a", "b"])
    assert config.first.rate == 3e-5  # YAML 1.1 reads 3e-5 as a string: still a number
    assert config.first.limit is None and config.first.mode == "slow"
    assert config.second.tasks == ["I2V"] and config.second.tags == ["a", "b"] and config.second.caps == {"T2V": 2}
    assert config.second.keep is False
    config = Settings.parse(["--config", str(path), "--rate", "1", "--limit", "7", "--tasks", "[V2V, T2V]"])
    assert config.first.rate == 1.0 and isinstance(config.first.rate, float) and config.first.limit == 7
    assert config.second.tasks == ["V2V", "T2V"]
    assert config.to_dict() == {
        "name": "n", "rate": 1.0, "limit": 7, "mode": "fast", "precision": None,
        "tasks": ["V2V", "T2V"], "tags": None, "caps": {"T2V": 2}, "verbose": False, "keep": False, "private": None,
    }  # fmt: skip


def test_command_line_spellings():
    config = Settings.parse(
        ["--name", "n", "--verbose", "--no_keep", "--private", "--caps", "{I2V: 4}", "--precision", "bf16",
         "--tags", "null", "--tasks", "[]"]
    )  # fmt: skip
    second = config.second
    assert second.verbose is True and second.keep is False and second.private is True
    assert second.caps == {"I2V": 4} and second.tags is None and second.tasks == []
    assert config.first.precision == "bf16"
    config = Settings.parse(["--name", "n", "--verbose", "false", "--keep", "true", "--private", "null"])
    assert config.second.verbose is False and config.second.keep is True and config.second.private is None
    assert Settings.parse(["--name", "n", "--precision", "null", "--limit", "None"]).first.precision is None
    assert Settings.parse(["--name", "n", "--limit", "None"]).first.limit is None


def test_unknown_keys_suggest_the_closest(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text("name: n\nrat: 1\n")
    with pytest.raises(ValueError, match=r"Unknown key 'rat' in config file .*c.yaml; did you mean 'rate'\?"):
        Settings.parse(["--config", str(path)])
    with pytest.raises(SystemExit):  # argparse: the usage, then the reason
        Settings.parse(["--name", "n", "--verbos"])
    assert "unrecognized arguments: --verbos; did you mean '--verbose'?" in capsys.readouterr().err
    with pytest.raises(ValueError, match="Unknown key 'nme' in settings; did you mean 'name'"):
        Settings.from_values({"nme": "n"})


def test_invalid_values_name_the_setting_and_what_is_allowed(capsys):
    with pytest.raises(ValueError, match=r"mode: 'fats' is not one of 'fast', 'slow'; did you mean 'fast'\?"):
        Settings.from_values({"name": "n", "mode": "fats"})
    with pytest.raises(ValueError, match=r"tasks\[1\]: 'T2X' is not one of 'T2V', 'I2V', 'V2V'"):
        Settings.from_values({"name": "n", "tasks": ["T2V", "T2X"]})
    with pytest.raises(ValueError, match=r"limit: 'many' is not valid; expected int or null"):
        Settings.from_values({"name": "n", "limit": "many"})
    with pytest.raises(ValueError, match=r"caps\[T2V\]: expected an integer, got 1.5"):
        Settings.from_values({"name": "n", "caps": {"T2V": 1.5}})
    with pytest.raises(ValueError, match="name is required: set it in the config file or pass --name"):
        Settings.from_values({})
    with pytest.raises(ValueError, match="verbose: expected true/false, got 'yes please'"):
        Second(verbose="yes please")  # direct construction is checked too
    for argv, message in [
        (["--name", "n", "--mode", "medium"], "invalid choice: 'medium'"),
        (["--name", "n", "--tasks", "T2V", "X2V"], "invalid choice: 'X2V'"),
        (["--name", "n", "--caps", "[1, 2]"], "expected a YAML mapping"),
        (["--name", "n", "--rate", "high"], "invalid float value: 'high'"),
    ]:
        with pytest.raises(SystemExit):  # argparse: usage and the reason on stderr
            Settings.parse(argv)
        assert message in capsys.readouterr().err


def test_options_not_given_stay_unset_so_the_file_and_the_defaults_apply():
    parser = Settings.parser(prog="tool run")
    assert isinstance(parser, RecipeParser)
    args = parser.parse_args(["--name", "n", "--rate", "2"])
    assert {k for k in vars(args) if k != "config"} == {"name", "rate"}  # only what was given
    config = Settings.from_args(args)
    assert config.first.rate == 2.0 and config.first.limit == 3 and config.second.tasks == ["T2V"]


def test_parser_returns_one_instance_per_dataclass_like_trl(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: n\ntasks: [V2V]\n")
    first, second = RecipeParser([First, Second]).parse_args_and_config(["--config", str(path), "--rate", "0.25"])
    assert (first.name, first.rate, second.tasks) == ("n", 0.25, ["V2V"])


def test_the_old_module_path_warns():
    import importlib
    import sys

    sys.modules.pop("modeling_gve.recipe_config", None)
    with pytest.warns(FutureWarning, match="use modeling_gve.args instead"):
        old = importlib.import_module("modeling_gve.recipe_config")
    assert old.RecipeConfig is RecipeConfig
