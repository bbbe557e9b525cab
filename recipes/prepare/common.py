# Copyright 2026 The GVE package authors. Apache-2.0.
"""What the public-dataset converters share: reading an annotation file (or a Hub dataset of
annotations), and writing the training pairs into the folder that holds the media.

The dataset root is the folder of the media: the parquet files and the card are written there
(``<root>/<DIRECTION>/train-*.parquet``, `modeling_gve.pairs.write_task`), media paths are
relative to it, and nothing is copied. A media file that is missing, or that does not resolve
inside the root (`modeling_gve.paths.resolve_inside`), leaves its rows out; the counts are printed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from modeling_gve.pairs import write_task
from modeling_gve.paths import MediaPathError, resolve_inside
from modeling_gve.synthesis.sources import read_rows

logger = logging.getLogger("prepare")


def read_annotations(source: str, config: str | None = None, split: str = "train") -> list[dict[str, Any]]:
    """Records of a local ``.json`` (a list, or an object of lists), ``.jsonl``, ``.csv`` or
    ``.parquet`` file, or of a Hub dataset ``source`` (with ``config`` and ``split``).

    A JSON object is returned as one record (converters of files such as MSR-VTT's
    ``MSRVTT_data.json`` read their own keys)."""
    path = Path(source)
    if not path.exists():
        if source.count("/") != 1:
            raise FileNotFoundError(f"annotations {source!r}: no such file, and not a Hub dataset id")
        import datasets

        return datasets.load_dataset(source, config, split=split).to_list()
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, list) else [data]
    return read_rows(path)  # .jsonl, .csv, .parquet: V-SynFlow's reader of caption files


def media_path(root: Path, name: str) -> str | None:
    """``name`` (relative to ``root``) if the file exists inside ``root``, else ``None``."""
    try:
        path = resolve_inside(root, name)
    except MediaPathError:
        return None
    return name if path.is_file() else None


def write_pairs(root: Path, direction: str, rows: Iterable[dict], skipped: dict[str, int]) -> Path:
    """Write ``rows`` as task ``direction`` of the dataset at ``root``; report the counts."""
    rows = list(rows)
    if not rows:
        raise ValueError(f"no {direction} pair left to write in {root} (skipped: {skipped})")
    folder = write_task(root, direction, rows)
    logger.warning("wrote %d %s pairs to %s; skipped %s", len(rows), direction, folder, skipped or "nothing")
    return folder


def captions_of(value: Any) -> list[str]:
    """A caption field as a list of non-empty captions (one string, or a list of them)."""
    values = value if isinstance(value, list) else [value]
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


__all__ = ["captions_of", "media_path", "read_annotations", "write_pairs"]
