# Copyright 2026 The GVE package authors. Apache-2.0.
"""Training GVE with the Modality Pyramid curriculum (paper §3.3, §A.8).

Modules, in the order a batch meets them:

* `config`: the recipe's argument dataclasses and YAML + command-line parsing;
* `data`: task datasets (`modeling_gve.pairs`, docs/training_data.md), the mixture file, task-homogeneous batches;
* `curriculum`: which task each step trains on (alignment-aware pyramid, static tiers, uniform);
* `model`: GVE + LoRA on the language model, and the final merge;
* `loss`: symmetric InfoNCE with all-gathered and hard negatives;
* `gradcache`: exact chunked back-propagation for large batches;
* `loop`: the accelerate training loop, checkpoints and resume.

Entry point: ``accelerate launch recipes/pyramid.py --config recipes/configs/gve-3b.yaml``.
"""

from .._deprecation import moved_names
from .config import PyramidConfig, parse_config
from .curriculum import CurriculumScheduler, alignment_probabilities, sigma_at
from .data import BadDataError, TaskSpec, load_mixture
from .loss import ContrastiveOutput, InfoNCELoss

__getattr__ = moved_names(
    __name__,
    {"default_tier": "modeling_gve.directions:tier", "write_task": "modeling_gve.pairs:write_task"},
)

__all__ = [
    "BadDataError",
    "ContrastiveOutput",
    "CurriculumScheduler",
    "InfoNCELoss",
    "PyramidConfig",
    "TaskSpec",
    "alignment_probabilities",
    "load_mixture",
    "parse_config",
    "sigma_at",
]
