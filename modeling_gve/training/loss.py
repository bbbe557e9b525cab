# Copyright 2026 The GVE package authors. Apache-2.0.
"""The contrastive objective of GVE: symmetric InfoNCE with in-batch, cross-process and hard negatives.

For queries q_i, positives y_i^+ and hard negatives H_i (paper Eq. 1, temperature τ = 0.03)::

    L_i^(q→y) = -log  exp(s(q_i, y_i^+)/τ) / [ Σ_j exp(s(q_i, y_j^+)/τ) + Σ_{y^- ∈ H_i} exp(s(q_i, y^-)/τ) ]
    L_i^(y→q) = -log  exp(s(y_i^+, q_i)/τ) / Σ_j exp(s(y_i^+, q_j)/τ)
    L = mean_i ½ (L_i^(q→y) + L_i^(y→q))

with s the cosine similarity of the (L2-normalised) embeddings and j running over the
*global* batch: with ``gather_across_processes`` every process all-gathers the embeddings.

The loss is three steps, as open_clip's ``ClipLoss`` is: `gather_global` (padding and all-gather
across processes), `InfoNCELoss.masked_logits` (scores, and the columns an anchor must not be
contrasted with; used once per direction), `InfoNCELoss.metrics`. `loss_inputs` turns a training
batch's embeddings into the loss's inputs.

Exact distributed gradients: every process computes the loss of the whole global batch
(a ``(N, N·(1+h))`` score matrix, small next to the model), but only its own rows of the
gathered embeddings carry gradient. The gradient reaching them is multiplied by the world
size, because DDP, FSDP and DeepSpeed *average* gradients over processes: the average of
the per-process gradients is then exactly the gradient of the loss of the concatenated
batch on one process.

References: van den Oord et al. 2018 (InfoNCE); open_clip ``ClipLoss`` (gather with gradient);
Gao et al. 2021 (GradCache, see ``gradcache.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from .batching import LoadedRow


def distributed_world() -> tuple[int, int]:
    """``(world_size, rank)`` of the default process group, ``(1, 0)`` without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size(), dist.get_rank()
    return 1, 0


