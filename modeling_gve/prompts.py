# Copyright 2026 The GVE package authors. Apache-2.0.
"""Deprecated: the query instructions moved to their concepts' homes.

* the 16 UVRB task prompts live in the task records: ``modeling_gve.uvrb.tasks.TASKS[name].prompt``
  (all of them: `modeling_gve.uvrb.tasks.task_prompts`);
* the instruction per task direction: `modeling_gve.directions.INSTRUCTIONS` (and
  `modeling_gve.directions.instruction`).
"""

from __future__ import annotations

import importlib
from typing import Any

from ._deprecation import warn_moved
from .directions import INSTRUCTIONS as DIRECTION_PROMPTS
from .directions import UVRB_WORDING as DIRECTION_UVRB_TASK
from .uvrb.tasks import task_prompts

warn_moved(
    "modeling_gve.prompts",
    "modeling_gve.uvrb.tasks.TASKS[name].prompt (UVRB prompts) and modeling_gve.directions.INSTRUCTIONS",
)

UVRB_PROMPTS: dict[str, str] = task_prompts()


def __getattr__(name: str) -> Any:
    # DEFAULT_INSTRUCTION's home imports torch: read it only when asked for
    if name == "DEFAULT_INSTRUCTION":
        return importlib.import_module(f"{__package__}.processing_gve").DEFAULT_INSTRUCTION
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DEFAULT_INSTRUCTION", "DIRECTION_PROMPTS", "DIRECTION_UVRB_TASK", "UVRB_PROMPTS"]
