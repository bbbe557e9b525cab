# Copyright 2026 The GVE package authors. Apache-2.0.
"""`gve search DIR QUERY`: search a folder of videos by text, image or video.

The videos under DIR are embedded once with GVE and cached in ``DIR/.gve_cache`` (keyed by
file content, model and preprocessing settings), so later searches only embed the query
and whatever files are new or changed.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..hub_ids import DEFAULT_MODEL
from ..suggest import SuggestingArgumentParser


def build_parser(prog: str = "gve search") -> argparse.ArgumentParser:
    parser = SuggestingArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", help="folder of videos (searched recursively)")
    parser.add_argument("query", nargs="?", default=None, help="text query")
    parser.add_argument("--image", default=None, help="image query (combined with the text if both are given)")
    parser.add_argument("--video", default=None, help="video clip query (combined with the text if both are given)")
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"GVE checkpoint, Hub id or folder (default {DEFAULT_MODEL})"
    )
    parser.add_argument("--revision", default=None, help="Hub revision of --model")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--instruction", default=None, help="query instruction (default: one per query kind)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--num-workers", type=int, default=2, help="threads decoding videos ahead of the model")
    parser.add_argument("--device", default=None, help="cuda, cpu, mps (default: best available)")
    parser.add_argument("--dtype", default=None, choices=["bfloat16", "float16", "float32"])
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    return parser


def run(args: argparse.Namespace) -> int:
    from ..encoders import load_gve  # the command's heavy imports, here only
    from ..search import build_query, find_videos, search_folder

    query, instruction = build_query(args.query, args.image, args.video, args.instruction or None)
    videos = find_videos(args.folder)  # listed (and checked) before loading a multi-GB model
    model = load_gve(args.model, revision=args.revision, device=args.device, dtype=args.dtype)
    hits, skipped = search_folder(
        model,
        args.folder,
        query,
        instruction=instruction,
        top_k=args.top_k,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        videos=videos,
    )
    for path, reason in skipped:
        print(f"skipped {reason}", file=sys.stderr)
    if args.json:
        print(json.dumps([hit.__dict__ for hit in hits], indent=2))
    else:
        for hit in hits:
            print(f"{hit.rank:>3}  {hit.score:+.4f}  {hit.path}")
    return 0 if hits else 1
