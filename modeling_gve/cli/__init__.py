# Copyright 2026 The GVE package authors. Apache-2.0.
"""The `gve` command. One module per subcommand (``modeling_gve/cli/<name>.py``) builds its parser
(``build_parser``) and runs it (``run``); this file lists them and dispatches.

Only the module of the command given is imported, and each imports the library (torch, the
model) inside ``run``: ``gve --help``, ``gve <command> --help`` and argument errors answer
without loading torch. Nothing outside this folder imports from it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from ..suggest import SuggestingArgumentParser, did_you_mean

# subcommand -> its one-line help (the module is modeling_gve.cli.<subcommand>)
COMMANDS: dict[str, str] = {
    "convert": "Write a self-contained GVE checkpoint (AutoModel, remote code, processor defaults).",
    "search": "Search videos by text, image or video: a folder (indexed beside the videos) or an index.",
    "index": "Build or update the index of a folder of videos: whole videos or segments, parquet + FAISS.",
    "samples": "Write a few sample videos to try `gve search` on.",
    "uvrb": "Score a model on the UVRB benchmark (16 video retrieval datasets) with the paper's protocol.",
    "synthesize": "V-SynFlow: synthesize a video-retrieval training set (one config per task) from captioned videos.",
    "hub": "Publish checkpoints, datasets and the UVRB metric to the Hugging Face Hub (cards generated and checked).",
}


def build_parser(full: bool = False) -> argparse.ArgumentParser:
    """The top-level parser: ``gve [-h] COMMAND ...``, listing the commands. Their options are each
    command's own parser (`command_parser`); ``full`` attaches them all (importing every command
    module: what a check of the documented commands needs, not what `main` does)."""
    parser = SuggestingArgumentParser(prog="gve", description="GVE, the General Video Embedder.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help in COMMANDS.items():
        subparsers.add_parser(name, help=help, add_help=False)
        if full:
            subparsers.choices[name] = command_parser(name)  # the parser argparse runs for NAME
    return parser


def command_module(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")


def command_parser(name: str) -> argparse.ArgumentParser:
    """The full parser of ``gve NAME`` (imports only that command's module)."""
    return command_module(name).build_parser(prog=f"gve {name}")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        top = build_parser()
        if argv and not argv[0].startswith("-"):
            top.error(f"unknown command {argv[0]!r}{did_you_mean(argv[0], COMMANDS)} Commands: {', '.join(COMMANDS)}.")
        top.parse_args(argv)  # --help or a usage error: both exit
        top.error("give the command first: gve COMMAND [options]")
    name = argv[0]
    module = command_module(name)
    args = module.build_parser(prog=f"gve {name}").parse_args(argv[1:])
    try:
        result = module.run(args)
    except (OSError, ValueError, ImportError) as err:  # GVEInputError is a ValueError; ImportError: a missing extra
        if os.environ.get("GVE_DEBUG"):
            raise
        print(f"gve {name}: error: {err}\n(set GVE_DEBUG=1 for the traceback)", file=sys.stderr)
        return 2
    return int(result or 0)


__all__ = ["COMMANDS", "build_parser", "command_parser", "main"]
