"""The `gve` command: help and argument errors answer without loading torch, every command
suggests the option a typo meant, and the command layer is imported by nothing else."""

import ast
import json
import sys
import textwrap

import pytest
from helpers import REPO, run_bounded, subprocess_env

from modeling_gve.cli import COMMANDS, main

# what `gve <command> --help` must not import
LIGHT_COMMANDS = list(COMMANDS)


def imported_after(argv: list[str]) -> dict:
    """Run ``gve ARGV`` in a fresh interpreter; the exit status and which heavy modules it loaded."""
    code = textwrap.dedent(
        f"""
        import json, sys
        from modeling_gve.cli import main
        try:
            status = main({argv!r})
        except SystemExit as exit:
            status = exit.code
        heavy = sorted(m for m in ("torch", "transformers", "torchvision", "torchcodec") if m in sys.modules)
        print(json.dumps({{"status": status, "heavy": heavy}}))
        """
    )
    result = run_bounded([sys.executable, "-c", code], timeout=300, env=subprocess_env())
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["serch"],
        *([name, "--help"] for name in LIGHT_COMMANDS),
        ["search", "--top-kk", "3"],
        ["uvrb", "--batch-sise", "3"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_help_and_argument_errors_do_not_import_torch(argv):
    result = imported_after(argv)
    assert result["status"] in (0, 2) and result["heavy"] == [], result


def test_importing_the_package_does_not_import_torch():
    code = "import sys, modeling_gve; print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    result = run_bounded([sys.executable, "-c", code], timeout=300, env=subprocess_env())
    assert result.stdout.strip() == "[]", result.stderr[-2000:]


@pytest.mark.parametrize(
    "argv, typo, meant",
    [
        (["convert", "a", "b", "--dtpye", "float32"], "--dtpye", "--dtype"),
        (["search", "folder", "query", "--top-kk", "3"], "--top-kk", "--top-k"),
        (["samples", "--no-rael"], "--no-rael", "--no-real"),
        (["uvrb", "--output", "o", "--batch-sise", "2"], "--batch-sise", "--batch-size"),
        (["synthesize", "--captioner_modle", "m"], "--captioner_modle", "--captioner_model"),
        (["hub", "push-model", "src", "me/x", "--dry-rn", "out"], "--dry-rn", "--dry-run"),
    ],
    ids=lambda value: value[0] if isinstance(value, list) else None,
)
def test_every_command_suggests_the_option_a_typo_meant(argv, typo, meant, capsys):
    with pytest.raises(SystemExit) as exit:
        main(argv)
    err = capsys.readouterr().err
    assert exit.value.code == 2
    command = " ".join(argv[:2]) if argv[0] == "hub" else argv[0]
    assert f"usage: gve {command}" in err  # the command's own usage, not the top-level one
    assert f"unrecognized arguments: {typo}" in err and f"did you mean {meant!r}?" in err


def test_an_unknown_command_suggests_one(capsys):
    with pytest.raises(SystemExit):
        main(["synthesise"])
    assert "unknown command 'synthesise'; did you mean 'synthesize'?" in capsys.readouterr().err


def test_python_dash_m_runs_the_same_command():
    result = run_bounded([sys.executable, "-m", "modeling_gve", "samples", "--no-rael"], timeout=300, env=subprocess_env())
    assert result.returncode == 2 and "did you mean '--no-real'?" in result.stderr


def imported_modules(path) -> set[str]:
    """Absolute names of the modules ``path`` (a file of the package) imports."""
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    if path.name == "__init__.py":
        package = ".".join(path.relative_to(REPO).parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return names


def test_only_the_command_layer_imports_the_command_layer():
    """Library modules never import `modeling_gve.cli` (the CLI sits on top)."""
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "modeling_gve").rglob("*.py")
        if path.relative_to(REPO / "modeling_gve").parts[0] not in ("cli", "__main__.py")
        and any(n == "modeling_gve.cli" or n.startswith("modeling_gve.cli.") for n in imported_modules(path))
    ]
    assert offenders == []
    assert "modeling_gve.cli" in imported_modules(REPO / "modeling_gve" / "__main__.py")
