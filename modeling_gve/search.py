# Copyright 2026 The GVE package authors. Apache-2.0.
"""Search videos by text, image or video (the library of ``gve search FOLDER_OR_INDEX QUERY``).

A folder (or a list of videos) is indexed first (`index.build_index`: only new or changed files
are embedded, into ``FOLDER/.gve_index``), then searched; an index table (``gve index`` output,
or a copy of it) is searched as it is. Hits are videos ranked by their best segment (or their
whole-video vector), or with ``moments=True`` the segments themselves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._deprecation import moved_names
from .directions import INSTRUCTIONS, of
from .index.listing import VIDEO_EXTENSIONS, Skipped, list_videos, unreadable_reason
from .index.table import Hit

# How long `--moments` segments are when no --segment-seconds is given.
DEFAULT_MOMENT_SECONDS = 10.0


@dataclass
class SearchResult:
    """The hits of one query, and what indexing the source reported."""

    hits: list[Hit]
    skipped: list[Skipped] = field(default_factory=list)
    summary: Any = None


def find_videos(folder: str | Path) -> list[Path]:
    """Video files under ``folder`` (recursive, sorted), without the index folder; entries that
    cannot be read are left out (`index.list_videos` lists them with the reason).

    Raises:
        FileNotFoundError: ``folder`` is not a folder or holds no video file.
    """
    listing = list_videos(folder)
    if not listing.videos:
        raise FileNotFoundError(f"{folder}: no readable video files ({len(listing.skipped)} skipped)")
    return [Path(v) for v in listing.videos]


def build_query(
    text: str | None, image: str | None, video: str | None, instruction: str | None = None
) -> tuple[Any, str]:
    """The query item and its instruction: ``instruction`` if given, else the one of the query's
    direction against a video folder (``text+image`` -> TI2V, `modeling_gve.directions.INSTRUCTIONS`:
    those GVE was trained and evaluated with).

    Raises:
        ValueError: no query part, or a combination without a default instruction (image+video,
            text+image+video) and no ``instruction``.
    """
    item = {k: v for k, v in (("text", text), ("image", image), ("video", video)) if v is not None}
    if not item:
        raise ValueError("give a text query, --image or --video")
    if instruction is None:
        direction = of(item, ["video"])
        if direction.name not in INSTRUCTIONS:  # image+video, text+image+video
            kinds = [d for d in INSTRUCTIONS if d.endswith("2V")]
            raise ValueError(
                f"no default instruction for a {'+'.join(item)} query ({direction.name}; defaults exist for "
                f"{', '.join(kinds)}); give one with --instruction \"Find the video ...\""
            )
        instruction = direction.instruction
    return item, instruction


def check_query_files(query: Any) -> None:
    """Fail before any work when a query's image or video file cannot be read, saying where it
    was looked for.

    Raises:
        FileNotFoundError: a missing, unreadable, empty or not-a-file query file.
    """
    for kind in ("image", "video"):
        value = query.get(kind) if isinstance(query, dict) else None
        if isinstance(value, (str, os.PathLike)):
            reason = unreadable_reason(value)
            if reason is not None:
                where = os.path.abspath(value)
                reason = "file not found" if reason.startswith("cannot be read (no such file") else reason
                raise FileNotFoundError(f"--{kind} {value}: {reason} (looked for {where})")


def search(
    encoder: Any,
    target: str | os.PathLike,
    query: Any,
    *,
    instruction: str,
    top_k: int = 5,
    moments: bool = False,
    segment_seconds: float | None = None,
    precision: str = "float32",
    rescore: bool = True,
    **index_options: Any,
) -> SearchResult:
    """Search ``target``: an index table (a ``gve index`` output folder), or a folder / list of
    videos, indexed first with ``index_options`` (`index.build_index`; ``moments`` without
    ``segment_seconds`` uses `DEFAULT_MOMENT_SECONDS`).

    Args:
        encoder: a `GVEEncoder` of the model the index was (or is to be) built with.
        query: a GVE input (text, ``{"image": ...}``, ``{"text": ..., "video": ...}``...).
        moments: rank segments rather than videos.
        precision, rescore: see `index.VideoIndex.search`.
    """
    from .index.build import build_index
    from .index.table import RECORD_FILE, VideoIndex, read_record

    summary = None
    if (Path(target) / RECORD_FILE).is_file():
        check_index_model(read_record(target), encoder)
        table = VideoIndex.open(target)
    else:
        if moments and segment_seconds is None:
            segment_seconds = DEFAULT_MOMENT_SECONDS
        precisions = (precision,) if precision != "float32" else ()
        summary = build_index(encoder, target, segment_seconds=segment_seconds, precisions=precisions, **index_options)
        table = VideoIndex.open(summary.index)
    query_embedding = encoder.encode([query], instruction=instruction, role="query", on_error="raise").embeddings
    hits = table.search(query_embedding, top_k, moments=moments, precision=precision, rescore=rescore)[0]
    return SearchResult(hits=hits, skipped=summary.skipped if summary else [], summary=summary)


def check_index_model(record: dict, encoder: Any) -> None:
    """The query model must be the index's (name and weights).

    Raises:
        ValueError: it is another model, naming both.
    """
    made_with = record.get("model") or {}
    query = {k: v for k, v in (encoder.describe() or {}).items() if k in made_with}
    if query != made_with:
        raise ValueError(
            f"the index was built with {made_with.get('model')!r} and the query model is {query.get('model')!r}: "
            f"search it with --model {made_with.get('model')} (or rebuild the index with this model)"
        )


def search_folder(
    model: Any,
    folder: str | Path,
    query: Any,
    *,
    instruction: str,
    top_k: int = 5,
    batch_size: int = 4,
    show_progress_bar: bool = True,
    num_workers: int = 2,
    videos: list[Path] | None = None,
) -> tuple[list[Hit], list[tuple[str, str]]]:
    """Rank the videos under ``folder`` for ``query`` (the folder is indexed in ``folder/.gve_index``).

    Returns:
        ``(hits, skipped)``: the best ``top_k`` videos with cosine scores, and the files that
        could not be embedded with the reason.
    """
    from .encoders import GVEEncoder

    result = search(
        GVEEncoder(model), folder, query, instruction=instruction, top_k=top_k, batch_size=batch_size,
        show_progress_bar=show_progress_bar, num_workers=num_workers,
    )  # fmt: skip
    return result.hits, [(s.path, s.reason) for s in result.skipped]


def _query_direction(kind: str) -> str:
    return of(kind.split("+"), ["video"]).name


__getattr__ = moved_names(
    __name__,
    {
        "LETTERS": "modeling_gve.directions:LETTERS",
        "QUERY_INSTRUCTIONS": (
            "modeling_gve.directions.INSTRUCTIONS (keyed by direction: a text query is T2V)",
            lambda: {k: INSTRUCTIONS[_query_direction(k)] for k in ("text", "image", "video", "text+image", "text+video")},
        ),
        "query_direction": ("modeling_gve.directions.of(query_modalities, ['video']).name", lambda: _query_direction),
        "SearchHit": "modeling_gve.index.table:Hit",
        "CACHE_DIRNAME": "modeling_gve.index.listing:INDEX_DIRNAME",
    },
)

__all__ = [
    "VIDEO_EXTENSIONS",
    "SearchResult",
    "build_query",
    "check_index_model",
    "check_query_files",
    "find_videos",
    "search",
    "search_folder",
]
