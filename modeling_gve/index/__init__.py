# Copyright 2026 The GVE package authors. Apache-2.0.
"""The persistent index of a folder of videos (or a list of paths and URLs): whole-video or
segment vectors in one store, published as a parquet table with a FAISS index beside it.

- `listing`: what is indexed, and what is skipped with its reason.
- `build`: `build_index` (``gve index``): incremental, resumable, local or Ray engine.
- `table`: the parquet + FAISS table, `VideoIndex` to search it (exact, HNSW, int8 / binary codes).
- `ray_engine`: the Ray Data pipeline of ``gve index --engine ray``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "IndexSummary": "build",
    "build_index": "build",
    "index_root": "build",
    "table_folder": "build",
    "INDEX_DIRNAME": "listing",
    "VIDEO_EXTENSIONS": "listing",
    "Listing": "listing",
    "Skipped": "listing",
    "list_dataset": "listing",
    "list_source": "listing",
    "list_videos": "listing",
    "read_path_list": "listing",
    "Hit": "table",
    "VideoIndex": "table",
    "read_record": "table",
    "write_table": "table",
}


def __getattr__(name: str) -> Any:  # PEP 562: the listing is importable without torch
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)


__all__ = [
    "INDEX_DIRNAME",
    "VIDEO_EXTENSIONS",
    "Hit",
    "IndexSummary",
    "Listing",
    "Skipped",
    "VideoIndex",
    "build_index",
    "index_root",
    "list_dataset",
    "list_source",
    "list_videos",
    "read_path_list",
    "read_record",
    "table_folder",
    "write_table",
]
