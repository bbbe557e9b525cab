"""The README and the docs/*.md pages stay true.

What is checked, page by page (the way transformers doctests its model docs):
- the README's two set-up commands, and that CI runs the test one;
- every Python block compiles, and the main snippets run on a tiny checkpoint;
- every `gve ...`, `python -m modeling_gve ...`, `accelerate launch ...` and recipe command in a bash block
  parses with the real parser, and every inline `gve ...` names real subcommands and options;
- docs/cli.md lists exactly the options of each subcommand;
- relative links and their anchors resolve;
- the map of the code in docs/architecture.md names what is there.
"""

import argparse
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS, ROOT / "benchmarks" / "README.md"]


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def code_blocks(path: Path, language: str) -> list[tuple[int, str]]:
    """(line number, text) of each fenced block of ``language`` in ``path``."""
    text = path.read_text()
    return [
        (text.count("\n", 0, m.start()) + 2, m.group(1))
        for m in re.finditer(rf"^```{language}\n(.*?)^```", text, re.S | re.M)
    ]


def blocks_of(language: str) -> list:
    return [
        pytest.param(page, line, block, id=f"{rel(page)}:{line}")
        for page in PAGES
        for line, block in code_blocks(page, language)
    ]


# --------------------------------------------------------------------------- the README's set-up commands


def readme_commands() -> list[str]:
    setup = README.read_text().split("## Set up", 1)[1].split("\n## ", 1)[0]
    return [
        line
        for block in re.findall(r"```bash\n(.*?)```", setup, re.S)
        for line in block.splitlines()
        if line and not line.startswith("#")
    ]


def test_two_setup_commands_and_ci_runs_the_test_one():
    commands = readme_commands()
    assert len(commands) == 2, commands
    install_and_search, install_and_test = commands
    for command in commands:  # a fresh Debian has neither FFmpeg nor the venv module
        assert "apt-get install -y ffmpeg python3.11-venv" in command and "python3.11 -m venv" in command
    assert "pip install -e ." in install_and_search and "gve search" in install_and_search
    assert 'pip install -e ".[test]"' in install_and_test and "pytest" in install_and_test
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    ci_line = [line for line in ci if "pytest" in line][0]
    # CI adds quiet flags and the tests marked slow (deselected by default); otherwise it is the same command
    assert ci_line.endswith(' -m "slow or not slow"')
    assert ci_line.replace(" -qq", "").replace(" -q ", " ").removesuffix(' -m "slow or not slow"') == install_and_test
    assert "ruff check --isolated --select F401 modeling_gve benchmarks" in ci  # the lint step


def test_readme_is_a_landing_page_that_links_every_docs_page():
    text = README.read_text()
    assert len(text.encode()) <= 16 * 1024
    assert len(DOCS) >= 5
    linked = set(re.findall(r"\]\((docs/[^)#]+\.md)\)", text))
    assert linked == {rel(page) for page in DOCS}, linked ^ {rel(page) for page in DOCS}


def test_no_extra_is_installed_from_the_package_index():
    """There is no `gve` on the package index: extras install from the clone."""
    files = [
        *PAGES,
        *ROOT.glob("recipes/**/*.yaml"),
        *ROOT.glob("modeling_gve/**/*.py"),
        *ROOT.glob("hub_cards/**/*.py"),
    ]
    offenders = [rel(path) for path in files if re.search(r"pip install \S*gve\[", path.read_text())]
    assert not offenders, offenders


# --------------------------------------------------------------------------- Python blocks


@pytest.mark.parametrize("page, line, block", blocks_of("python"))
def test_python_block_compiles(page, line, block):
    compile(block, f"{rel(page)}:{line}", "exec")


@pytest.mark.parametrize("page, line, block", blocks_of("pycon"))
def test_console_block_compiles(page, line, block):
    statements, current = [], []
    for text in block.splitlines():
        if text.startswith(">>> "):
            if current:
                statements.append("\n".join(current))
            current = [text[4:]]
        elif text.startswith("... "):
            current.append(text[4:])
    statements.append("\n".join(current))
    assert statements != [""]
    for statement in statements:
        compile(statement, f"{rel(page)}:{line}", "exec")


@pytest.mark.parametrize("page, line, block", blocks_of("yaml") + blocks_of("json"))
def test_data_block_parses(page, line, block):
    import yaml

    assert yaml.safe_load(block) is not None  # JSON is YAML


