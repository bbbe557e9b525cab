# Copyright 2026 The GVE package authors. Apache-2.0.
"""Deprecated: the sentence-transformers files of a checkpoint are written by `modeling_gve.checkpoint`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import checkpoint
from ._deprecation import warn_moved
from .checkpoint import MODULE_TYPE, REQUIREMENTS, sentence_transformers_prompts

MODULE_FILE = "sentence_transformers_gve.py"

warn_moved("modeling_gve.sentence_transformers_checkpoint", "modeling_gve.checkpoint")


def write_sentence_transformers_files(model: Any, processor: Any, folder: str | Path) -> None:
    """Deprecated: `modeling_gve.checkpoint.write_sentence_transformers_files(processor, folder)`
    (the module's code is written with the model by `save_gve_checkpoint`)."""
    checkpoint.write_sentence_transformers_files(processor, folder)


__all__ = ["MODULE_TYPE", "REQUIREMENTS", "sentence_transformers_prompts", "write_sentence_transformers_files"]
