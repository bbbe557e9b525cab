# Copyright 2026 The GVE package authors. Apache-2.0.
"""Build or update the index of a folder (or a list of videos): the library of ``gve index``.

The vectors live in one store, the `EmbeddingCache` under the index folder (default
``<folder>/.gve_index/``), filled through `CachedEncoder` with `item_key` keys: whole-video
vectors with the encoder itself, segments with a `SegmentEncoder`. So only new or changed files
are embedded, a killed run resumes from what was flushed (every ``flush_every`` videos or
``flush_seconds``), and a file moved or copied keeps its vectors. The table (`table.write_table`:
parquet + FAISS) is then written from the store for the files listed now, so removed files drop
out; it is a view, rewritten only when its rows change, never edited on its own.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..embedding_cache import Fingerprints, item_key, namespace_for
from ..encoders import CachedEncoder, recorded_reason
from ..segments import SegmentEncoder
from .listing import INDEX_DIRNAME, LEGACY_CACHE_DIRNAME, Listing, Skipped, is_url, list_source
from .table import RECORD_FILE, FaissKind, TableRows, read_record, segments_label, write_table

Engine = Literal["local", "ray"]
TABLES_DIR = "tables"


@dataclass
class IndexSummary:
    """What one ``gve index`` run did.

    Attributes:
        index: the table folder.
        videos: videos in the index now.
        rows: vectors in the index (segments, or one per video).
        encoded: videos embedded by this run.
        reused: videos whose vectors were in the store already.
        skipped: files not indexed (unreadable now, or recorded as failing until they change).
        removed: videos of the previous table that are gone from the source.
    """

    index: str
    videos: int
    rows: int
    encoded: int
    reused: int
    skipped: list[Skipped] = field(default_factory=list)
    removed: int = 0
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "videos": self.videos,
            "rows": self.rows,
            "encoded": self.encoded,
            "reused": self.reused,
            "skipped": len(self.skipped),
            "removed": self.removed,
            "skipped_files": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "problems": self.problems,
        }


def index_root(listing: Listing, index_dir: str | os.PathLike | None = None) -> Path:
    """Where the index of ``listing`` lives: ``index_dir``, else ``<root>/.gve_index`` (a
    ``.gve_cache`` left by an older ``gve search`` is moved there: same layout, same keys)."""
    if index_dir is not None:
        return Path(index_dir).expanduser()
    root = listing.root / INDEX_DIRNAME
    legacy = listing.root / LEGACY_CACHE_DIRNAME
    if not root.exists() and legacy.is_dir():
        os.replace(legacy, root)
    return root


def table_folder(root: Path, encoder: Any) -> Path:
    """The table of ``encoder``'s vectors under the index ``root``: ``tables/videos-<hash>`` or
    ``tables/segments-10s-<hash>`` (the hash of the model and its settings)."""
    settings = encoder.cache_settings(encoder.instruction_for("document", None))
    return root / TABLES_DIR / f"{segments_label(settings.get('segments'))}-{namespace_for(settings)[:8]}"


def build_index(
    encoder: Any,
    source: str | os.PathLike,
    *,
    index_dir: str | os.PathLike | None = None,
    segment_seconds: float | None = None,
    stride_seconds: float | None = None,
    segments: Literal["fixed", "shots"] = "fixed",
    batch_size: int = 4,
    num_workers: int = 2,
    flush_every: int = 64,
    flush_seconds: float | None = 30.0,
    show_progress_bar: bool = False,
    engine: Engine = "local",
    ray_options: dict | None = None,
    faiss_kind: FaissKind = "auto",
    precisions: tuple[str, ...] = (),
    listing: Listing | None = None,
) -> IndexSummary:
    """Index the videos of ``source`` (a folder, or a text file of paths and URLs) with
    ``encoder`` (a `GVEEncoder`, or any `Encoder`): whole videos, or with ``segment_seconds`` their
    segments (``segments="shots"``: their shots, `video.shot_windows`). Only what the store lacks
    is embedded, by this process (``engine="local"``) or by a Ray Data pipeline (``"ray"``,
    `ray_engine.fill_with_ray`: identical vectors).

    Args:
        listing: ``source`` already listed (`list_source`), to list it once.
        faiss_kind, precisions: the table's FAISS index, and quantized codes to write as well.

    Raises:
        FileNotFoundError: ``source`` is missing or holds no video.
    """
    listing = listing or list_source(source)
    root = index_root(listing, index_dir)
    if segments == "shots" or segment_seconds is not None:
        seconds = 10.0 if segment_seconds is None else segment_seconds  # shots: not used
        encoder = SegmentEncoder(encoder, seconds, stride_seconds, segments=segments)
    fingerprints = Fingerprints(root / "content-keys.json")
    cached = CachedEncoder(
        encoder, root, flush_every=flush_every, flush_seconds=flush_seconds, fingerprints=fingerprints
    )
    items = [{"video": video} for video in listing.videos]
    keys = [item_key(item, fingerprints) for item in items]
    fingerprints.save()
    store = cached.store("document")
    store.refresh()
    todo = set(store.missing(keys))
    if engine == "ray" and todo:
        from .ray_engine import fill_with_ray

        fill_with_ray(encoder, store, items, keys, batch_size=batch_size, flush_every=flush_every,
                      flush_seconds=flush_seconds, **(ray_options or {}))  # fmt: skip
    elif engine not in ("local", "ray"):
        raise ValueError(f"engine must be 'local' or 'ray', got {engine!r}")
    result = cached.encode(
        items, batch_size=batch_size, role="document", keys=keys, num_workers=num_workers,
        show_progress_bar=show_progress_bar,
    )  # fmt: skip
    skipped = listing.skipped + [Skipped(listing.videos[e.index], recorded_reason(e)) for e in result.errors]
    good = sorted(set(result.indices))
    folder = table_folder(root, encoder)
    previous = _previous_paths(folder)
    rows = _table_rows(listing, result, fingerprints)
    removed = previous - set(rows.paths) - {_relative(listing, s.path) for s in skipped}
    record = _record(encoder, listing, folder, rows, faiss_kind, precisions)
    if not _unchanged(folder, record):
        write_table(folder, rows, record, faiss_kind=faiss_kind, precisions=precisions)
    encoded = sum(1 for i in good if keys[i] in todo)
    return IndexSummary(
        index=str(folder), videos=len(good), rows=len(rows.paths), encoded=encoded, reused=len(good) - encoded,
        skipped=sorted(skipped, key=lambda s: s.path), removed=len(removed), problems=cached.problems,
    )  # fmt: skip


def _relative(listing: Listing, path: str) -> str:
    """How a video is named in the table: relative to the source's root (POSIX), or as listed."""
    if is_url(path):
        return path
    relative = os.path.relpath(os.path.abspath(path), listing.root)  # links are not followed
    if relative == ".." or relative.startswith(".." + os.sep):  # a listed file outside the list's folder
        return os.path.abspath(path)
    return Path(relative).as_posix()