def run_snippet(page: Path, index: int, replacements: dict[str, str]) -> dict:
    """Run the ``index``-th Python block of ``page`` with example paths swapped for real ones."""
    snippet = code_blocks(page, "python")[index][1]
    for old, new in replacements.items():
        assert old in snippet, f"{rel(page)}: the snippet no longer mentions {old}"
        snippet = snippet.replace(old, new)
    namespace: dict = {}
    exec(compile(snippet, rel(page), "exec"), namespace)
    return namespace


def test_readme_encode_snippet_runs(tiny_ckpt, media):
    snippet = code_blocks(README, "python")[0][1]
    assert ".to(device)" in snippet and '.to("cuda")' not in snippet  # the device is picked, not assumed
    names = run_snippet(
        README,
        0,
        {
            '"Alibaba-NLP/GVE-3B"': repr(str(tiny_ckpt)),
            '"cat.mp4"': repr(str(media["video"])),
            '"dog.mp4"': repr(str(media["video_long"])),
        },
    )
    assert names["scores"].shape == (1, 2)


def test_readme_video_search_snippet_runs(tiny_converted, media, capsys):
    snippet = code_blocks(README, "python")[1][1]
    assert len(snippet.strip().splitlines()) <= 11  # "in ten lines" (plus a blank line)
    run_snippet(README, 1, {'"./gve-3b"': repr(str(tiny_converted)), '"~/Videos"': repr(str(media["root"]))})
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 3 and all(line.split()[1].endswith(".mp4") for line in printed)  # the 3 test videos


def test_model_page_encode_snippet_runs(tiny_ckpt, media, tmp_path):
    from modeling_gve.testing.media import make_image

    frames = tmp_path / "dog_frames"
    frames.mkdir()
    for i in range(4):
        make_image(frames / f"{i:04d}.jpg", size=(96, 64), seed=i)
    names = run_snippet(
        ROOT / "docs" / "model.md",
        0,
        {
            '"Alibaba-NLP/GVE-3B"': repr(str(tiny_ckpt)),
            '"cat.mp4"': repr(str(media["video"])),
            '"dog_frames/"': repr(str(frames)),
            '"cat.jpg"': repr(str(media["image"])),
            '"cat_clip.mp4"': repr(str(media["video_long"])),
        },
    )
    assert names["scores"].shape == (3, 2)


def test_model_page_lists_the_files_convert_writes(tiny_converted):
    text = (ROOT / "docs" / "model.md").read_text()
    listed = text.split("The output folder holds:", 1)[1].split("\n\n", 2)[1]
    assert set(re.findall(r"`([\w.]+\.(?:json|safetensors|jinja|py))`", listed)) == {
        p.name for p in tiny_converted.iterdir()
    }


def test_sentence_transformers_page_snippet_runs(tiny_converted, media):
    names = run_snippet(
        ROOT / "docs" / "sentence_transformers.md",
        0,
        {
            '"./gve-3b"': repr(str(tiny_converted)),
            '"cat.mp4"': repr(str(media["video"])),
            '"dog.mp4"': repr(str(media["video_long"])),
        },
    )
    assert names["scores"].shape == (1, 2)


def test_uvrb_page_snippet_runs_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the metric is loaded from the installed package, not the clone's root
    snippet = code_blocks(ROOT / "docs" / "uvrb.md", "python")[0][1]
    aggregate_line = next(line for line in snippet.splitlines() if line.startswith("round(aggregate("))
    shown = aggregate_line.split("# ")[1].split(";")[0]
    names = run_snippet(ROOT / "docs" / "uvrb.md", 0, {})
    assert str(eval(aggregate_line.split("#")[0], names)) == shown
    assert names["uvrb"].compute(predictions=[["v2", "v7"]], references=[["v2"]], task="MSRVTT")["main_score"] == 1.0


def test_config_docstring_example_runs():
    import doctest

    from modeling_gve import configuration_gve

    failures, tried = doctest.testmod(configuration_gve, verbose=False)
    assert tried > 0 and failures == 0


def test_prompt_table_is_the_saved_prompts():
    from modeling_gve.processing_gve import DEFAULT_INSTRUCTION
    from modeling_gve.uvrb.tasks import task_prompts

    text = (ROOT / "docs" / "sentence_transformers.md").read_text()
    rows = [line.split(" | ") for line in text.split("## Prompts", 1)[1].splitlines() if line.startswith("| `")]
    table = {cells[0].strip("| `"): cells[2].rstrip(" |") for cells in rows if len(cells) == 3}
    table.pop("prompt_name")  # the header
    assert table == {**task_prompts(), "document": DEFAULT_INSTRUCTION}


