# Copyright 2026 The GVE package authors. Apache-2.0.
"""Training data, by concern:

* `mixture`: the mixture file (`TaskSpec`, `load_mixture`);
* `task_data`: one task's dataset, its seeded order, rows -> items, bad rows (`TaskData`, `BadRow`);
* `batching`: task-homogeneous global batches and this process's tokenized share (`BatchPlanner`,
  `BatchLoader`, `TrainBatch`).

The format of the rows is `modeling_gve.pairs` (docs/training_data.md).
"""

from ..._deprecation import moved_names
from .batching import BatchLoader, BatchPlan, BatchPlanner, LoadedRow, TrainBatch
from .mixture import TaskSpec, load_mixture
from .task_data import (
    BadDataError,
    BadRow,
    MediaResolver,
    RowFieldError,
    RowItems,
    TaskData,
    item_id,
    open_tasks,
    row_items,
)

__getattr__ = moved_names(
    __name__,
    {
        "DEFAULT_INSTRUCTIONS": "modeling_gve.directions:INSTRUCTIONS",
        "LETTERS": "modeling_gve.directions:LETTERS",
        "SCHEMA_COLUMNS": "modeling_gve.pairs:COLUMNS",
        "direction_of": "modeling_gve.pairs:direction_of",
        "write_task": "modeling_gve.pairs:write_task",
        "default_instruction": "modeling_gve.directions:instruction",
    },
)

__all__ = [
    "BadDataError",
    "BadRow",
    "BatchLoader",
    "BatchPlan",
    "BatchPlanner",
    "LoadedRow",
    "MediaResolver",
    "RowFieldError",
    "RowItems",
    "TaskData",
    "TaskSpec",
    "TrainBatch",
    "item_id",
    "load_mixture",
    "open_tasks",
    "row_items",
]
