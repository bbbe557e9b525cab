# Copyright 2026 The GVE package authors. Apache-2.0.
"""Score an embedding model on UVRB with the paper's protocol (the library of `gve uvrb`).

    python -m modeling_gve uvrb --model Alibaba-NLP/GVE-3B --output runs/gve-3b
    python -m modeling_gve uvrb --model ./my-ckpt --tasks MSRVTT CMP --data ./UVRB --output runs/x
    accelerate launch --multi_gpu --num_processes 8 -m modeling_gve uvrb --model Alibaba-NLP/GVE-7B --output runs/gve-7b
    # several CPU processes (no GPU visible): the same launch with ACCELERATE_USE_CPU=true

Steps: read the tasks (`data.py`); collect every unique video/image/query across tasks,
keyed by content (`embedding_cache.item_key`), so videos shared by tasks
(CRB-G/S/T, VDC-O/D, MSRVTT and MSRVTT-I2V, LoVR-V and LoVR-C2V) are encoded once;
encode through the on-disk cache (`encoders.CachedEncoder`: flushed in chunks, so a
killed run resumes where it stopped and a finished one re-encodes nothing); score in
bounded-memory blocks (`scoring.py`); metrics (`metrics.py`); tables and plot (`report.py`).

Under ``accelerate launch`` every process encodes its own share of the unique inputs into
the same cache folder (shard names are unique per process), then the main process scores.
Candidates (videos) are embedded with the default instruction, queries with their task's
prompt; the cache namespace holds the model, its revision/weights digest, the dtype, the
sampling settings and the instruction; a key is the media content (plus, for a frame
folder, the fps it is read at). V-SynFlow and ``gve search`` key the same way, so a video
they embedded with the same model and settings is read from a shared ``--cache-dir``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..embedding_cache import Fingerprints, item_key
from ..encoders import DEFAULT_MODEL, CachedEncoder, EncoderKind, Role, load_encoder
from ..modeling_gve import EncodeResult
from .data import DEFAULT_FRAMES_FPS, MediaSelection, TaskData, load_task, resolve_data
from .metrics import MAX_K, aggregate, task_metrics
from .scoring import DEFAULT_MEMORY_BUDGET, chunked_topk, rank_candidate_lists
from .tasks import HUB_REPO, resolve_tasks

RESULTS_FILE = "results.json"


@dataclass
class UVRBRunConfig:
    """Settings of one UVRB run (the CLI flags of `gve uvrb`).

    Args:
        model: GVE checkpoint or SentenceTransformer model (Hub id or folder).
        output: folder for ``results.json``, ``results.md``, ``radar.png``, ``tasks/*.json``.
        tasks: task and/or ability names (``["MSRVTT", "CMP"]``); ``None``: all 16.
        data: local folder in the authors' layout, or a Hub dataset repo id.
        data_revision: Hub revision of ``data`` (recorded in the results either way).
        media: which media to fetch from the Hub (``all``, ``videos``, ``frames``).
        encoder: ``auto``, ``gve`` or ``sentence-transformers``.
        revision, device, dtype, trust_remote_code: how to load ``model`` (default device: the
            best available; dtype: bf16 on GPU, fp32 on CPU for GVE).
        sampling: overrides of `SamplingConfig` (``{"max_frames": 16}``); defaults: the paper's.
        frames_fps: frame rate assumed for ``videos_frames/`` folders.
        batch_size, num_workers: items per forward pass; threads reading media ahead.
        flush_every: inputs per cache shard, the most an interruption can lose.
        cache_dir: embedding cache (default ``<output>/embedding_cache``); share it between runs.
        memory_budget_mb: size of one block of similarity scores.
        show_progress_bar: tqdm bars on the main process.
        model_label: this model's row name in the tables (default: ``model``).
    """

    model: str = DEFAULT_MODEL
    output: str = "uvrb-results"
    tasks: list[str] | None = None
    data: str = HUB_REPO
    data_revision: str | None = None
    media: MediaSelection = "all"
    encoder: EncoderKind = "auto"
    revision: str | None = None
    device: str | None = None
    dtype: str | None = None
    sampling: dict = field(default_factory=dict)
    frames_fps: float = DEFAULT_FRAMES_FPS
    batch_size: int = 8
    num_workers: int = 2
    flush_every: int = 64
    cache_dir: str | None = None
    memory_budget_mb: int = DEFAULT_MEMORY_BUDGET // 2**20
    trust_remote_code: bool = False
    show_progress_bar: bool = True
    model_label: str | None = None


class LazyItems(Sequence):
    """Encoder inputs built on access: only the items the cache lacks are ever opened."""

    def __init__(self, build: Any, sources: list):
        self.build, self.sources = build, sources

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, index: int) -> Any:  # type: ignore[override]
        return self.build(self.sources[index])


@dataclass
class EncodingJob:
    """Unique inputs sharing one role and instruction (all candidates; or one task's queries)."""

    role: Role
    instruction: str | None
    keys: list[str] = field(default_factory=list)
    sources: list = field(default_factory=list)

    def add(self, key: str, source: Any) -> None:
        if key not in self._seen:
            self._seen.add(key)
            self.keys.append(key)
            self.sources.append(source)

    def __post_init__(self) -> None:
        self._seen: set[str] = set()


def plan_encoding(
    datas: list[TaskData], fingerprints: Fingerprints, frames_fps: float = DEFAULT_FRAMES_FPS
) -> tuple[EncodingJob, dict[str, EncodingJob], dict]:
    """The candidate job (all tasks' videos, deduplicated by content) and one query job per task.

    Returns:
        ``(candidates, queries_by_task, keys)`` where ``keys[task]`` holds
        ``{"corpus": {cid: key}, "queries": {qid: key}}``.
    """
    candidates = EncodingJob(role="document", instruction=None)
    queries: dict[str, EncodingJob] = {}
    keys: dict[str, dict] = {}
    for data in datas:
        corpus_keys = {}
        for cid, source in data.corpus.items():
            corpus_keys[cid] = key = item_key({"video": source.as_input(frames_fps)}, fingerprints)
            candidates.add(key, source)
        job = queries[data.task.name] = EncodingJob(role="query", instruction=data.task.prompt)
        query_keys = {}
        for query in data.queries:
            query_keys[query.id] = key = item_key(query.as_input(frames_fps), fingerprints)
            job.add(key, query)
        keys[data.task.name] = {"corpus": corpus_keys, "queries": query_keys}
    return candidates, queries, keys


def run_uvrb(config: UVRBRunConfig) -> dict | None:
    """Run UVRB; returns the results dict on the main process (``None`` on the others).

    Writes ``results.json`` (per-task metrics, aggregates, data and model records, encoding
    counts), ``results.md`` (paper-style tables) and ``radar.png`` under ``config.output``.
    """
    from accelerate import PartialState
    from accelerate.utils import gather_object

    state = PartialState(cpu=_cpu_only())
    start = time.perf_counter()
    output = Path(config.output)
    cache_dir = Path(config.cache_dir) if config.cache_dir else output / "embedding_cache"
    if state.is_main_process:
        output.mkdir(parents=True, exist_ok=True)
        cache_dir.mkdir(parents=True, exist_ok=True)
    tasks = resolve_tasks(config.tasks)
    show = config.show_progress_bar and state.is_local_main_process

    # Data: downloaded (if from the Hub) and fingerprinted once, by the main process first.
    with state.main_process_first():
        root, source = resolve_data(tasks, config.data, revision=config.data_revision, media=config.media)
        datas = [load_task(task, root / task.hub_folder) for task in tasks]
        fingerprints = Fingerprints(cache_dir / "content-keys.json", writable=state.is_main_process)
        candidate_job, query_jobs, keys = plan_encoding(datas, fingerprints, config.frames_fps)
        fingerprints.save()

    # Model
    device = config.device or (str(state.device) if state.num_processes > 1 else None)  # None: best available
    encoder = load_encoder(
        config.model,
        kind=config.encoder,
        revision=config.revision,
        device=device,
        dtype=config.dtype,
        sampling=config.sampling,
        trust_remote_code=config.trust_remote_code,
    )

    # Encoding, through the cache: each process takes every num_processes-th unique input of each job.
    cached = CachedEncoder(encoder, cache_dir, flush_every=config.flush_every, fingerprints=fingerprints)
    fps = config.frames_fps
    jobs = {"candidates": (candidate_job, lambda s: {"video": s.as_input(fps)})}
    jobs.update({f"queries:{name}": (job, lambda q: q.as_input(fps)) for name, job in query_jobs.items()})
    options = {"batch_size": config.batch_size, "num_workers": config.num_workers}
    mine = slice(state.process_index, None, state.num_processes)
    for job, build in jobs.values():
        items = LazyItems(build, job.sources[mine])
        cached.encode(items, job.instruction, role=job.role, keys=job.keys[mine], show_progress_bar=show, **options)
    encoded_total = sum(gather_object([cached.num_encoded])) if state.num_processes > 1 else cached.num_encoded
    state.wait_for_everyone()
    if not state.is_main_process:
        return None

    # Scoring: every vector, read back through the cache (the other processes' shards too)
    vectors = {
        label: KeyedVectors(job.keys, cached.encode(LazyItems(build, job.sources), job.instruction, role=job.role,
                                                    keys=job.keys, **options))  # fmt: skip
        for label, (job, build) in jobs.items()
    }
    budget = config.memory_budget_mb * 2**20
    scoring_device = "cuda" if torch.cuda.is_available() else None  # blocks of scores on the GPU when there is one
    task_results = {}
    for data in datas:
        name = data.task.name
        task_results[name] = score_task(
            data, keys[name], vectors["candidates"], vectors[f"queries:{name}"], budget, device=scoring_device
        )
        (output / "tasks").mkdir(exist_ok=True)
        (output / "tasks" / f"{name}.json").write_text(json.dumps(task_results[name], indent=2))

    corpus_total = sum(len(d.corpus) for d in datas)
    results = {
        "model": config.model_label or config.model,
        "encoder": encoder.describe(),
        "data": {**source, "tasks": {d.task.name: d.fingerprint for d in datas}, "frames_fps": config.frames_fps},
        "tasks": task_results,
        "aggregate": aggregate({name: r["main_score"] for name, r in task_results.items()}),
        "encoding": {
            "unique_inputs": sum(len(job.keys) for job, _ in jobs.values()),
            "candidates_per_task_total": corpus_total,
            "candidates_unique": len(candidate_job.keys),
            "encoded_this_run": encoded_total,
            "num_processes": state.num_processes,
            "cache_problems": cached.problems,  # damaged cache files, set aside and encoded again
        },
        "config": {k: v for k, v in asdict(config).items() if k not in ("show_progress_bar",)},
        "seconds": round(time.perf_counter() - start, 2),
    }
    (output / RESULTS_FILE).write_text(json.dumps(results, indent=2))

    from .report import write_report

    write_report(results, output)
    return results


def _cpu_only() -> bool:
    """Whether processes started by ``accelerate launch`` / torchrun should form a CPU (gloo)
    group: `modeling_gve.distributed.cpu_process_group`."""
    from ..distributed import cpu_process_group

    return cpu_process_group()


class KeyedVectors:
    """A job's `EncodeResult` by input key (``errors``: key -> reason; ``get(keys)``): what `score_task` reads."""

    def __init__(self, keys: Sequence[str], result: EncodeResult):
        self.errors = {keys[e.index]: e.reason for e in result.errors}
        self._row = {keys[index]: row for row, index in enumerate(result.indices)}
        self._embeddings = result.embeddings  # (num_good, D)

    def get(self, keys: Sequence[str]) -> torch.Tensor:
        return self._embeddings[[self._row[key] for key in keys]]


def score_task(
    data: TaskData,
    keys: dict,
    candidates: KeyedVectors,
    queries: KeyedVectors,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    device: str | None = None,
) -> dict:
    """Rank, score and report one task. Inputs that failed to encode are left out of the
    ranking (a failed query scores 0) and listed, and the task is marked incomplete."""
    failed_c, failed_q = candidates.errors, queries.errors
    corpus_ids = [cid for cid in data.corpus if keys["corpus"][cid] not in failed_c]
    corpus_emb = candidates.get([keys["corpus"][cid] for cid in corpus_ids])  # (C, D)
    good_queries = [q.id for q in data.queries if keys["queries"][q.id] not in failed_q]
    query_emb = queries.get([keys["queries"][qid] for qid in good_queries])  # (Q, D)

    rankings: dict[str, list[str]] = {q.id: [] for q in data.queries}
    if good_queries and corpus_ids:
        if data.candidates is None:
            _, top = chunked_topk(query_emb, corpus_emb, MAX_K, memory_budget=memory_budget, device=device)  # (Q, k)
            for qid, row in zip(good_queries, top.tolist()):
                rankings[qid] = [corpus_ids[i] for i in row]
        else:
            position = {cid: i for i, cid in enumerate(corpus_ids)}
            lists = [[position[c] for c in data.candidates[qid] if c in position] for qid in good_queries]
            for qid, row in zip(good_queries, rank_candidate_lists(query_emb, corpus_emb, lists)):
                rankings[qid] = [corpus_ids[i] for i in row[:MAX_K]]
    metrics = task_metrics(
        data.task.name, [rankings[q.id] for q in data.queries], [data.relevant[q.id] for q in data.queries]
    )
    skipped_c = [
        {"id": cid, "reason": failed_c[keys["corpus"][cid]]} for cid in data.corpus if keys["corpus"][cid] in failed_c
    ]
    skipped_q = [
        {"id": q.id, "reason": failed_q[keys["queries"][q.id]]}
        for q in data.queries
        if keys["queries"][q.id] in failed_q
    ]
    return {
        **metrics,
        "main_metric": data.task.main_metric,
        "num_queries": len(data.queries),
        "num_corpus": len(data.corpus),
        "complete": not skipped_c and not skipped_q,
        "skipped_queries": skipped_q,
        "skipped_candidates": skipped_c,
    }


__all__ = ["KeyedVectors", "UVRBRunConfig", "plan_encoding", "run_uvrb", "score_task"]
