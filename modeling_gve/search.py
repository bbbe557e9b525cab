# Copyright 2026 The GVE package authors. Apache-2.0.
"""Search a folder of videos by text, image or video (the library of `gve search DIR QUERY`).

The videos under DIR are embedded once with GVE and cached in ``DIR/.gve_cache`` (keyed by
file content, model and preprocessing settings), so later searches only embed the query
and whatever files are new or changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .embedding_cache import EmbeddingCache, file_fingerprint
from .inference import cache_settings, encode_cached
from .modeling_gve import GVEModel
from .prompts import DIRECTION_PROMPTS

VIDEO_EXTENSIONS = {".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts"}
CACHE_DIRNAME = ".gve_cache"
LETTERS = {"text": "T", "image": "I", "video": "V"}


def query_direction(kind: str) -> str:
    """A query kind (``"text+image"``) -> its task direction against a video folder (``"TI2V"``)."""
    return "".join(LETTERS[k] for k in kind.split("+")) + "2V"


# Query instructions (system turn) per query kind with a default: the task-direction instructions
# of `modeling_gve.prompts` (those GVE was trained and evaluated with). Other combinations
# (image+video, text+image+video) have none: they need --instruction.
QUERY_INSTRUCTIONS = {
    kind: DIRECTION_PROMPTS[query_direction(kind)] for kind in ("text", "image", "video", "text+image", "text+video")
}


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
    kind (`QUERY_INSTRUCTIONS`).

    Raises:
        ValueError: no query part, or a combination without a default instruction (image+video,
            text+image+video) and no ``instruction``.
    """
    item = {k: v for k, v in (("text", text), ("image", image), ("video", video)) if v is not None}
    if not item:
        raise ValueError("give a text query, --image or --video")
    kind = "+".join(k for k in ("text", "image", "video") if k in item)
    if instruction is None:
        if kind not in QUERY_INSTRUCTIONS:
            raise ValueError(
                f"no default instruction for a {kind} query (defaults exist for {', '.join(QUERY_INSTRUCTIONS)}); "
                'give one with --instruction "Find the video ..."'
            )
        instruction = QUERY_INSTRUCTIONS[kind]
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
    cache = EmbeddingCache(folder / CACHE_DIRNAME, cache_settings(model))
    keys = [file_fingerprint(p) for p in videos]
    result = encode_cached(
        model,
        [{"video": str(p)} for p in videos],
        keys,
        cache,
        batch_size=batch_size,
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


__all__ = ["QUERY_INSTRUCTIONS", "SearchHit", "build_query", "find_videos", "query_direction", "search_folder"]