class _GatherWithLocalGrad(torch.autograd.Function):
    """All-gather along dim 0 (equal shapes on every process); backward returns the gradient
    of this process's slice, times ``grad_scale``."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor, grad_scale: float) -> torch.Tensor:
        world, rank = distributed_world()
        parts = [torch.empty_like(tensor) for _ in range(world)]
        dist.all_gather(parts, tensor.contiguous())
        ctx.rank, ctx.rows, ctx.grad_scale = rank, tensor.shape[0], grad_scale
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        local = grad[ctx.rank * ctx.rows : (ctx.rank + 1) * ctx.rows]
        return local * ctx.grad_scale, None


def gather_with_local_grad(tensor: torch.Tensor, grad_scale: float | None = None) -> torch.Tensor:
    """``(n, ...)`` on each of W processes -> ``(W·n, ...)``, process order; gradient flows to
    the local part only, multiplied by ``grad_scale`` (default: W, see the module docstring)."""
    world, _ = distributed_world()
    if world == 1:
        return tensor
    return _GatherWithLocalGrad.apply(tensor, float(world if grad_scale is None else grad_scale))


def gather_padded(tensor: torch.Tensor, rows: int) -> torch.Tensor:
    """Pad ``tensor`` (``(n, ...)``, n <= rows) to ``rows`` along dim 0 with zeros, then gather.
    Float tensors keep the local gradient (`gather_with_local_grad`); masks and ids are plain data."""
    if tensor.shape[0] < rows:
        pad = tensor.new_zeros((rows - tensor.shape[0], *tensor.shape[1:]))
        tensor = torch.cat([tensor, pad])
    if tensor.is_floating_point():
        return gather_with_local_grad(tensor)
    world, _ = distributed_world()
    data = tensor.to(torch.uint8) if tensor.dtype == torch.bool else tensor  # gloo has no bool all_gather
    parts = [torch.empty_like(data) for _ in range(world)]
    dist.all_gather(parts, data.contiguous())
    return torch.cat(parts).to(tensor.dtype)


@dataclass
class LossInputs:
    """One batch as the loss sees it (n rows, h hard-negative slots per row, embedding size D).

    Attributes:
        queries, positives (`torch.Tensor` of shape `(n, D)`): normalised embeddings.
        negatives (`torch.Tensor` of shape `(n, h, D)` or `None`): hard negatives per row.
        valid (`torch.BoolTensor` of shape `(n,)`): False marks padding rows.
        negative_valid (`torch.BoolTensor` of shape `(n, h)` or `None`): False marks missing negatives.
        query_ids, positive_ids (`torch.LongTensor` of shape `(n,)` or `None`): item identities
            (equal ids = the same item), for duplicate masking.
        negative_ids (`torch.LongTensor` of shape `(n, h)` or `None`): the negatives' identities.
    """

    queries: torch.Tensor
    positives: torch.Tensor
    negatives: torch.Tensor | None = None
    valid: torch.Tensor | None = None
    negative_valid: torch.Tensor | None = None
    query_ids: torch.Tensor | None = None
    positive_ids: torch.Tensor | None = None
    negative_ids: torch.Tensor | None = None

    def __post_init__(self) -> None:
        n, device = self.queries.shape[0], self.queries.device
        self.valid = torch.ones(n, dtype=torch.bool, device=device) if self.valid is None else self.valid.bool()
        if self.negatives is not None and self.negative_valid is None:
            self.negative_valid = torch.ones(self.negatives.shape[:2], dtype=torch.bool, device=device)
        elif self.negative_valid is not None:
            self.negative_valid = self.negative_valid.bool()

    @property
    def num_hard_negatives(self) -> int:
        return 0 if self.negatives is None else self.negatives.shape[1]


def gather_global(inputs: LossInputs) -> LossInputs:
    """Every process's `LossInputs`, padded to the largest process's row count (processes may hold
    different numbers of rows after skipping bad ones; padding rows are invalid) and all-gathered
    in process order. Embeddings keep the gradient of this process's rows (`gather_padded`)."""
    world, _ = distributed_world()
    if world == 1:
        return inputs
    n, h = inputs.queries.shape[0], inputs.num_hard_negatives
    sizes = torch.tensor([n, h], device=inputs.queries.device)
    all_sizes = [torch.empty_like(sizes) for _ in range(world)]
    dist.all_gather(all_sizes, sizes)
    if any(int(s[1]) != h for s in all_sizes):
        raise ValueError(f"every process must have the same number of hard negatives per row, got {all_sizes}")
    rows = int(max(s[0] for s in all_sizes))
    # every process gives the same fields (`loss_inputs` always does): each is one collective
    values = {
        field.name: None if (value := getattr(inputs, field.name)) is None else gather_padded(value, rows)
        for field in dataclasses.fields(inputs)
    }
    return LossInputs(**values)


def loss_inputs(
    rows: Sequence[LoadedRow], num_hard_negatives: int, embeddings: dict[str, torch.Tensor]
) -> LossInputs:
    """A training batch's embeddings by role -> `LossInputs`.

    Args:
        rows: the batch's rows (their item ids and number of negatives).
        num_hard_negatives: h of the task (rows may carry fewer; the missing slots are masked).
        embeddings: ``queries`` `(n, D)`, and ``candidates`` `(n + number of negatives, D)`: the n
            positives, then each row's negatives in row order (`TrainBatch.groups`).
    """
    queries, candidates = embeddings["queries"], embeddings["candidates"]
    n, h, device = len(rows), num_hard_negatives, queries.device
    inputs = LossInputs(
        queries=queries,
        positives=candidates[:n],
        query_ids=torch.tensor([r.query_id for r in rows], dtype=torch.long, device=device),
        positive_ids=torch.tensor([r.positive_id for r in rows], dtype=torch.long, device=device),
    )
    if h:
        counts = [len(r.negatives) for r in rows]
        row_index = torch.tensor([i for i, c in enumerate(counts) for _ in range(c)], dtype=torch.long, device=device)
        slot_index = torch.tensor([j for c in counts for j in range(c)], dtype=torch.long, device=device)
        negatives = candidates.new_zeros(n, h, candidates.shape[-1])  # (n, h, D), the missing slots zero
        inputs.negatives = negatives.index_put((row_index, slot_index), candidates[n:])
        inputs.negative_valid = torch.zeros(n, h, dtype=torch.bool, device=device)
        inputs.negative_valid[row_index, slot_index] = True
        inputs.negative_ids = torch.full((n, h), -1, dtype=torch.long, device=device)
        inputs.negative_ids[row_index, slot_index] = torch.tensor(
            [i for r in rows for i in r.negative_ids], dtype=torch.long, device=device
        )
    return inputs


