# Copyright 2026 The GVE package authors. Apache-2.0.
"""The paper's published UVRB scores (arXiv 2510.27571v1, Tables 1 and 2), as printed, read from
``paper_tables.csv`` (one row per model: ``AVG-D`` and the 16 tasks, then ``AVG-A`` and the abilities).

Used by the reports (the paper's rows beside ours) and by the tests (aggregating Table 1 must give
Table 2). Two printed values are known typos, kept as printed and listed in `KNOWN_TYPOS`.
"""

from __future__ import annotations

import csv
from importlib.resources import files

from .metrics import AGGREGATE_COLUMNS
from .tasks import TASKS

with files(__package__).joinpath("paper_tables.csv").open(encoding="utf-8") as _file:
    _ROWS = {row.pop("model"): {col: float(value) for col, value in row.items()} for row in csv.DictReader(_file)}

PAPER_MODELS: tuple[str, ...] = tuple(_ROWS)
# {model: {"AVG-D": ..., "MSRVTT": ..., ...}} and {model: {"AVG-A": ..., "TXT": ..., ..., "PR": ...}}
TABLE_1: dict[str, dict[str, float]] = {m: {c: r[c] for c in ("AVG-D", *TASKS)} for m, r in _ROWS.items()}
TABLE_2: dict[str, dict[str, float]] = {m: {c: r[c] for c in AGGREGATE_COLUMNS[1:]} for m, r in _ROWS.items()}

# (model, table, column) -> the value the other table implies: GME-2B's ability AVG (its Table 2
# columns average to 0.516) and VLM2Vec-V2's MSRVTT R@1 (its dataset AVG and CG imply 0.367).
KNOWN_TYPOS: dict[tuple[str, str, str], float] = {
    ("GME-2B", "TABLE_2", "AVG-A"): 0.516,
    ("VLM2Vec-V2", "TABLE_1", "MSRVTT"): 0.367,
}

__all__ = ["KNOWN_TYPOS", "PAPER_MODELS", "TABLE_1", "TABLE_2"]
