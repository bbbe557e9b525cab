# Copyright 2026 The GVE package authors. Apache-2.0.
"""`gve synthesize --config FILE.yaml [--key value ...]`: V-SynFlow, from captioned videos to a
video-retrieval training set (one dataset config per task), resumable.

    gve synthesize --config recipes/configs/vsynflow.yaml
    gve synthesize --config recipes/configs/vsynflow.yaml --stages '[qc]' --qc_report_only

The YAML file sets the settings, the options given here override them (lists as several
values or one YAML list, mappings as YAML, ``null`` clears an optional setting); unknown keys
are errors. The same settings run on several processes with
``accelerate launch recipes/synthesize.py --config ...``.
"""

from __future__ import annotations

import argparse

from ..synthesis.config import SynthesisConfig


def build_parser(prog: str = "gve synthesize") -> argparse.ArgumentParser:
    return SynthesisConfig.parser(prog=prog, description=__doc__)


def run(args: argparse.Namespace) -> int:
    from ..synthesis.pipeline import run_and_report  # the command's heavy imports, here only

    return run_and_report(SynthesisConfig.from_args(args))
