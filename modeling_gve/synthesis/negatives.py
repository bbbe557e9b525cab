# Copyright 2026 The GVE package authors. Apache-2.0.
"""Hard-negative mining with an embedder (paper §3.3 / Table 7: 1 negative for UVRD T2V, TI2V, TV2V).

For each task asked for, every row's query (with the task's instruction) and every distinct
positive (as a document) are embedded, and each row gets the ``k`` best-scoring positives of
OTHER pool videos (frames and clips of the row's own video are never its negatives) whose
score stays below ``margin`` times the row's positive score ("positive-aware" mining,
NV-Retriever: candidates scoring about as high as the positive are likely false negatives).

Embedding is split over processes (each fills the shared on-disk cache with its share); the
search runs on the main process, ``chunk_size`` queries at a time, so memory holds the
candidate matrix plus a ``(chunk_size, num_candidates)`` score block.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from .._deprecation import moved_names
from ..directions import instruction
from ..encoders import Encoder
from ..pairs import side
from .tasks import SOURCE


def _identity(item: dict) -> tuple:
    """A row item as written (text, relative media paths): how a positive is found among the candidates."""
    return tuple(sorted(item.items()))


def _plain(candidate: dict) -> dict:
    return {k: v for k, v in candidate.items() if k != SOURCE}


def _absolute(item: dict, root: Path) -> dict | str:
    """Encoder input: media paths made absolute; a text-only item is the bare string."""
    out = {m: (v if m == "text" else str(root / v)) for m, v in item.items()}
    return out["text"] if list(out) == ["text"] else out


def embedding_jobs(task: str, rows: Sequence[dict]) -> tuple[list[dict], list[dict]]:
    """``(queries, candidates)`` to embed for one task: one query per row, distinct positives."""
    queries = [side(r, "query") for r in rows]
    seen, candidates = set(), []
    for row in rows:
        item = side(row, "pos")
        if _identity(item) not in seen:
            seen.add(_identity(item))
            candidates.append(item | {SOURCE: row[SOURCE]})
    return queries, candidates


def embed_share(
    encoder: Encoder,
    task: str,
    rows: Sequence[dict],
    root: Path,
    process_index: int = 0,
    num_processes: int = 1,
    *,
    batch_size: int = 8,
    show_progress_bar: bool = True,
) -> None:
    """Embed this process's share (every ``num_processes``-th item) into ``encoder``'s cache."""
    queries, candidates = embedding_jobs(task, rows)
    for role, items in (("query", queries), ("document", [_plain(c) for c in candidates])):
        share = items[process_index::num_processes]
        if share:
            inputs = [_absolute(i, root) for i in share]
            encoder.encode(inputs, instruction(task), batch_size, role=role, show_progress_bar=show_progress_bar)


def mine(
    encoder: Encoder,
    task: str,
    rows: list[dict],
    root: Path,
    *,
    k: int,
    margin: float | None = 0.95,
    chunk_size: int = 256,
    batch_size: int = 8,
    show_progress_bar: bool = True,
) -> dict:
    """Fill ``row["negatives"]`` for every row of ``task`` (embedding whatever is missing; with a
    `CachedEncoder`, what the processes' `embed_share` stored is read back).

    Returns:
        counts: rows, rows given ``k`` negatives, rows with fewer, items that failed to embed.
    """
    queries, candidates = embedding_jobs(task, rows)
    plain = [_plain(c) for c in candidates]
    options = {"batch_size": batch_size, "show_progress_bar": show_progress_bar}
    q = encoder.encode([_absolute(i, root) for i in queries], instruction(task), role="query", **options)
    c = encoder.encode([_absolute(i, root) for i in plain], role="document", **options)
    cand_index = {_identity(item): j for j, item in enumerate(plain)}
    good_cand = torch.full((len(plain),), -1, dtype=torch.long)  # candidate -> row in c.embeddings
    good_cand[torch.tensor(c.indices, dtype=torch.long)] = torch.arange(len(c.indices))
    positive_column = [int(good_cand[cand_index[_identity(side(row, "pos"))]]) for row in rows]  # -1: not embedded
    usable = [j for j in range(len(plain)) if good_cand[j] >= 0]
    cand_emb = c.embeddings  # (M, D), rows aligned with `usable`
    videos = sorted({cand[SOURCE] for cand in candidates} | {r[SOURCE] for r in rows})
    video_id = {v: i for i, v in enumerate(videos)}
    cand_video = torch.tensor([video_id[candidates[j][SOURCE]] for j in usable], dtype=torch.long)  # (M,)

    stats = {
        "rows": len(rows),
        "full": 0,
        "partial": 0,
        "none": 0,
        "embedding_failures": len(q.errors) + len(c.errors),
    }
    query_rows = {i: r for r, i in enumerate(q.indices)}
    todo = [i for i in range(len(rows)) if i in query_rows and positive_column[i] >= 0]
    for start in range(0, len(todo), chunk_size):
        block = todo[start : start + chunk_size]
        scores = q.embeddings[[query_rows[i] for i in block]] @ cand_emb.T  # (b, M)
        pos_col = torch.tensor([positive_column[i] for i in block])
        positive = scores[torch.arange(len(block)), pos_col]  # (b,)
        row_video = torch.tensor([video_id[rows[i][SOURCE]] for i in block], dtype=torch.long)  # (b,)
        masked = scores.masked_fill(cand_video[None, :] == row_video[:, None], float("-inf"))
        if margin is not None:
            limit = positive - (1 - margin) * positive.abs()  # margin * positive for positive scores
            masked = masked.masked_fill(masked >= limit[:, None], float("-inf"))
        values, order = masked.topk(min(k, masked.shape[1]), dim=1)  # (b, k)
        for b, i in enumerate(block):
            picked = [usable[j] for v, j in zip(values[b].tolist(), order[b].tolist()) if v != float("-inf")]
            rows[i]["negatives"] = [
                {"text": plain[j].get("text"), "image": plain[j].get("image"), "video": plain[j].get("video")}
                for j in picked
            ]
    for row in rows:
        n = len(row["negatives"])
        stats["full" if n == k else "partial" if n else "none"] += 1
    return stats


__getattr__ = moved_names(__name__, {"TASK_INSTRUCTIONS": "modeling_gve.directions:INSTRUCTIONS"})

__all__ = ["embed_share", "embedding_jobs", "mine"]
