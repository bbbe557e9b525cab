# Copyright 2026 The GVE package authors. Apache-2.0.
"""The media of the dataset folder V-SynFlow writes: pruning what the pool no longer holds.
The parquet configs are written by `modeling_gve.pairs.write_task`; the Hub upload is
`modeling_gve.hub`.

Layout::

    <root>/README.md, <root>/T2V/train-00000-of-00001.parquet ...   (`modeling_gve.pairs`)
    <root>/media/videos/<id>.mp4, media/frames/<id>/frame-000.jpg, media/clips/<id>/clip-000.mp4
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from .. import pairs
from .._deprecation import moved_names

WORK_DIRNAME = ".vsynflow"


def prune_media(root: str | os.PathLike, keep: Iterable[str]) -> int:
    """Delete files under ``root/media`` not in ``keep`` (relative paths), e.g. left by a run
    with other settings. Returns how many were deleted."""
    root = Path(root)
    keep = {Path(p).as_posix() for p in keep}
    removed = 0
    media = root / "media"
    if not media.is_dir():
        return 0
    for path in sorted(media.rglob("*")):
        if path.is_file() or path.is_symlink():
            if path.relative_to(root).as_posix() not in keep:
                path.unlink()
                removed += 1
    for folder in sorted((p for p in media.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return removed


__getattr__ = moved_names(
    __name__,
    {
        "NEGATIVE_TYPE": ("modeling_gve.pairs.SCHEMA.field('negatives').type", lambda: pairs.SCHEMA.field("negatives").type),
        "ROW_SCHEMA": "modeling_gve.pairs:SCHEMA",
        "config_entry": "modeling_gve.pairs:config_entry",
        "remove_task": "modeling_gve.pairs:remove_task",
        "write_task": "modeling_gve.pairs:write_task",
    },
)

__all__ = ["WORK_DIRNAME", "prune_media"]
