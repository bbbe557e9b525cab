# Copyright 2026 The GVE package authors. Apache-2.0.
"""Hard negatives re-mined by the curriculum's prober at each probe (``hard_negatives: prober``).

§3.3 trains on "hard negatives mined from a large external corpus using the same prober Ψt", so
they change with every epoch's prober; §A.4 calls them "pre-mined". ``hard_negatives: static``
(the default) trains on the dataset's ``negatives`` column; ``prober`` re-mines them here:

1. the candidate pool: the distinct positives of up to ``pool_size`` rows sampled from the task
   (or from the task's ``negatives_corpus`` dataset), embedded as documents, split over the
   processes through the shared on-disk cache;
2. the rows of this process's share of the coming probe period (which rows the period trains on
   is known at the probe: the draws are seeded by the step and the data order by the position);
   their queries and positives embedded, ``chunk_size`` queries scored against the pool at a time;
3. the ``num_hard_negatives`` best candidates under the positive-aware margin of
   `modeling_gve.mining` (the row's own positive never), which replace the row's ``negatives``
   when the row is planned.

Memory holds the pool's embeddings ``(pool_size, D)`` and a ``(chunk_size, pool_size)`` score
block; the mined negatives are pool indices per row of this process's share of the period. The
embeddings go through a `CachedEncoder` whose folder belongs to the probe, so a run resumed
within the period re-mines the same negatives without embedding anything again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from ..encoders import Encoder
from ..mining import positive_aware_topk
from ..pairs import side
from ..video import GVEInputError
from .data.task_data import TaskData, row_items


@dataclass
class CandidatePool:
    """Candidates of one task: resolved items (what encoders and the batch loader read) and
    their identities (the dataset and the row's values)."""

    items: list[dict]
    identities: list[tuple]
    embeddings: torch.Tensor | None = None  # (M, D), rows aligned with `items` once embedded


def identity(task: TaskData, values: dict) -> tuple:
    """What makes two candidates the same item: their dataset and their values as written."""
    return (task.spec.path, task.spec.name, tuple(sorted(values.items())))


def candidate_pool(source: TaskData, target: str, size: int, seed: int) -> CandidatePool:
    """The distinct positives of ``size`` rows sampled (with ``seed``) from ``source``; rows whose
    positive breaks the path rule are left out (training reports them where it reads them).

    Raises:
        ValueError: the positives of ``source`` do not have the modalities ``target`` (e.g. ``V``).
    """
    candidate = source.direction.split("2", 1)[1]
    if candidate != target:
        raise ValueError(
            f"negatives_corpus {source.spec.path!r} has {candidate} candidates, the task needs {target} ones"
        )
    pool = CandidatePool(items=[], identities=[])
    seen = set()
    for row in source.sample(size, seed=seed):
        values = side(row, "pos")
        key = identity(source, values)
        if key in seen:
            continue
        try:
            item = source.resolver.item(values, source.spec.frames_fps)
        except GVEInputError:
            continue
        seen.add(key)
        pool.items.append(item)
        pool.identities.append(key)
    return pool


@dataclass
class ProberMiner:
    """Re-mines a task's hard negatives with ``encoder`` (the probe's prober, cached per probe).

    Args:
        encoder: the prober, wrapped in a `CachedEncoder` over the probe's folder (shared by the
            processes).
        barrier: waits for every process (``accelerator.wait_for_everyone``).
        margin: positive-aware margin (`modeling_gve.mining`); ``None``: none.
        pool_size: rows sampled for the candidate pool.
        chunk_size: queries scored at a time.
    """

    encoder: Encoder
    barrier: Callable[[], None]
    margin: float | None
    pool_size: int
    chunk_size: int
    batch_size: int
    seed: int
    process_index: int = 0
    num_processes: int = 1

    def embed_pool(self, pool: CandidatePool, task: TaskData) -> None:
        """Embed the pool as documents: each process its share into the cache, then all of it."""
        share = pool.items[self.process_index :: self.num_processes]
        if share:
            self.encoder.encode(share, task.instruction, self.batch_size, role="document")
        self.barrier()
        result = self.encoder.encode(pool.items, task.instruction, self.batch_size, role="document")
        keep = list(result.indices)  # candidates that failed to embed are dropped from the pool
        pool.items = [pool.items[i] for i in keep]
        pool.identities = [pool.identities[i] for i in keep]
        pool.embeddings = result.embeddings.float()

    def own_rows(self, task: TaskData, position: tuple[int, int], draws: int, global_batch: int) -> list[dict]:
        """This process's rows of ``draws`` global batches of ``task`` from ``position``."""
        size = task.spec.batch_size
        rows: list[dict] = []
        chunk = max(1, self.chunk_size // global_batch)
        for first in range(0, draws, chunk):
            block, position = task.take(position, min(chunk, draws - first) * global_batch)
            for start in range(0, len(block), global_batch):
                mine = start + self.process_index * size
                rows.extend(block[mine : mine + size])
        return rows

    def mine(self, task: TaskData, pool: CandidatePool, rows: Sequence[dict]) -> dict[str, list[dict]]:
        """``{row id: negatives}`` for ``rows`` (items of ``pool``, best first)."""
        pairs, keys = [], []
        for row in rows:
            try:
                pairs.append(row_items(row, task, with_negatives=False))
            except GVEInputError:
                continue  # reported when the batch loader reads it
            keys.append(identity(task, side(row, "pos")))
        column = {key: j for j, key in enumerate(pool.identities)}
        mined: dict[str, list[dict]] = {}
        k = task.spec.num_hard_negatives
        for start in range(0, len(pairs), self.chunk_size):
            block, block_keys = pairs[start : start + self.chunk_size], keys[start : start + self.chunk_size]
            queries = self.encoder.encode([p.query for p in block], task.instruction, self.batch_size, role="query")
            positives = self.encoder.encode([p.positive for p in block], task.instruction, self.batch_size,
                                            role="document")  # fmt: skip
            positive_rows = dict(zip(positives.indices, positives.embeddings.float()))
            usable = [i for i in queries.indices if i in positive_rows]
            if not usable or not pool.items:
                continue
            query_rows = dict(zip(queries.indices, queries.embeddings.float()))
            query_matrix = torch.stack([query_rows[i] for i in usable])  # (b, D)
            positive = (query_matrix * torch.stack([positive_rows[i] for i in usable])).sum(-1)  # (b,)
            scores = query_matrix @ pool.embeddings.T  # (b, M)
            own = torch.zeros_like(scores, dtype=torch.bool)
            for b, i in enumerate(usable):
                if block_keys[i] in column:
                    own[b, column[block_keys[i]]] = True
            for i, picked in zip(usable, positive_aware_topk(scores, positive, k, margin=self.margin, exclude=own)):
                mined[block[i].row_id] = [pool.items[j] for j in picked]
        return mined


def mine_period(
    miner: ProberMiner,
    tasks: Sequence[TaskData],
    corpora: dict[str, TaskData],
    positions: dict[str, tuple[int, int]],
    draws: Sequence[int],
    num_processes: int,
    probe_step: int,
) -> dict[str, dict[str, list[dict]]]:
    """Negatives of every task with hard negatives for this process's rows of a probe period.

    Args:
        corpora: ``{task: negatives_corpus dataset}`` for the tasks that name one.
        positions: the planner's data positions at the start of the period.
        draws: global batches of each task in the period.
    """
    out: dict[str, dict[str, list[dict]]] = {}
    for k, task in enumerate(tasks):
        if not task.spec.num_hard_negatives:
            continue
        source = corpora.get(task.spec.task, task)
        target = task.direction.split("2", 1)[1]
        pool = candidate_pool(source, target, miner.pool_size, seed=miner.seed * 1_000_003 + 7919 * probe_step + k)
        miner.embed_pool(pool, task)  # a collective: every process, every task with negatives
        global_batch = task.spec.batch_size * num_processes
        rows = miner.own_rows(task, positions[task.spec.task], draws[k], global_batch) if draws[k] else []
        out[task.spec.task] = miner.mine(task, pool, rows)
    return out


__all__ = ["CandidatePool", "ProberMiner", "candidate_pool", "identity", "mine_period"]
