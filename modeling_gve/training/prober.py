# Copyright 2026 The GVE package authors. Apache-2.0.
"""The prober Ψ_t of the Modality Pyramid: R_k, the alignment of every task (paper §3.3).

    R_k = 1/N_p Σ_i cos(Ψ_t(x_i), Ψ_t(y_i))   over N_p sampled positive pairs of task k

§3.3: "For t = 1, Ψ1 is a strong off-the-shelf embedder (e.g., GME-7B)"; for t > 1, Ψ_t is the
checkpoint from the end of epoch t − 1. Here:

* the first prober is any embedder the UVRB runner can score (`load_prober`: a GVE checkpoint or
  any SentenceTransformer, through `modeling_gve.encoders`, with the ``gve uvrb --encoder`` rules);
  each side of a pair gets that prober's own prompts for the task direction (queries: its
  ``"query"`` prompt or the task instruction; candidates: its ``"document"`` prompt or none);
* later probes use the model being trained, in eval mode (which is the previous checkpoint at the
  probe), through the training protocol itself (`ModelPairScorer`).

Both embed this process's share of the pairs (every ``num_processes``-th) and the sums are
reduced, so every process gets the same scores. The model being trained may be sharded (FSDP,
ZeRO-3), where every forward pass is a collective: `ModelPairScorer` runs the same number of
passes on every process whatever its share (a process with no usable pair embeds a *spare* pair
of the task and leaves it out of the score).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import torch

from ..encoders import Encoder, EncoderKind, GVEEncoder, detect_encoder, load_encoder
from ..video import GVEInputError
from .data.batching import BatchLoader, LoadedRow
from .data.task_data import BadRow, RowItems, TaskData, row_items


class PairScorer(Protocol):
    """Embeds this process's share of sampled positive pairs of a task; returns
    ``(sum of cosines, number of pairs)`` over the pairs it could embed."""

    def __call__(self, task: TaskData, rows: Sequence[dict]) -> tuple[float, int]: ...


def load_prober(
    name_or_path: str,
    kind: EncoderKind,
    *,
    sampling: dict,
    device: str,
    dtype: str | None = None,
    revision: str | None = None,
    trust_remote_code: bool = False,
) -> Encoder:
    """The first probe's embedder, as ``gve uvrb --encoder KIND`` loads it. It reads media with the
    run's ``sampling`` settings (``max_length`` applies to GVE probers only: another model's token
    cap is its own)."""
    if kind != "gve":
        if (kind if kind != "auto" else detect_encoder(name_or_path, revision)) == "sentence-transformers":
            sampling = {k: v for k, v in sampling.items() if k != "max_length"}
            kind = "sentence-transformers"
    return load_encoder(
        name_or_path, kind=kind, revision=revision, device=device, dtype=dtype, sampling=sampling,
        trust_remote_code=trust_remote_code,
    )  # fmt: skip


def self_encoder(model: torch.nn.Module, processor: Any) -> GVEEncoder:
    """The model being trained (unwrapped, not sharded) as an `Encoder`, with the run's processor:
    the embeddings training produces, in eval mode."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # peft -> GVEModel
    base.processor = processor
    return GVEEncoder(base)


class EncoderPairScorer:
    """Scores pairs with an `Encoder` (no collectives: the encoder is a whole model on each process).

    Args:
        encoder: the prober (often a `CachedEncoder` around it).
        on_bad_row: called with each row of this process's share that cannot be embedded.
    """

    def __init__(self, encoder: Encoder, *, batch_size: int, process_index: int = 0, num_processes: int = 1,
                 on_bad_row: Callable[[BadRow], None] = lambda bad: None):  # fmt: skip
        self.encoder, self.batch_size = encoder, batch_size
        self.process_index, self.num_processes, self.on_bad_row = process_index, num_processes, on_bad_row

    def __call__(self, task: TaskData, rows: Sequence[dict]) -> tuple[float, int]:
        pairs: list[RowItems] = []
        for row in rows[self.process_index :: self.num_processes]:
            try:
                pairs.append(row_items(row, task, with_negatives=False))
            except GVEInputError as err:
                field = getattr(err, "field", "row")
                self.on_bad_row(BadRow(task.spec.task, str(row.get("id")), field, err.input, err.reason))
        if not pairs:
            return 0.0, 0
        embedded = {}
        for role, field, items in (("query", "query", [p.query for p in pairs]),
                                   ("document", "positive", [p.positive for p in pairs])):  # fmt: skip
            result = self.encoder.encode(items, task.instruction, self.batch_size, role=role, on_error="skip")
            for error in result.errors:
                self.on_bad_row(BadRow(task.spec.task, pairs[error.index].row_id, field, error.input, error.reason))
            embedded[role] = dict(zip(result.indices, result.embeddings.float()))
        both = [i for i in embedded["query"] if i in embedded["document"]]
        cosines = [float(embedded["query"][i] @ embedded["document"][i]) for i in both]
        return sum(cosines), len(cosines)


