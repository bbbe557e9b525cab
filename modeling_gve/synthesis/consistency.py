# Copyright 2026 The GVE package authors. Apache-2.0.
"""Cross-modal consistency filtering (V-SynFlow stage 1, paper §3.2): embed each video and
its caption, drop pairs whose cosine similarity is under a threshold.

The caption is embedded as a query (with a text-to-video instruction) and the video as a
document, exactly as a retrieval model compares them, through a `CachedEncoder` (keyed by content:
a video `gve uvrb` embedded with the same model and settings is not embedded again). Scores are kept, not just decisions,
so the threshold can be chosen from their distribution (`score_distribution`,
`format_distribution`) and changed later without embedding anything again.
"""

from __future__ import annotations

from typing import Sequence

import torch

from .._deprecation import moved_names
from ..embedding_cache import item_key
from ..encoders import Encoder
from .sources import SourceVideo

QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


def consistency_scores(
    encoder: Encoder,
    pairs: Sequence[SourceVideo],
    *,
    instruction: str,
    batch_size: int = 8,
    show_progress_bar: bool = True,
) -> tuple[dict[str, float], dict[str, str]]:
    """cosine(caption, video) per pair, with ``encoder`` (a `CachedEncoder` to keep the vectors).

    Returns:
        ``(scores, errors)``: ``{video id: score}`` and ``{video id: reason}`` for pairs whose
        video or caption could not be embedded.
    """
    if not pairs:
        return {}, {}
    options = {"batch_size": batch_size, "on_error": "skip", "show_progress_bar": show_progress_bar}
    videos = encoder.encode([{"video": p.video} for p in pairs], role="document", **options)
    texts = encoder.encode([p.caption for p in pairs], instruction, role="query", **options)
    errors = {pairs[e.index].id: f"video: {e.reason}" for e in videos.errors}
    errors.update({pairs[e.index].id: f"caption: {e.reason}" for e in texts.errors})
    video_rows = {index: row for row, index in enumerate(videos.indices)}
    text_rows = {index: row for row, index in enumerate(texts.indices)}
    both = [i for i in range(len(pairs)) if i in video_rows and i in text_rows]
    if not both:
        return {}, errors
    v = videos.embeddings[[video_rows[i] for i in both]]  # (n, D)
    t = texts.embeddings[[text_rows[i] for i in both]]  # (n, D)
    sims = (v * t).sum(-1)  # (n,) cosine: both are L2-normalised
    return {pairs[i].id: float(s) for i, s in zip(both, sims.tolist())}, errors


def score_distribution(scores: Sequence[float], bins: int = 20, threshold: float | None = None) -> dict:
    """Summary of a score list: count, mean, std, min/max, quantiles, a histogram (``edges`` of
    length ``bins + 1``, ``counts`` of length ``bins``) and, with a threshold, how many are below."""
    if not len(scores):
        return {"count": 0}
    values = torch.tensor(list(scores), dtype=torch.float64)
    lo, hi = float(values.min()), float(values.max())
    if hi == lo:
        hi = lo + 1e-6
    counts = torch.histc(values, bins=bins, min=lo, max=hi)
    edges = torch.linspace(lo, hi, bins + 1)
    out = {
        "count": int(values.numel()),
        "mean": float(values.mean()),
        "std": float(values.std()) if values.numel() > 1 else 0.0,
        "min": float(values.min()),
        "max": float(values.max()),
        "quantiles": {f"{q:g}": float(torch.quantile(values, q)) for q in QUANTILES},
        "histogram": {"edges": [round(float(e), 6) for e in edges], "counts": [int(c) for c in counts]},
    }
    if threshold is not None:
        out["threshold"] = threshold
        out["below_threshold"] = int((values < threshold).sum())
    return out


def format_distribution(name: str, dist: dict, width: int = 40) -> str:
    """A text report of `score_distribution` (quantiles, histogram bars, what the threshold drops)."""
    if not dist.get("count"):
        return f"{name}: no scores"
    lines = [
        f"{name}: {dist['count']} scores, mean {dist['mean']:.4f} (std {dist['std']:.4f}), "
        f"min {dist['min']:.4f}, max {dist['max']:.4f}"
    ]
    lines.append("  quantiles: " + "  ".join(f"p{float(q) * 100:g}={v:.4f}" for q, v in dist["quantiles"].items()))
    threshold = dist.get("threshold")
    edges, counts = dist["histogram"]["edges"], dist["histogram"]["counts"]
    top = max(counts) or 1
    for i, count in enumerate(counts):
        marker = " <- threshold" if threshold is not None and edges[i] <= threshold < edges[i + 1] else ""
        lines.append(
            f"  [{edges[i]:+.4f}, {edges[i + 1]:+.4f}) {'#' * round(width * count / top):<{width}} {count}{marker}"
        )
    if threshold is not None:
        lines.append(f"  threshold {threshold}: {dist['below_threshold']} of {dist['count']} below it")
    return "\n".join(lines)


__getattr__ = moved_names(
    __name__,
    {
        "text_key": ("modeling_gve.embedding_cache.item_key", lambda: item_key),
        "video_key": ("modeling_gve.embedding_cache.item_key({'video': path})", lambda: lambda p: item_key({"video": p})),
    },
)

__all__ = ["QUANTILES", "consistency_scores", "format_distribution", "score_distribution"]
