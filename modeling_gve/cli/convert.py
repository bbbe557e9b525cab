# Copyright 2026 The GVE package authors. Apache-2.0.
"""`gve convert SRC DST`: a released or trained GVE checkpoint -> a self-contained packaged checkpoint
(`modeling_gve.convert`)."""

from __future__ import annotations

import argparse

from ..suggest import SuggestingArgumentParser


def build_parser(prog: str = "gve convert") -> argparse.ArgumentParser:
    parser = SuggestingArgumentParser(
        prog=prog,
        description="Convert SRC (a local folder or a Hub id such as Alibaba-NLP/GVE-3B) into DST: a checkpoint that "
        "loads with AutoModel (remote code or `import modeling_gve`), GVEModel and SentenceTransformer.",
    )
    parser.add_argument("src", help="released/trained checkpoint: local folder or Hub id (Alibaba-NLP/GVE-3B)")
    parser.add_argument("dst", help="output folder")
    parser.add_argument("--revision", default=None, help="Hub revision of SRC")
    parser.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float16", "float32"])
    return parser


def run(args: argparse.Namespace) -> int:
    import torch  # the command's heavy imports, here only

    from ..convert import convert_checkpoint

    dtype = args.dtype if args.dtype == "auto" else getattr(torch, args.dtype)
    out = convert_checkpoint(args.src, args.dst, revision=args.revision, dtype=dtype)
    print(f"Wrote GVE checkpoint to {out}")
    return 0