# --------------------------------------------------------------------------- commands


@pytest.fixture(scope="module")
def gve_parser() -> argparse.ArgumentParser:
    from modeling_gve.cli import build_parser

    return build_parser(full=True)


def subcommands(parser: argparse.ArgumentParser, prefix: str = "gve") -> dict[str, argparse.ArgumentParser]:
    """``{"gve search": parser, "gve hub push-model": parser, ...}``: every command, nested ones too."""
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[f"{prefix} {name}"] = sub
                found.update(subcommands(sub, f"{prefix} {name}"))
    return found


def documented_name(action: argparse.Action) -> str:
    """How docs/cli.md names an argument: its first long option, or the positional's name in capitals."""
    longs = [option for option in action.option_strings if option.startswith("--")]
    return longs[0] if longs else action.dest.upper()


def arguments(parser: argparse.ArgumentParser) -> set[str]:
    return {
        documented_name(action)
        for action in parser._actions
        if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction))
        and action.help != argparse.SUPPRESS  # deprecated spellings, kept working but not documented
    }


def parse_or_fail(parser: argparse.ArgumentParser, argv: list[str], where: str, capsys) -> argparse.Namespace:
    try:
        return parser.parse_args(argv)
    except SystemExit:
        pytest.fail(f"{where}: {shlex.join(argv)} does not parse:\n{capsys.readouterr().err}")


def shell_commands(block: str) -> list[list[str]]:
    """The commands of a bash block: continuation lines joined, comments dropped, split at `&&`."""
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        tokens = shlex.split(line, comments=True)
        while tokens:
            end = tokens.index("&&") if "&&" in tokens else len(tokens)
            commands.append(tokens[:end])
            tokens = tokens[end + 1 :]
    return [command for command in commands if command]


def check_command(tokens: list[str], where: str, gve_parser, capsys) -> None:
    """Parse one shell command with the parser of the program it runs."""
    from accelerate.commands.launch import launch_command_parser

    while tokens and "=" in tokens[0] and not tokens[0].startswith("-"):
        tokens = tokens[1:]  # environment assignments (PYTHONPATH=. ...)
    program, args = tokens[0], tokens[1:]
    if program == "gve":
        parse_or_fail(gve_parser, args, where, capsys)
    elif program == "python" and args[:2] == ["-m", "modeling_gve"]:
        parse_or_fail(gve_parser, args[2:], where, capsys)
    elif program == "python" and args[0] == "-m":
        import importlib.util

        assert importlib.util.find_spec(args[1]) is not None, f"{where}: no module {args[1]}"
    elif program == "python":
        check_script(args[0], args[1:], where, gve_parser, capsys)
    elif program == "accelerate":
        assert args[0] == "launch", where
        launch = parse_or_fail(launch_command_parser(), args[1:], where, capsys)
        if launch.config_file:
            assert (ROOT / launch.config_file).is_file(), f"{where}: no {launch.config_file}"
        if launch.module:
            assert launch.training_script == "modeling_gve", where
            parse_or_fail(gve_parser, launch.training_script_args, where, capsys)
        else:
            check_script(launch.training_script, launch.training_script_args, where, gve_parser, capsys)
    elif program.endswith(".py"):
        check_script(program, args, where, gve_parser, capsys)


def check_script(script: str, args: list[str], where: str, gve_parser, capsys) -> None:
    from modeling_gve.training.config import parse_config

    assert (ROOT / script).is_file(), f"{where}: no {script}"
    if script == "recipes/pyramid.py":
        try:
            parse_config(args)
        except SystemExit:
            pytest.fail(f"{where}: {shlex.join(args)} does not parse:\n{capsys.readouterr().err}")
    elif script == "recipes/synthesize.py":  # the same settings as `gve synthesize`
        parse_or_fail(gve_parser, ["synthesize", *args], where, capsys)


@pytest.mark.parametrize("page, line, block", blocks_of("bash"))
def test_bash_block_commands_parse(page, line, block, gve_parser, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)  # configs are named relative to the clone's root
    for tokens in shell_commands(block):
        check_command(tokens, f"{rel(page)}:{line}", gve_parser, capsys)


