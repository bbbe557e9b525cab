# Copyright 2026 The GVE package authors. Apache-2.0.
"""Cosine scoring and top-k with bounded memory.

The naive way (``scores = Q @ C.T`` then ``argsort``) holds a ``(num_queries, num_candidates)``
matrix: 14,427 x 15,000 floats (866 MB) for PEV-K, 58 GB for 100k x 150k. Here blocks of
queries x blocks of candidates are scored in turn and only a running top-k per query is
kept, so peak memory is ``memory_budget`` plus ``(num_queries, k)`` whatever the sizes.
"""

from __future__ import annotations

import torch

DEFAULT_MEMORY_BUDGET = 64 * 2**20  # bytes for one block of scores
DEFAULT_CANDIDATE_BLOCK = 65536


def chunked_topk(
    queries: torch.Tensor,
    candidates: torch.Tensor,
    k: int,
    *,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    candidate_block: int = DEFAULT_CANDIDATE_BLOCK,
    device: str | torch.device | None = None,
    show_progress_bar: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` candidates per query by dot product (cosine for normalised embeddings).

    Args:
        queries (`torch.Tensor` of shape `(num_queries, dim)`)
        candidates (`torch.Tensor` of shape `(num_candidates, dim)`)
        k: how many to keep (capped at ``num_candidates``).
        memory_budget: bytes for one ``(query block, candidate block)`` score block.
        candidate_block: most candidates scored at once.
        device: where to compute (default: the queries' device); results come back on CPU.

    Returns:
        ``(scores, indices)``, both of shape `(num_queries, min(k, num_candidates))`, best first;
        ``indices`` index rows of ``candidates``.
    """
    _check_pair(queries, candidates, "C")
    num_queries, num_candidates = queries.shape[0], candidates.shape[0]
    k = min(k, num_candidates)
    out_scores, out_indices = _topk_outputs(num_queries, k)
    if num_queries == 0 or k == 0:
        return out_scores, out_indices
    device = torch.device(device) if device is not None else queries.device
    c_block = max(1, min(candidate_block, num_candidates))
    q_block = max(1, min(num_queries, memory_budget // (4 * c_block)))
    candidates = candidates.to(device, torch.float32)  # no copy when already there as float32

    from tqdm.auto import tqdm

    for q_start in tqdm(range(0, num_queries, q_block), desc="Scoring", unit="block", disable=not show_progress_bar):
        q = queries[q_start : q_start + q_block].to(device, torch.float32)  # (qb, D)
        best_scores = best_indices = None
        for c_start in range(0, num_candidates, c_block):
            scores = q @ candidates[c_start : c_start + c_block].T  # (qb, cb)
            values, indices = scores.topk(min(k, scores.shape[1]), dim=1)  # (qb, <=k)
            indices += c_start
            if best_scores is not None:
                values = torch.cat([best_scores, values], dim=1)  # (qb, <=2k)
                indices = torch.cat([best_indices, indices], dim=1)
                values, order = values.topk(k, dim=1)
                indices = indices.gather(1, order)
            best_scores, best_indices = values, indices
            del scores
        out_scores[q_start : q_start + q.shape[0]] = best_scores.cpu()
        out_indices[q_start : q_start + q.shape[0]] = best_indices.cpu()
    return out_scores, out_indices


def segment_max_topk(
    queries: torch.Tensor,
    segments: torch.Tensor,
    owners: torch.Tensor,
    num_videos: int,
    k: int,
    *,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    candidate_block: int = DEFAULT_CANDIDATE_BLOCK,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` videos per query, a video scoring its best segment (max over its segments'
    dot products), with the memory of `chunked_topk`: blocks of queries x blocks of segments,
    reduced into one ``(query block, num_videos)`` block of video scores.

    Args:
        queries (`torch.Tensor` of shape `(num_queries, dim)`)
        segments (`torch.Tensor` of shape `(num_segments, dim)`)
        owners (`torch.Tensor` of shape `(num_segments,)`): each segment's video, in ``[0, num_videos)``.
        num_videos: how many videos (a video without segments scores ``-inf``: last).

    Returns:
        ``(scores, indices)``, both of shape `(num_queries, min(k, num_videos))`, best first;
        ``indices`` are video indices.
    """
    _check_pair(queries, segments, "S")
    if owners.shape != (segments.shape[0],):
        raise ValueError(f"need one owner per segment: {tuple(owners.shape)} for {segments.shape[0]} segments")
    num_queries, num_segments = queries.shape[0], segments.shape[0]
    k = min(k, num_videos)
    out_scores, out_indices = _topk_outputs(num_queries, k)
    if num_queries == 0 or k == 0:
        return out_scores, out_indices
    device = torch.device(device) if device is not None else queries.device
    s_block = max(1, min(candidate_block, num_segments))
    q_block = max(1, min(num_queries, memory_budget // (4 * (s_block + num_videos))))
    segments, owners = segments.to(device, torch.float32), owners.to(device, torch.long)
    for q_start in range(0, num_queries, q_block):
        q = queries[q_start : q_start + q_block].to(device, torch.float32)  # (qb, D)
        best = torch.full((q.shape[0], num_videos), float("-inf"), device=device)  # (qb, V)
        for s_start in range(0, num_segments, s_block):
            scores = q @ segments[s_start : s_start + s_block].T  # (qb, sb)
            owner = owners[s_start : s_start + s_block].expand(q.shape[0], -1)  # (qb, sb)
            best.scatter_reduce_(1, owner, scores, reduce="amax")
        values, indices = best.topk(k, dim=1)  # (qb, k)
        out_scores[q_start : q_start + q.shape[0]] = values.cpu()
        out_indices[q_start : q_start + q.shape[0]] = indices.cpu()
    return out_scores, out_indices


def _check_pair(queries: torch.Tensor, rows: torch.Tensor, letter: str) -> None:
    """``queries`` `(Q, D)` and ``rows`` `(letter, D)`, or a `ValueError` naming both shapes."""
    if queries.ndim != 2 or rows.ndim != 2 or queries.shape[1] != rows.shape[1]:
        raise ValueError(f"need (Q, D) and ({letter}, D) tensors, got {tuple(queries.shape)} and {tuple(rows.shape)}")


def _topk_outputs(num_queries: int, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``(scores, indices)`` a top-k fills, on the CPU: both `(num_queries, k)`."""
    return torch.empty(num_queries, k, dtype=torch.float32), torch.empty(num_queries, k, dtype=torch.long)


def rank_candidate_lists(
    queries: torch.Tensor,
    candidates: torch.Tensor,
    lists: list[list[int]],
    *,
    query_block: int = 4096,
) -> list[list[int]]:
    """Rank each query's own candidates (MS-TI / MS-TV: about 10 per query).

    Args:
        queries (`torch.Tensor` of shape `(num_queries, dim)`)
        candidates (`torch.Tensor` of shape `(num_candidates, dim)`)
        lists: for each query, indices into ``candidates`` (any lengths).

    Returns:
        For each query, its candidate indices best first.
    """
    if len(lists) != queries.shape[0]:
        raise ValueError(f"{len(lists)} candidate lists for {queries.shape[0]} queries")
    ranked: list[list[int]] = []
    for start in range(0, len(lists), query_block):
        chunk = lists[start : start + query_block]
        width = max((len(c) for c in chunk), default=0)
        padded = torch.full((len(chunk), width), -1, dtype=torch.long)  # (qb, m), -1 = padding
        for row, items in enumerate(chunk):
            padded[row, : len(items)] = torch.as_tensor(items, dtype=torch.long)
        gathered = candidates[padded.clamp(min=0)].float()  # (qb, m, D)
        scores = torch.einsum("qd,qmd->qm", queries[start : start + len(chunk)].float(), gathered)  # (qb, m)
        scores[padded < 0] = float("-inf")
        order = scores.argsort(dim=1, descending=True, stable=True)
        ranked_idx = padded.gather(1, order)
        ranked.extend(row[row >= 0].tolist() for row in ranked_idx)
    return ranked


__all__ = ["DEFAULT_MEMORY_BUDGET", "chunked_topk", "rank_candidate_lists", "segment_max_topk"]