@dataclass
class ContrastiveOutput:
    """
    Attributes:
        loss (`torch.Tensor`, scalar): the mean symmetric InfoNCE over the global batch.
        accuracy (`float`): fraction of queries whose positive scores above every unmasked candidate.
        positive_score (`float`): mean cosine of the positive pairs.
        hard_negative_margin (`float`): mean (positive − best hard negative) cosine; NaN without hard negatives.
        num_queries (`int`): valid queries in the global batch.
        num_masked (`int`): candidate scores masked as duplicates or false negatives (both directions).
    """

    loss: torch.Tensor
    accuracy: float
    positive_score: float
    hard_negative_margin: float
    num_queries: int
    num_masked: int


@dataclass
class MaskedLogits:
    """One direction of the loss: anchors (rows) against candidates (columns), the target of row i
    being column i.

    Attributes:
        scores (`torch.Tensor` of shape `(N, M)`): cosines.
        logits (`torch.Tensor` of shape `(N, M)`): ``scores / τ``, ``-inf`` where not allowed.
        allowed (`torch.BoolTensor` of shape `(N, M)`): the columns each row is contrasted with.
        masked (`torch.BoolTensor` of shape `(N, M)`): valid columns removed as duplicates or likely
            false negatives.
    """

    scores: torch.Tensor
    logits: torch.Tensor
    allowed: torch.Tensor
    masked: torch.Tensor


def same_item(ids: torch.Tensor | None, other: torch.Tensor | None = None) -> torch.Tensor | None:
    """``(N, M)``: row i's id equals column j's (``other`` defaults to ``ids``); ids < 0 match nothing."""
    if ids is None:
        return None
    other = ids if other is None else other
    return (ids.unsqueeze(1) == other.unsqueeze(0)) & (ids.unsqueeze(1) >= 0)