def test_inline_gve_commands_name_real_subcommands_and_options(gve_parser):
    commands = subcommands(gve_parser)
    problems = []
    for page in PAGES:
        for span in re.findall(r"`((?:gve|python -m modeling_gve) [^`]+)`", page.read_text()):
            words = span.replace("python -m modeling_gve", "gve").split()
            name = " ".join(words[:2])
            if len(words) > 2 and f"{name} {words[2]}" in commands:
                name = f"{name} {words[2]}"
            if name not in commands:
                if not words[1].startswith("<"):
                    problems.append(f"{rel(page)}: `{span}`: no command {name}")
                continue
            options = {o for a in commands[name]._actions for o in a.option_strings}
            problems += [
                f"{rel(page)}: `{span}`: {name} has no {w}" for w in words if w.startswith("--") and w not in options
            ]
    assert not problems, "\n".join(problems)


def test_option_tables_name_real_options(gve_parser):
    """The first column of every table names only options that some `gve` command has."""
    options = {o for parser in subcommands(gve_parser).values() for a in parser._actions for o in a.option_strings}
    problems = []
    for page in PAGES:
        for line in page.read_text().splitlines():
            if line.startswith("| "):
                first_cell = re.split(r"(?<!\\)\|", line)[1]
                flags = re.findall(r"(?<![\w-])--[\w-]+", first_cell)
                problems += [f"{rel(page)}: {flag}" for flag in flags if flag not in options]
    assert not problems, "\n".join(problems)


def test_cli_page_lists_every_option_of_every_command(gve_parser):
    text = (ROOT / "docs" / "cli.md").read_text()
    sections = dict(re.findall(r"^## `(gve [^`]+)`\n(.*?)(?=^## |\Z)", text, re.S | re.M))
    leaves = {name: parser for name, parser in subcommands(gve_parser).items() if arguments(parser)}
    assert set(sections) == set(leaves), set(sections) ^ set(leaves)
    for name, section in sections.items():
        rows = re.findall(r"^\| `([^`]+)` \|", section, re.M)
        assert set(rows) == arguments(leaves[name]), (name, set(rows) ^ arguments(leaves[name]))


# --------------------------------------------------------------------------- links and the map of the code


def without_code(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors."""
    headings = re.findall(r"^#+ (.+)$", without_code(page.read_text()), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_relative_links_and_anchors_resolve():
    problems = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", without_code(page.read_text())):
            if "://" in target:
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                problems.append(f"{rel(page)}: {target}: no such file")
            elif anchor and anchor not in anchors(linked):
                problems.append(f"{rel(page)}: {target}: no such heading")
    assert not problems, "\n".join(problems)


def code_map() -> str:
    return code_blocks(ROOT / "docs" / "architecture.md", "")[0][1]


def test_map_of_the_code_lists_every_recipe_config():
    listed = re.search(r"^recipes/ .*configs/ \(([^)]*)\)", code_map(), re.M).group(1)
    assert set(listed.split(", ")) == {p.stem for p in (ROOT / "recipes" / "configs").glob("*.yaml")}


def test_map_of_the_code_lists_every_module_of_the_package():
    names = set(re.findall(r"^  ([\w.]+/?)\s", code_map(), re.M))
    package = {
        p.name + "/" if p.is_dir() else p.name
        for p in (ROOT / "modeling_gve").iterdir()
        if not p.name.startswith("__") and (p.suffix == ".py" or (p / "__init__.py").is_file())
    }
    assert names == package, f"missing from the map: {package - names}; not in the package: {names - package}"


def test_every_file_the_map_names_exists():
    """A `name.py` in a folder's entry is a file of that folder (``modeling_gve/<folder>``, or a top-level one)."""
    missing, folder = [], ROOT / "modeling_gve"
    for line in code_map().splitlines():
        entry = re.match(r"^(  )?([\w.]+/)", line)
        if entry:
            folder = ROOT / ("modeling_gve/" if entry.group(1) else "") / entry.group(2)
        elif re.match(r"^  \w", line):
            folder = ROOT / "modeling_gve"
        missing += [
            f"{folder.relative_to(ROOT)}/{name}"
            for name in re.findall(r"(?<![/\w])\w+\.py\b", line)
            if not (folder / name).is_file()
        ]
    assert not missing, missing