class ModelPairScorer:
    """Scores pairs with the model being trained, through the training protocol (`BatchLoader`,
    tokenized items -> ``embed``), collective-safe (see the module docstring).

    Args:
        embed: tokenized items -> ``(n, D)`` L2-normalised embeddings (the model, in eval mode).
        loader: reads and tokenizes rows (`BatchLoader.load_row`).
        batch_size: pairs per forward pass.
        reduce_sum: sums a tensor over processes (``lambda t: accelerator.reduce(t, "sum")``).
        on_bad_row: called with each row of this process's share that cannot be embedded.
    """

    def __init__(
        self,
        embed: Callable[[list[dict]], torch.Tensor],
        loader: BatchLoader,
        *,
        batch_size: int,
        process_index: int = 0,
        num_processes: int = 1,
        reduce_sum: Callable[[torch.Tensor], torch.Tensor] = lambda t: t,
        on_bad_row: Callable[[BadRow], None] = lambda bad: None,
    ):
        self.embed, self.loader, self.batch_size = embed, loader, batch_size
        self.process_index, self.num_processes = process_index, num_processes
        self.reduce_sum, self.on_bad_row = reduce_sum, on_bad_row

    @torch.no_grad()
    def __call__(self, task: TaskData, rows: Sequence[dict]) -> tuple[float, int]:
        mine = rows[self.process_index :: self.num_processes]
        num_batches = math.ceil(math.ceil(len(rows) / self.num_processes) / self.batch_size)  # process 0 has the most
        total, count, spare = 0.0, 0, None
        for start in range(0, num_batches * self.batch_size, self.batch_size):
            loaded = []
            for row in mine[start : start + self.batch_size]:
                result = self.loader.load_row(row, task, with_negatives=False)
                if isinstance(result, BadRow):
                    self.on_bad_row(result)
                else:
                    loaded.append(result)
            if not float(self.reduce_sum(torch.tensor([float(len(loaded))], dtype=torch.float64)).sum()):
                continue  # no process has a pair in this batch: every process skips it
            if not loaded:
                spare = spare or self._spare_pair(rows, task)
            pairs = loaded or [spare]
            queries = self.embed([r.query for r in pairs])  # (b, D)
            positives = self.embed([r.positive for r in pairs])  # (b, D)
            if loaded:
                total += float((queries.float() * positives.float()).sum())
                count += len(loaded)
        return total, count

    def _spare_pair(self, rows: Sequence[dict], task: TaskData) -> LoadedRow:
        """The first usable pair among ``rows`` (any process's share; their owners report the bad
        ones), for a process that must take part in a probe batch without a pair of its own."""
        for row in rows:
            result = self.loader.load_row(row, task, with_negatives=False)
            if not isinstance(result, BadRow):
                return result
        raise RuntimeError(
            f"process {self.process_index} must embed a probe pair of task {task.spec.task!r} while the others "
            "do, but could read none of the sampled rows (are the media readable on one process only?)"
        )


@torch.no_grad()
def probe_alignment(
    score_pairs: PairScorer,
    tasks: Sequence[TaskData],
    *,
    num_pairs: int,
    seed: int,
    probe_step: int = 0,
    reduce_sum: Callable[[torch.Tensor], torch.Tensor] = lambda t: t,
) -> list[float]:
    """R_k = mean cosine of ``num_pairs`` sampled positive pairs of every task (paper §3.3).

    The pairs of a task are drawn with a generator seeded by ``(seed, probe_step, task)``, the
    same on every process; ``score_pairs`` embeds this process's share; the sums are reduced.

    Returns:
        One score per task, in ``tasks`` order.

    Raises:
        RuntimeError: a task has no usable pair at all.
    """
    sums = torch.zeros(len(tasks), 2, dtype=torch.float64)  # (K, [sum of cosines, pairs])
    for k, task in enumerate(tasks):
        rows = task.sample(num_pairs, seed=seed * 1_000_003 + 7919 * probe_step + k)
        sums[k] = torch.tensor(score_pairs(task, rows), dtype=torch.float64)
    sums = reduce_sum(sums).cpu()
    empty = [tasks[k].spec.task for k in range(len(tasks)) if sums[k, 1] == 0]
    if empty:
        raise RuntimeError(f"probing found no usable positive pair in task(s) {empty}")
    return (sums[:, 0] / sums[:, 1]).tolist()


__all__ = [
    "EncoderPairScorer",
    "ModelPairScorer",
    "PairScorer",
    "load_prober",
    "probe_alignment",
    "self_encoder",
]