class InfoNCELoss(nn.Module):
    """Symmetric InfoNCE over in-batch (optionally all-gathered) and hard negatives.

    Args:
        temperature: τ (paper: 0.03).
        symmetric: add the candidate→query direction, ½(L_q→c + L_c→q).
        gather_across_processes: all-gather embeddings of every process (cross-device negatives);
            exact gradients (see module docstring). Without it each process contrasts its own batch.
        hard_negative_scope: ``"own"``: a query sees only its own hard negatives (Eq. 1);
            ``"batch"``: every hard negative of the batch.
        false_negative_margin: mask a candidate whose score exceeds the anchor's positive score by
            more than this margin (a likely false negative); ``None`` disables it.
        mask_duplicates: in both directions, mask row j's query or positive for row i when row j's
            query is the same item as row i's, or row j's positive is the same item as row i's
            (one query with two positives; two queries sharing a positive), and a hard negative
            that is the same item as row i's positive. Not part of Eq. (1); needs the item ids.
    """

    def __init__(
        self,
        temperature: float = 0.03,
        *,
        symmetric: bool = True,
        gather_across_processes: bool = True,
        hard_negative_scope: Literal["own", "batch"] = "own",
        false_negative_margin: float | None = None,
        mask_duplicates: bool = True,
    ):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        if hard_negative_scope not in ("own", "batch"):
            raise ValueError(f"hard_negative_scope must be 'own' or 'batch', got {hard_negative_scope!r}")
        self.temperature = temperature
        self.symmetric = symmetric
        self.gather_across_processes = gather_across_processes
        self.hard_negative_scope = hard_negative_scope
        self.false_negative_margin = false_negative_margin
        self.mask_duplicates = mask_duplicates

    def forward(
        self,
        queries: torch.Tensor,
        positives: torch.Tensor,
        negatives: torch.Tensor | None = None,
        *,
        valid: torch.Tensor | None = None,
        negative_valid: torch.Tensor | None = None,
        query_ids: torch.Tensor | None = None,
        positive_ids: torch.Tensor | None = None,
        negative_ids: torch.Tensor | None = None,
    ) -> ContrastiveOutput:
        """
        Args:
            queries (`torch.Tensor` of shape `(n, D)`): this process's query embeddings (normalised).
            positives (`torch.Tensor` of shape `(n, D)`): their positives.
            negatives (`torch.Tensor` of shape `(n, h, D)`, *optional*): h hard negatives per query.
            valid (`torch.BoolTensor` of shape `(n,)`, *optional*): False marks padding rows.
            negative_valid (`torch.BoolTensor` of shape `(n, h)`, *optional*): False marks missing negatives.
            query_ids / positive_ids (`torch.LongTensor` of shape `(n,)`, *optional*): item identities
                (equal ids = the same item) for duplicate masking.
            negative_ids (`torch.LongTensor` of shape `(n, h)`, *optional*): same for the negatives.
        """
        return self.compute(
            LossInputs(queries, positives, negatives, valid, negative_valid, query_ids, positive_ids, negative_ids)
        )

    def compute(self, inputs: LossInputs) -> ContrastiveOutput:
        """The loss of `LossInputs` (what `forward` builds from its arguments)."""
        if self.gather_across_processes:
            inputs = gather_global(inputs)
        big_n, valid = inputs.queries.shape[0], inputs.valid  # N: global rows, padding included
        target = torch.arange(big_n, device=inputs.queries.device)
        candidates = self.candidate_matrix(inputs)
        forward = self.masked_logits(
            inputs.queries, candidates, self.forward_allowed(inputs), self.forward_duplicates(inputs)
        )
        loss = F.cross_entropy(forward.logits[valid], target[valid])
        num_masked = int(forward.masked[valid].sum())
        if self.symmetric:
            reverse = self.masked_logits(
                inputs.positives, inputs.queries, valid.unsqueeze(0).expand(big_n, -1), self.reverse_duplicates(inputs)
            )
            loss = 0.5 * (loss + F.cross_entropy(reverse.logits[valid], target[valid]))
            num_masked += int(reverse.masked[valid].sum())
        return self.metrics(inputs, forward, loss, num_masked)

    @staticmethod
    def candidate_matrix(inputs: LossInputs) -> torch.Tensor:
        """``(N + N·h, D)``: the positives, then every row's hard negatives."""
        if inputs.negatives is None:
            return inputs.positives
        return torch.cat([inputs.positives, inputs.negatives.reshape(-1, inputs.negatives.shape[-1])])

    def forward_allowed(self, inputs: LossInputs) -> torch.Tensor:
        """``(N, N + N·h)``: valid columns; with ``hard_negative_scope="own"`` a row's hard-negative
        columns are its own only."""
        big_n, h, device = inputs.queries.shape[0], inputs.num_hard_negatives, inputs.queries.device
        column_ok = inputs.valid if not h else torch.cat([inputs.valid, inputs.negative_valid.reshape(-1)])
        allowed = column_ok.unsqueeze(0).expand(big_n, -1).clone()
        if h and self.hard_negative_scope == "own":
            owner = torch.arange(big_n, device=device).repeat_interleave(h)  # row owning each negative column
            allowed[:, big_n:] &= owner.unsqueeze(0) == torch.arange(big_n, device=device).unsqueeze(1)
        return allowed

    def _row_duplicates(self, inputs: LossInputs) -> torch.Tensor | None:
        """``(N, N)``: rows i and j share their query or their positive (`mask_duplicates`)."""
        matches = [same_item(ids) for ids in (inputs.query_ids, inputs.positive_ids) if ids is not None]
        if not self.mask_duplicates or not matches:
            return None
        return matches[0] | matches[1] if len(matches) == 2 else matches[0]

    def forward_duplicates(self, inputs: LossInputs) -> torch.Tensor | None:
        """``(N, N + N·h)``: columns that are a positive of row i's query (see `mask_duplicates`)."""
        rows = self._row_duplicates(inputs)
        if rows is None or not inputs.num_hard_negatives:
            return rows
        if inputs.negative_ids is None or inputs.positive_ids is None:  # negatives of unknown identity
            return F.pad(rows, (0, inputs.negative_valid.numel()))
        return torch.cat([rows, same_item(inputs.positive_ids, inputs.negative_ids.reshape(-1))], dim=1)

    def reverse_duplicates(self, inputs: LossInputs) -> torch.Tensor | None:
        """``(N, N)``: queries that share row i's query or positive (see `mask_duplicates`)."""
        return self._row_duplicates(inputs)

    def masked_logits(
        self, anchors: torch.Tensor, candidates: torch.Tensor, allowed: torch.Tensor, duplicates: torch.Tensor | None
    ) -> MaskedLogits:
        """Scores of ``anchors`` `(N, D)` against ``candidates`` `(M, D)` (M >= N, row i's target
        is column i), with duplicates and likely false negatives removed from ``allowed`` `(N, M)`."""
        scores = anchors @ candidates.T  # (N, M) cosine
        big_n, device = anchors.shape[0], anchors.device
        not_target = torch.ones(allowed.shape, dtype=torch.bool, device=device)
        not_target[torch.arange(big_n, device=device), torch.arange(big_n, device=device)] = False
        masked = torch.zeros_like(not_target) if duplicates is None else duplicates & not_target
        if self.false_negative_margin is not None:
            positive = scores.detach().diagonal()  # (N,)
            masked = masked | ((scores.detach() > positive.unsqueeze(1) + self.false_negative_margin) & not_target)
        masked = masked & allowed
        allowed = allowed & ~masked
        logits = (scores / self.temperature).masked_fill(~allowed, float("-inf"))
        return MaskedLogits(scores=scores, logits=logits, allowed=allowed, masked=masked)

    @torch.no_grad()
    def metrics(
        self, inputs: LossInputs, forward: MaskedLogits, loss: torch.Tensor, num_masked: int
    ) -> ContrastiveOutput:
        """Accuracy, positive score and hard-negative margin of the query→candidate direction."""
        valid, big_n, h = inputs.valid, inputs.queries.shape[0], inputs.num_hard_negatives
        num_valid = int(valid.sum())
        scores = forward.scores.detach()
        target = torch.arange(big_n, device=scores.device)
        others = forward.allowed.clone()
        others[target, target] = False
        best_other = scores.masked_fill(~others, float("-inf")).max(dim=1).values
        positive = scores.diagonal()
        nan = float("nan")
        accuracy = float((positive[valid] > best_other[valid]).float().mean()) if num_valid else nan
        positive_score = float(positive[valid].mean()) if num_valid else nan
        margin = nan
        if h:
            hard = scores[:, big_n:].reshape(big_n, big_n, h)[target, target]  # (N, h) own negatives
            hard = hard.masked_fill(~inputs.negative_valid, float("-inf")).max(dim=1).values
            has_hard = valid & inputs.negative_valid.any(dim=1)
            margin = float((positive - hard)[has_hard].mean()) if bool(has_hard.any()) else nan
        return ContrastiveOutput(
            loss=loss,
            accuracy=accuracy,
            positive_score=positive_score,
            hard_negative_margin=margin,
            num_queries=num_valid,
            num_masked=num_masked,
        )


__all__ = [
    "ContrastiveOutput",
    "InfoNCELoss",
    "LossInputs",
    "MaskedLogits",
    "distributed_world",
    "gather_global",
    "gather_padded",
    "gather_with_local_grad",
    "loss_inputs",
    "same_item",
]
