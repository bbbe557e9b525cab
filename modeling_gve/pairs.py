# Copyright 2026 The GVE package authors. Apache-2.0.
"""The training-pair dataset: V-SynFlow writes it, the training recipe reads it.

One row is a (query, positive, hard negatives) triple; one parquet config per task direction
(``<root>/T2V/train-*.parquet``), declared in the card's ``configs:`` so that
``datasets.load_dataset(root, "T2V")`` reads it. Media are paths relative to ``<root>``. The
columns, the folder layout and how a mixture names a task: docs/training_data.md.

This module is the one home of that format: the columns (`COLUMNS`, `SCHEMA`), the one writer
(`write_task`, atomic) with the card's ``configs:`` entry (`config_entry`), and the readers' helpers
(`side`, `direction_of`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from .directions import MODALITIES, letters

SIDES = ("query", "pos")
COLUMNS: tuple[str, ...] = ("id", *(f"{s}_{m}" for s in SIDES for m in MODALITIES), "negatives")
ITEM_TYPE = pa.struct([(m, pa.string()) for m in MODALITIES])  # one hard negative
SCHEMA = pa.schema([(c, pa.string()) for c in COLUMNS[:-1]] + [("negatives", pa.list_(ITEM_TYPE))])
CARD = "README.md"
SPLIT = "train"


def side(row: Mapping, prefix: str) -> dict:
    """``{"text"|"image"|"video": value}`` of a row's query (``prefix="query"``) or positive
    (``"pos"``), null fields left out."""
    return {m: row[f"{prefix}_{m}"] for m in MODALITIES if row.get(f"{prefix}_{m}") is not None}


def direction_of(row: Mapping) -> str:
    """``"TI2V"`` for a row with query text + image and a video positive (``?`` for an empty side)."""
    query, positive = (letters(side(row, prefix)) for prefix in SIDES)
    return f"{query or '?'}2{positive or '?'}"


def config_entry(name: str) -> dict:
    """The card's ``configs:`` entry of task ``name``."""
    return {"config_name": name, "data_files": [{"split": SPLIT, "path": f"{name}/*.parquet"}]}


def _normalized(row: Mapping) -> dict:
    # Absent fields are null; columns outside the schema (a pipeline's own bookkeeping) are dropped.
    negatives = [{m: n.get(m) for m in MODALITIES} for n in row.get("negatives") or []]
    return {c: row.get(c) for c in COLUMNS[:-1]} | {"negatives": negatives}


def write_task(root: str | os.PathLike, name: str, rows: Sequence[Mapping], rows_per_file: int = 100_000) -> Path:
    """Write ``rows`` as task ``name`` of the dataset at ``root`` and declare it in the card.

    The files (``train-XXXXX-of-YYYYY.parquet``) are written in a temporary folder that then takes
    the task folder's place, so a reader never sees a mix of old and new files.

    Returns:
        The task folder, ``root / name``.
    """
    root = Path(root)
    final, tmp, old = root / name, root / f".{name}.tmp", root / f".{name}.old"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    count = max(1, -(-len(rows) // rows_per_file))
    for index in range(count):
        chunk = [_normalized(r) for r in rows[index * rows_per_file : (index + 1) * rows_per_file]]
        pq.write_table(pa.Table.from_pylist(chunk, schema=SCHEMA), tmp / f"train-{index:05d}-of-{count:05d}.parquet")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    _set_card_config(root, name, present=True)
    return final


def remove_task(root: str | os.PathLike, name: str) -> None:
    """Delete task ``name`` and its card entry (an empty config would not load)."""
    shutil.rmtree(Path(root) / name, ignore_errors=True)
    if (Path(root) / CARD).exists():
        _set_card_config(Path(root), name, present=False)


def _set_card_config(root: Path, name: str, present: bool) -> None:
    """Add (or drop) task ``name`` in the ``configs:`` of ``root``'s card, keeping the rest of it."""
    card = root / CARD
    meta, body = {}, ""
    if card.exists():
        text = card.read_text()
        if text.startswith("---\n"):
            head, _, body = text[4:].partition("\n---\n")
            meta = yaml.safe_load(head) or {}
        else:
            body = text
    configs = [c for c in meta.get("configs", []) if c.get("config_name") != name]
    configs += [config_entry(name)] if present else []
    meta["configs"] = sorted(configs, key=lambda c: c["config_name"])
    card.write_text("---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n" + body)


__all__ = [
    "COLUMNS",
    "ITEM_TYPE",
    "SCHEMA",
    "SIDES",
    "config_entry",
    "direction_of",
    "remove_task",
    "side",
    "write_task",
]
