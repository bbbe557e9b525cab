# Copyright 2026 The GVE package authors. Apache-2.0.
"""`gve convert`: a released or trained GVE checkpoint -> a self-contained packaged checkpoint
(what it holds: `modeling_gve.checkpoint`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ._deprecation import moved_names
from .checkpoint import save_gve_checkpoint
from .modeling_gve import GVEModel
from .processing_gve import GVEProcessor


def convert_checkpoint(
    src: str | Path,
    dst: str | Path,
    *,
    revision: str | None = None,
    dtype: str | torch.dtype = "auto",
    sampling: dict | None = None,
) -> Path:
    """Convert ``src`` (a local folder or a Hub id such as ``Alibaba-NLP/GVE-3B``) into ``dst``.

    Args:
        revision: Hub revision (branch, tag or commit) of ``src``.
        dtype: weight dtype of the output; ``"auto"`` keeps the checkpoint's.
        sampling: overrides of the preprocessing defaults saved with the processor.
    """
    model = GVEModel.from_pretrained(str(src), revision=revision, dtype=dtype)
    processor_kwargs = {"sampling": sampling} if sampling else {}
    processor = GVEProcessor.from_pretrained(str(src), revision=revision, **processor_kwargs)
    return save_gve_checkpoint(model, processor, dst)


def add_subcommand(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="Write a self-contained GVE checkpoint (AutoModel, remote code, processor defaults).",
        description=convert_checkpoint.__doc__,
    )
    parser.add_argument("src", help="released/trained checkpoint: local folder or Hub id (Alibaba-NLP/GVE-3B)")
    parser.add_argument("dst", help="output folder")
    parser.add_argument("--revision", default=None, help="Hub revision of SRC")
    parser.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float16", "float32"])
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> None:
    dtype = args.dtype if args.dtype == "auto" else getattr(torch, args.dtype)
    out = convert_checkpoint(args.src, args.dst, revision=args.revision, dtype=dtype)
    print(f"Wrote GVE checkpoint to {out}")


__getattr__ = moved_names(
    __name__,
    {
        "GVEConfig": "modeling_gve.configuration_gve:GVEConfig",
        "REMOTE_CODE_FILES": "modeling_gve.checkpoint:REMOTE_CODE_FILES",
    },
)

__all__ = ["convert_checkpoint"]
