# Copyright 2026 The GVE package authors. Apache-2.0.
"""Search a folder of videos by text, image or video (the library of `gve search DIR QUERY`).

The videos under DIR are embedded once with GVE and cached in ``DIR/.gve_cache`` (a
`CachedEncoder`: keyed by file content, model and preprocessing settings), so later searches
only embed the query and whatever files are new or changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ._deprecation import moved_names
from .directions import INSTRUCTIONS, of
from .encoders import CachedEncoder, GVEEncoder
from .modeling_gve import GVEModel

VIDEO_EXTENSIONS = {".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts"}
CACHE_DIRNAME = ".gve_cache"


@dataclass
class SearchHit:
    rank: int
    score: float
    path: str


def find_videos(folder: str | Path) -> list[Path]:
    """Video files under ``folder`` (recursive, sorted), skipping the cache folder.

    Raises:
        FileNotFoundError: ``folder`` is not a folder or holds no video file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder")
    videos = sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in VIDEO_EXTENSIONS and CACHE_DIRNAME not in p.parts and p.is_file()
    )
    if not videos:
        raise FileNotFoundError(f"{folder}: no video files ({', '.join(sorted(VIDEO_EXTENSIONS))})")
    return videos


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


def search_folder(
    model: GVEModel,
    folder: str | Path,
    query: Any,
    *,
    instruction: str,
    top_k: int = 5,
    batch_size: int = 4,
    show_progress_bar: bool = True,
    num_workers: int = 2,
    videos: list[Path] | None = None,
) -> tuple[list[SearchHit], list[tuple[str, str]]]:
    """Rank the videos under ``folder`` (or the given ``videos``, from `find_videos`) for ``query``.

    Returns:
        ``(hits, skipped)``: the best ``top_k`` videos with cosine scores, and the files that
        could not be embedded with the reason.
    """
    folder = Path(folder)
    videos = find_videos(folder) if videos is None else videos
    cached = CachedEncoder(GVEEncoder(model), folder / CACHE_DIRNAME)
    result = cached.encode(
        [{"video": str(p)} for p in videos],
        batch_size=batch_size,
        role="document",
        show_progress_bar=show_progress_bar,
        num_workers=num_workers,
    )
    skipped = [(str(videos[e.index]), e.reason) for e in result.errors]
    if not result.indices:
        return [], skipped
    query_embedding = model.encode([query], instruction=instruction)  # (1, D)
    scores = (query_embedding @ result.embeddings.T)[0]  # (num_good,)
    values, order = torch.topk(scores, min(top_k, scores.shape[0]))
    hits = [
        SearchHit(rank=r + 1, score=float(v), path=str(videos[result.indices[i]]))
        for r, (v, i) in enumerate(zip(values.tolist(), order.tolist()))
    ]
    return hits, skipped


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
    },
)

__all__ = ["SearchHit", "build_query", "find_videos", "search_folder"]
