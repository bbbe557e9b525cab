# Copyright 2026 The GVE package authors. Apache-2.0.
"""`gve uvrb`: score an embedding model on UVRB with the paper's protocol.

    gve uvrb --model Alibaba-NLP/GVE-3B --output runs/gve-3b
    gve uvrb --model ./my-ckpt --tasks MSRVTT CMP --data ./UVRB --output runs/x
    gve uvrb --data ./UVRB --verify runs/x/results.json     # is this copy the data that was scored?
    accelerate launch --multi_gpu --num_processes 8 -m modeling_gve uvrb --model Alibaba-NLP/GVE-7B --output runs/7b
    # several CPU processes (no GPU visible): the same launch with ACCELERATE_USE_CPU=true

Videos shared by tasks are encoded once, embeddings are cached on disk (a killed run resumes,
a finished one re-encodes nothing), and under ``accelerate launch`` every process encodes its
share. Writes results.json, results.md (paper-style tables) and radar.png under --output.
The options are the fields of `modeling_gve.uvrb.config.UVRBRunConfig`; ``--config FILE.yaml``
sets them from a file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..args import RecipeParser
from ..uvrb.config import UVRBRunConfig


def build_parser(prog: str = "gve uvrb") -> argparse.ArgumentParser:
    parser = RecipeParser([UVRBRunConfig], prog=prog, description=__doc__)
    for action in parser._actions:
        action.option_strings.sort(key=lambda option: "_" in option)  # --batch-size first, as gve uvrb spells them
        if "--no_show_progress_bar" in action.option_strings:
            action.help = argparse.SUPPRESS  # it works; --no-progress is the documented spelling
    no_progress = dict(dest="show_progress_bar", action="store_false", default=argparse.SUPPRESS)
    parser.add_argument("--no-progress", help="no progress bars (same as --show-progress-bar false)", **no_progress)
    return parser


def run(args: argparse.Namespace) -> int:
    (config,) = build_parser().parse_namespace(args)  # every value checked: a typo stops here, before any work
    from ..uvrb.layout import check_source

    check_source(config.data, config.data_revision)  # a Hub that cannot be asked: one line, before torch loads
    if config.verify:
        return _verify(config)
    from ..uvrb.runner import run_uvrb  # the command's heavy imports, here only

    results = run_uvrb(config)
    if results is not None:
        print((Path(config.output) / "results.md").read_text())
    return 0


def _verify(config: UVRBRunConfig) -> int:
    from ..uvrb.manifest import verify

    report = verify(config)
    for task, problems in report.items():
        print(f"{task}: " + ("ok" if not problems else "; ".join(problems)))
    bad = [task for task, problems in report.items() if problems]
    print(f"{len(report) - len(bad)} of {len(report)} tasks match {config.verify}")
    return 1 if bad else 0
