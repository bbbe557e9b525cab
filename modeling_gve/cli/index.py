# Copyright 2026 The GVE package authors. Apache-2.0.
"""`gve index SOURCE`: build or update the persistent index of a folder of videos (or of a text
file listing video paths and URLs, one per line).

Whole-video vectors, or with --segment-seconds S the vectors of S-second segments, stored once in
SOURCE/.gve_index (by file content, model and settings) and published as a table beside them:
parquet shards (path, content_key, start, end, embedding, model, sampling) that
`datasets.load_dataset` reads, and a FAISS index. Only new or changed files are embedded, removed
ones are dropped, and a killed run resumes from what was flushed.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..hub_ids import DEFAULT_MODEL
from ..suggest import SuggestingArgumentParser


def add_model_options(parser: argparse.ArgumentParser, default_model: str | None = DEFAULT_MODEL) -> None:
    """The model and the embedding run options, shared by ``gve index`` and ``gve search``."""
    parser.add_argument(
        "--model", default=default_model,
        help=f"GVE checkpoint, Hub id or folder (default {DEFAULT_MODEL}; for an index: the model it was built with)",
    )  # fmt: skip
    parser.add_argument("--revision", default=None, help="Hub revision of --model")
    parser.add_argument("--batch-size", type=int, default=4, help="videos (or segments) per forward pass")
    parser.add_argument("--num-workers", type=int, default=2, help="threads decoding videos ahead of the model")
    parser.add_argument("--device", default=None, help="cuda, cpu, mps (default: best available)")
    parser.add_argument("--dtype", default=None, choices=["bfloat16", "float16", "float32"])


def add_index_options(parser: argparse.ArgumentParser) -> None:
    """How the index is built: segments, its location, flushing."""
    parser.add_argument("--segment-seconds", type=float, default=None, help="embed segments of this many seconds")
    parser.add_argument(
        "--segments", default="fixed", choices=["fixed", "shots"],
        help="fixed: windows of --segment-seconds; shots: one segment per shot, cut where PySceneDetect finds "
        "one (the scenedetect extra)",
    )  # fmt: skip
    parser.add_argument(
        "--stride-seconds",
        type=float,
        default=None,
        help="start a segment every this many seconds (default: back to back)",
    )
    parser.add_argument("--index", default=None, help="where the index lives (default: SOURCE/.gve_index)")
    parser.add_argument(
        "--column", default=None,
        help="SOURCE is a dataset (a local folder or hf://datasets/ORG/NAME[@REV]): its Video column "
        "(default for hf://: the only Video column)",
    )  # fmt: skip
    parser.add_argument("--split", default="train", help="the dataset split to index (with a dataset SOURCE)")
    parser.add_argument(
        "--flush-every", type=int, default=64, help="write what is embedded at least every this many videos"
    )
    parser.add_argument(
        "--flush-seconds", type=float, default=30.0, help="...and at least every this many seconds (0: by count only)"
    )


def build_parser(prog: str = "gve index") -> argparse.ArgumentParser:
    parser = SuggestingArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "source",
        help="a folder of videos (searched recursively), a text file of paths / URLs, or a dataset with a Video "
        "column (hf://datasets/ORG/NAME, or a local dataset with --column)",
    )
    add_index_options(parser)
    add_model_options(parser)
    parser.add_argument("--engine", default="local", choices=["local", "ray"], help="embed here, or with Ray Data")
    parser.add_argument(
        "--ray-address", default=None, help="the Ray cluster to use with --engine ray (default: local)"
    )
    parser.add_argument("--faiss", default="auto", choices=["auto", "flat", "hnsw", "ivf"],
                        help="FAISS index kind (auto: exact up to 100k vectors, HNSW beyond)")  # fmt: skip
    parser.add_argument("--precision", nargs="+", default=[], choices=["int8", "binary"],
                        help="also write quantized codes for gve search --precision")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def index_kwargs(args: argparse.Namespace) -> dict:
    """The `build_index` options of ``args``."""
    return {
        "index_dir": args.index,
        "stride_seconds": args.stride_seconds,
        "segments": args.segments,
        "batch_size": args.batch_size,
        "num_workers": args.num_workers,
        "flush_every": args.flush_every,
        "flush_seconds": args.flush_seconds or None,
        "show_progress_bar": True,
    }


def source_options(args: argparse.Namespace) -> dict:
    """The `list_source` options of ``args``: a dataset's column and split, and where its media go."""
    return {"column": args.column, "split": args.split, "index_dir": args.index}


def check_segments(args: argparse.Namespace) -> None:
    """``--segments shots`` without PySceneDetect fails now, before a multi-GB model is loaded."""
    if args.segments == "shots":
        from ..video import check_shot_detection

        check_shot_detection()


def report_skipped(skipped: list) -> None:
    for entry in skipped:
        print(f"skipped {entry.path}: {entry.reason}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from ..encoders import GVEEncoder, load_gve  # the command's heavy imports, here only
    from ..index.build import build_index
    from ..index.listing import list_source

    listing = list_source(args.source, **source_options(args))  # listed (and checked) before loading a multi-GB model
    check_segments(args)
    model = load_gve(args.model, revision=args.revision, device=args.device, dtype=args.dtype)
    ray_options = {"address": args.ray_address} if args.ray_address else None
    summary = build_index(
        GVEEncoder(model), args.source, listing=listing, segment_seconds=args.segment_seconds, engine=args.engine,
        ray_options=ray_options, faiss_kind=args.faiss, precisions=tuple(args.precision), **index_kwargs(args),
    )  # fmt: skip
    report_skipped(summary.skipped)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(
            f"{summary.index}: {summary.videos} videos, {summary.rows} vectors ({summary.encoded} encoded, "
            f"{summary.reused} reused, {len(summary.skipped)} skipped, {summary.removed} removed)"
        )
    return 0
