# Copyright 2026 The GVE package authors. Apache-2.0.
"""The mixture file: which tasks a run trains on, with their batch size, hard negatives and size.

A *task* is one `datasets` dataset and direction (``T2V``, ``TI2V``, ...) in the training-pair
format of `modeling_gve.pairs`. ``recipes/mixtures/gve-3b.yaml`` holds the paper's Tables 6-7.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ...suggest import unknown_key_error


@dataclass
class TaskSpec:
    """One task of a mixture file.

    Args:
        task: unique label used in logs and checkpoints (e.g. ``UVRD-T2V``).
        path: dataset root folder (relative to ``data_root``) or Hub dataset repo id.
        name: dataset config name (in this schema, the direction: ``T2V``).
        split: dataset split.
        revision: Hub revision (branch, tag or commit) of a Hub dataset.
        streaming: stream the rows instead of downloading the whole dataset.
        batch_size: rows per process per step (paper: 32 or 64).
        num_hard_negatives: hard negatives used per row (the first ones of ``negatives``, or the
            ones re-mined by the prober with ``hard_negatives: prober``).
        num_samples: instances per epoch (subsample or repeat); default: the dataset's size.
        weight: sampling prior of the task (default: see ``task_prior``).
        instruction: query instruction; default: the direction's (`modeling_gve.directions.INSTRUCTIONS`).
        direction: expected direction, checked against the data (default: read from the data).
        tier: Modality Pyramid tier 1-4 (default: from the direction).
        frames_fps: frame rate of frame folders given as videos (frames extracted at 1 fps: 1.0).
        negatives_corpus: with ``hard_negatives: prober``, a dataset in the training-pair format
            whose positives are the candidate pool hard negatives are mined from (a folder relative
            to ``data_root`` or a Hub repo id, config ``name``); default: this task's own positives.
    """

    task: str
    path: str
    name: str | None = None
    split: str = "train"
    revision: str | None = None
    streaming: bool = False
    batch_size: int = 32
    num_hard_negatives: int = 0
    num_samples: int | None = None
    weight: float | None = None
    instruction: str | None = None
    direction: str | None = None
    tier: int | None = None
    frames_fps: float = 1.0
    negatives_corpus: str | None = None

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"task {self.task!r}: batch_size must be >= 1, got {self.batch_size}")
        if self.num_hard_negatives < 0:
            raise ValueError(f"task {self.task!r}: num_hard_negatives must be >= 0, got {self.num_hard_negatives}")
        if self.weight is not None and self.weight < 0:
            raise ValueError(f"task {self.task!r}: weight must be >= 0, got {self.weight}")
        if self.tier is not None and self.tier not in (1, 2, 3, 4):
            raise ValueError(f"task {self.task!r}: tier must be 1, 2, 3 or 4, got {self.tier}")


def _strict(cls: type, values: dict, where: str) -> Any:
    names = [f.name for f in dataclasses.fields(cls)]
    for key in values:
        if key not in names:
            raise unknown_key_error(key, names, where)
    try:
        return cls(**values)
    except TypeError as err:  # a missing required key
        raise ValueError(f"{where}: {err}") from None


def load_mixture(path: str | Path) -> list[TaskSpec]:
    """Read a mixture YAML: ``tasks:`` (a list of `TaskSpec` mappings) and optional
    ``defaults:`` applied to every task. Unknown keys fail with a "did you mean"."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"mixture file {str(path)!r} not found")
    data = yaml.safe_load(path.read_text()) or {}
    for key in data:
        if key not in ("tasks", "defaults"):
            raise unknown_key_error(key, ["tasks", "defaults"], str(path))
    defaults = data.get("defaults") or {}
    entries = data.get("tasks") or []
    tasks = [_strict(TaskSpec, {**defaults, **entry}, f"{path} task #{i + 1}") for i, entry in enumerate(entries)]
    if not tasks:
        raise ValueError(f"{path}: the mixture lists no tasks")
    names = [t.task for t in tasks]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{path}: task labels must be unique, repeated: {duplicates}")
    return tasks


__all__ = ["TaskSpec", "load_mixture"]
