# Copyright 2026 The GVE package authors. Apache-2.0.
"""Hard-negative mining: the positive-aware rule shared by V-SynFlow and training.

For a query whose positive scores ``s⁺``, a candidate is a hard negative if it scores below
``margin · s⁺`` (for a negative ``s⁺``: below ``s⁺ − (1 − margin)·|s⁺|``); the best ``k`` such
candidates are kept. Candidates that score about as high as the positive are likely false negatives
(a second true match of the query) and are skipped: NV-Retriever's "positive-aware" mining
(Moreira et al. 2024, arXiv 2407.15831), with its 95 % margin as the default.

Used by `modeling_gve.synthesis.negatives` (UVRD's pre-mined ``negatives`` column) and
`modeling_gve.training.negatives` (re-mining with the curriculum's prober, ``hard_negatives: prober``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # tensor methods only: importing the margin (configs do) needs no torch
    import torch

DEFAULT_MARGIN = 0.95


def margin_limit(positive: torch.Tensor, margin: float) -> torch.Tensor:
    """``(b,)``: the score a hard negative must stay under, given the positive scores ``(b,)``."""
    return positive - (1 - margin) * positive.abs()  # margin * positive for positive scores


def positive_aware_topk(
    scores: torch.Tensor,
    positive: torch.Tensor,
    k: int,
    *,
    margin: float | None = DEFAULT_MARGIN,
    exclude: torch.Tensor | None = None,
) -> list[list[int]]:
    """The hard negatives of each query, best first.

    Args:
        scores (`torch.Tensor` of shape `(b, M)`): query-candidate scores.
        positive (`torch.Tensor` of shape `(b,)`): each query's positive score.
        k: negatives per query (fewer when fewer candidates qualify).
        margin: see the module docstring; ``None``: no limit.
        exclude (`torch.BoolTensor` of shape `(b, M)`, *optional*): candidates never to pick for a
            query (its own positive, items of the same source video).

    Returns:
        For each query, the column indices of its negatives.
    """
    masked = scores if exclude is None else scores.masked_fill(exclude, float("-inf"))
    if margin is not None:
        masked = masked.masked_fill(masked >= margin_limit(positive, margin)[:, None], float("-inf"))
    values, order = masked.topk(min(k, masked.shape[1]), dim=1)  # (b, k)
    return [
        [j for v, j in zip(row_values, row_order) if v != float("-inf")]
        for row_values, row_order in zip(values.tolist(), order.tolist())
    ]


__all__ = ["DEFAULT_MARGIN", "margin_limit", "positive_aware_topk"]
