# Copyright 2026 The GVE package authors. Apache-2.0.
"""`gve uvrb`: score an embedding model on UVRB with the paper's protocol.

    python -m modeling_gve uvrb --model Alibaba-NLP/GVE-3B --output runs/gve-3b
    python -m modeling_gve uvrb --model ./my-ckpt --tasks MSRVTT CMP --data ./UVRB --output runs/x
    accelerate launch --multi_gpu --num_processes 8 -m modeling_gve uvrb --model Alibaba-NLP/GVE-7B --output runs/gve-7b
    # several CPU processes (no GPU visible): the same launch with ACCELERATE_USE_CPU=true

Videos shared by tasks are encoded once, embeddings are cached on disk (a killed run resumes,
a finished one re-encodes nothing), and under ``accelerate launch`` every process encodes its
share. Writes results.json, results.md (paper-style tables) and radar.png under --output.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

# The runner's defaults live in modules that import torch, so this command imports the library
# at the top (its --help loads torch) until UVRBRunConfig moves to a module without torch.
from ..hub_ids import DEFAULT_MODEL
from ..processing_gve import SamplingConfig
from ..suggest import SuggestingArgumentParser
from ..uvrb.data import DEFAULT_FRAMES_FPS
from ..uvrb.runner import UVRBRunConfig, run_uvrb
from ..uvrb.scoring import DEFAULT_MEMORY_BUDGET
from ..uvrb.tasks import HUB_REPO, resolve_tasks


def build_parser(prog: str = "gve uvrb") -> argparse.ArgumentParser:
    parser = SuggestingArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"GVE checkpoint or SentenceTransformer model (default {DEFAULT_MODEL})"
    )
    parser.add_argument("--output", required=True, help="output folder (results.json, results.md, radar.png)")
    parser.add_argument(
        "--tasks",
        nargs="*",
        default=None,
        help="task names and/or abilities (TXT, CMP, VIS, CG, FG, LC, S, T, PR); default: all 16",
    )
    parser.add_argument(
        "--data",
        default=HUB_REPO,
        help=f"local folder in the authors' layout or Hub dataset repo (default {HUB_REPO})",
    )
    parser.add_argument("--data-revision", default=None, help="Hub revision of --data")
    parser.add_argument(
        "--media", default="all", choices=["all", "videos", "frames"], help="media fetched from the Hub"
    )
    parser.add_argument("--encoder", default="auto", choices=["auto", "gve", "sentence-transformers"])
    parser.add_argument("--revision", default=None, help="Hub revision of --model")
    parser.add_argument("--device", default=None)
    parser.add_argument(
        "--dtype", default=None, choices=["bfloat16", "float16", "float32"], help="default: bf16 on GPU, fp32 on CPU"
    )
    parser.add_argument(
        "--sampling",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="preprocessing overrides, e.g. max_frames=16 video_max_pixels=313600",
    )
    parser.add_argument(
        "--frames-fps", type=float, default=DEFAULT_FRAMES_FPS, help="frame rate assumed for videos_frames/ folders"
    )
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--num-workers", type=int, default=2, help="threads reading media ahead of the model")
    parser.add_argument(
        "--flush-every", type=int, default=64, help="inputs per cache shard (the most an interruption loses)"
    )
    parser.add_argument("--cache-dir", default=None, help="embedding cache (default <output>/embedding_cache)")
    parser.add_argument(
        "--memory-budget-mb", type=int, default=DEFAULT_MEMORY_BUDGET // 2**20, help="size of one block of scores"
    )
    parser.add_argument("--trust-remote-code", action="store_true")
    parser.add_argument("--label", dest="model_label", default=None, help="row name for this model in the tables")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def parse_sampling(pairs: list[str]) -> dict:
    """``["max_frames=16", ...]`` -> ``{"max_frames": 16, ...}`` (values read as JSON when they parse)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--sampling expects KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def run(args: argparse.Namespace) -> int:
    sampling = parse_sampling(args.sampling)
    # Check names before loading anything; gve's CLI reports ValueErrors in one line.
    try:
        resolve_tasks(args.tasks)
        SamplingConfig().replace(**sampling)
    except (KeyError, TypeError) as err:  # unknown task or sampling option, with a "did you mean"
        raise ValueError(err.args[0]) from None
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(UVRBRunConfig) if hasattr(args, f.name)}
    given.update(tasks=args.tasks or None, sampling=sampling, show_progress_bar=not args.no_progress)
    config = UVRBRunConfig(**given)  # every option's dest is the field it sets
    results = run_uvrb(config)
    if results is not None:
        print((Path(config.output) / "results.md").read_text())
    return 0
