# Copyright 2026 The GVE package authors. Apache-2.0.
"""`gve search FOLDER_OR_INDEX QUERY`: search videos by text, image or video.

A folder of videos (or a text file listing them) is indexed first, in FOLDER/.gve_index: only
new or changed files are embedded, so later searches embed just the query. An index (a table
folder written by `gve index`) is searched as it is. Without --moments the hits are videos,
ranked by their best segment (or whole-video vector); with --moments, the segments themselves.
"""

from __future__ import annotations

import argparse
import json

from ..suggest import SuggestingArgumentParser
from .index import add_index_options, add_model_options, check_segments, index_kwargs, report_skipped, source_options


def build_parser(prog: str = "gve search") -> argparse.ArgumentParser:
    parser = SuggestingArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "folder_or_index", metavar="FOLDER_OR_INDEX", help="a folder of videos (recursive), a list file, or an index"
    )
    parser.add_argument("query", nargs="?", default=None, help="text query")
    parser.add_argument("--image", default=None, help="image query (combined with the text if both are given)")
    parser.add_argument("--video", default=None, help="video clip query (combined with the text if both are given)")
    parser.add_argument("--instruction", default=None, help="query instruction (default: one per query kind)")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--moments", action="store_true",
                        help="hits are segments (path, start, end); 10 s segments unless --segment-seconds")  # fmt: skip
    parser.add_argument("--precision", default="float32", choices=["float32", "int8", "binary"],
                        help="search quantized codes (sentence-transformers' quantization), rescored")  # fmt: skip
    parser.add_argument("--no-rescore", dest="rescore", action="store_false",
                        help="with int8 / binary: keep the quantized scores")  # fmt: skip
    add_index_options(parser)
    add_model_options(parser, default_model=None)
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    return parser


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..encoders import GVEEncoder, load_gve  # the command's heavy imports, here only
    from ..hub_ids import DEFAULT_MODEL
    from ..index.listing import list_source
    from ..index.table import RECORD_FILE, read_record
    from ..search import build_query, check_query_files, search

    query, instruction = build_query(args.query, args.image, args.video, args.instruction or None)
    check_query_files(query)  # before any work
    options = index_kwargs(args)
    if (Path(args.folder_or_index) / RECORD_FILE).is_file():  # an index: searched as it is, with its model by default
        model_name = args.model or read_record(args.folder_or_index)["model"].get("model", DEFAULT_MODEL)
    else:
        # listed (and checked) before loading a multi-GB model
        options["listing"] = list_source(args.folder_or_index, **source_options(args))
        check_segments(args)
        model_name = args.model or DEFAULT_MODEL
    model = load_gve(model_name, revision=args.revision, device=args.device, dtype=args.dtype)
    result = search(
        GVEEncoder(model), args.folder_or_index, query, instruction=instruction, top_k=args.top_k, moments=args.moments,
        segment_seconds=args.segment_seconds, precision=args.precision, rescore=args.rescore, **options,
    )  # fmt: skip
    report_skipped(result.skipped)
    if args.json:
        print(json.dumps([hit.to_dict() for hit in result.hits], indent=2))
    else:
        for hit in result.hits:
            where = f"  {hit.start:.1f}-{hit.end:.1f} s" if hit.start is not None else ""
            print(f"{hit.rank:>3}  {hit.score:+.4f}  {hit.path}{where}")
    return 0 if result.hits else 1
