"""The README's set-up commands stay runnable and in sync with CI."""

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return [line for block in re.findall(r"```bash\n(.*?)```", setup, re.S) for line in block.splitlines() if line and not line.startswith("#")]


def test_two_setup_commands_and_ci_runs_the_test_one():
    commands = readme_commands()
    assert len(commands) == 2, commands
    install_and_search, install_and_test = commands
    assert "pip install -e ." in install_and_search and "gve search" in install_and_search
    assert 'pip install -e ".[test]"' in install_and_test and "pytest" in install_and_test
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    ci_line = [line for line in ci if "pytest" in line][0]
    # CI adds quiet flags and the tests marked slow (deselected by default); otherwise it is the same command
    assert ci_line.endswith(' -m "slow or not slow"')
    assert ci_line.replace(" -qq", "").replace(" -q ", " ").removesuffix(' -m "slow or not slow"') == install_and_test
    assert "ruff check --isolated --select F401 modeling_gve benchmarks" in ci  # the lint step


def test_cli_subcommands_used_in_readme_exist():
    from modeling_gve.cli import COMMANDS

    used = set(re.findall(r"\bgve ([a-z]+)\b", (ROOT / "README.md").read_text()))
    used -= {"is", "the", "as", "convert's"}
    assert used <= set(COMMANDS), used - set(COMMANDS)


def test_config_docstring_example_runs():
    import doctest

    from modeling_gve import configuration_gve

    failures, tried = doctest.testmod(configuration_gve, verbose=False)
    assert tried > 0 and failures == 0


def test_map_of_the_code_lists_every_recipe_config():
    text = (ROOT / "README.md").read_text()
    listed = re.search(r"^recipes/ .*configs/ \(([^)]*)\)", text, re.M).group(1)
    assert set(listed.split(", ")) == {p.stem for p in (ROOT / "recipes" / "configs").glob("*.yaml")}