def _table_rows(listing: Listing, result: Any, fingerprints: Fingerprints) -> TableRows:
    """Rows for the table, sorted by path then start."""
    spans = result.spans if result.spans is not None else [(None, None)] * len(result.indices)
    order = sorted(range(len(result.indices)), key=lambda r: (_relative(listing, listing.videos[result.indices[r]]),
                                                               spans[r][0] or 0.0))  # fmt: skip
    paths, content, starts, ends = [], [], [], []
    for r in order:
        video = listing.videos[result.indices[r]]
        paths.append(_relative(listing, video))
        content.append(None if is_url(video) else fingerprints(video))
        starts.append(spans[r][0])
        ends.append(spans[r][1])
    embeddings = result.embeddings.numpy()[order] if order else np.zeros((0, result.embeddings.shape[-1]), np.float32)
    return TableRows(paths, content, starts, ends, np.ascontiguousarray(embeddings, dtype=np.float32))


def _record(encoder: Any, listing: Listing, folder: Path, rows: TableRows, faiss_kind: str, precisions: tuple) -> dict:
    describe = encoder.describe()
    digest = hashlib.sha256(json.dumps([rows.paths, rows.content_keys, rows.starts, rows.ends]).encode())
    digest.update(json.dumps([faiss_kind, sorted(precisions)]).encode())
    return {
        "model": {k: describe.get(k) for k in ("model", "commit", "local_digest", "revision") if describe.get(k)},
        "encoder": describe,
        "sampling": describe.get("sampling"),
        "segments": describe.get("segments"),
        "settings": encoder.cache_settings(encoder.instruction_for("document", None)),
        "root": os.path.relpath(listing.root, folder),
        "rows_digest": digest.hexdigest()[:32],
    }


def _unchanged(folder: Path, record: dict) -> bool:
    try:
        old = read_record(folder)
    except FileNotFoundError:
        return False
    same = old.get("rows_digest") == record["rows_digest"] and old.get("settings") == json.loads(
        json.dumps(record["settings"], default=str)
    )
    return same and all((folder / name).is_file() for name in old["files"])


def _previous_paths(folder: Path) -> set[str]:
    if not (folder / RECORD_FILE).is_file():
        return set()
    try:
        import pyarrow.parquet as pq

        record = read_record(folder)
        return {
            p
            for name in record["files"]
            for p in pq.read_table(folder / name, columns=["path"]).column("path").to_pylist()
        }
    except (FileNotFoundError, OSError, ValueError):
        return set()


__all__ = ["IndexSummary", "build_index", "index_root", "table_folder"]
