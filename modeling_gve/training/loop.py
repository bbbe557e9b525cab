# Copyright 2026 The GVE package authors. Apache-2.0.
"""Deprecated: the training loop moved to `modeling_gve.training.trainer` (`Trainer` and its building
blocks) and `modeling_gve.training.checkpoints`; the recipe's steps are ``recipes/pyramid.py``'s
``main``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .._deprecation import moved_names, warn_moved

if TYPE_CHECKING:
    from .config import PyramidConfig

_TRAINER = "modeling_gve.training.trainer"
_CHECKPOINTS = "modeling_gve.training.checkpoints"
_moved = moved_names(
    __name__,
    {
        **{name: f"{_TRAINER}:{name}" for name in (
            "Trainer", "contrastive_backward", "make_accelerator", "make_embed", "max_over_processes", "open_mixture",
        )},  # fmt: skip
        **{name: f"{_CHECKPOINTS}:{name}" for name in ("find_checkpoint", "ADAPTER_FILE", "STATE_FILE")},
    },
)


def train(config: PyramidConfig) -> Path:
    """Deprecated: run ``recipes/pyramid.py`` (its ``main`` holds these steps)."""
    from accelerate.utils import set_seed

    from .model import build_training_model, load_processor
    from .trainer import Trainer, make_accelerator, open_mixture

    warn_moved(f"{__name__}.train", "recipes/pyramid.py (main)")
    accelerator = make_accelerator(config.training)
    set_seed(config.training.seed)
    model, processor = build_training_model(config.model), load_processor(config.model)
    tasks = open_mixture(config.data, config.training.seed, accelerator)
    return Trainer(config, accelerator, model, processor, tasks).train()


def __getattr__(name: str):
    return _moved(name)
