# Copyright 2026 The GVE package authors. Apache-2.0.
"""Score an embedding model on UVRB with the paper's protocol (the library of `gve uvrb`).

    gve uvrb --model Alibaba-NLP/GVE-3B --output runs/gve-3b
    gve uvrb --model ./my-ckpt --tasks MSRVTT CMP --data ./UVRB --output runs/x
    accelerate launch --multi_gpu --num_processes 8 -m modeling_gve uvrb --model Alibaba-NLP/GVE-7B --output runs/7b
    # several CPU processes (no GPU visible): the same launch with ACCELERATE_USE_CPU=true

`run_uvrb` is four steps:

1. `load_tasks`: find the task folders (`layout.py`: any layout, archives, the Hub) and read them
   (`data.py`);
2. `plan_encoding`: every unique video, image and query across tasks, keyed by content
   (`embedding_cache.item_key`), so videos shared by tasks (CRB-G/S/T, VDC-O/D, MSRVTT and
   MSRVTT-I2V, LoVR-V and LoVR-C2V) are encoded once;
3. `encode_all`: through the on-disk cache (`encoders.CachedEncoder`: flushed in chunks, so a
   killed run resumes where it stopped and a finished one re-encodes nothing); under
   ``accelerate launch`` every process encodes its share into the same cache folder. With
   ``segment_seconds``, the corpus videos of the partially relevant and long-context tasks
   (`tasks.segment_tasks`) are a job of their own, embedded by segments (`segments.SegmentEncoder`)
   and scored by their best segment (`scoring.segment_max_topk`);
4. `score_all` (bounded-memory blocks, `scoring.py`; metrics, `metrics.py`) and `write_results`
   (``results.json``, ``tasks/*.json``, and the tables and plot of `report.py`).

Candidates (videos) are embedded with the default instruction, queries with their task's prompt;
the cache namespace holds the model, its revision/weights digest, the dtype, the sampling
settings and the instruction; a key is the media content (plus, for a frame folder, the fps and
frames protocol it is read with). V-SynFlow and ``gve search`` key the same way, so a video they
embedded with the same model and settings is read from a shared ``--cache-dir``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ..distributed import process_state
from ..embedding_cache import Fingerprints, item_key
from ..encoders import CachedEncoder, Encoder, Role, load_encoder
from ..modeling_gve import EncodeResult
from ..segments import SegmentEncoder
from .config import UVRBRunConfig
from .data import UVRBTaskData, load_tasks
from .frames import FramesReading
from .manifest import task_manifest
from .metrics import MAX_K, aggregate, task_metrics
from .scoring import chunked_topk, rank_candidate_lists, segment_max_topk
from .tasks import segment_tasks

if TYPE_CHECKING:
    from accelerate import PartialState

RESULTS_FILE = "results.json"


class LazyItems(Sequence):
    """Encoder inputs built on access: only the items the cache lacks are ever opened."""

    def __init__(self, build: Callable[[Any], Any], sources: list):
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
    build: Callable[[Any], Any]  # source -> encoder input
    segmented: bool = False  # embedded by segments (a row per segment)
    keys: list[str] = field(default_factory=list)
    sources: list = field(default_factory=list)

    def add(self, key: str, source: Any) -> None:
        if key not in self._seen:
            self._seen.add(key)
            self.keys.append(key)
            self.sources.append(source)

    def __post_init__(self) -> None:
        self._seen: set[str] = set()


@dataclass
class EncodingPlan:
    """``jobs``: ``"candidates"``, ``"segments"`` (the corpus videos of ``segmented`` tasks, by
    segments) and ``"queries:<TASK>"``; ``keys[task]``: ``{"corpus": {cid: key}, "queries": {qid: key}}``."""

    jobs: dict[str, EncodingJob]
    keys: dict[str, dict[str, dict[str, str]]]
    segmented: frozenset[str] = frozenset()

    def corpus_job(self, task: str) -> str:
        """The label of the job holding ``task``'s corpus vectors."""
        return "segments" if task in self.segmented else "candidates"

    @property
    def candidates(self) -> EncodingJob:
        return self.jobs["candidates"]


def plan_encoding(
    datas: list[UVRBTaskData],
    fingerprints: Fingerprints,
    frames: FramesReading | float = 1.0,
    segmented: Sequence[str] = (),
) -> EncodingPlan:
    """The candidate job (all tasks' videos, deduplicated by content), the segment job (the
    videos of the ``segmented`` tasks, if any) and one query job per task."""
    frames = frames if isinstance(frames, FramesReading) else FramesReading(fps=float(frames))

    def build(source: Any) -> dict:
        return {"video": source.as_input(frames)}

    jobs = {"candidates": EncodingJob(role="document", instruction=None, build=build)}
    if segmented:
        jobs["segments"] = EncodingJob(role="document", instruction=None, build=build, segmented=True)
    plan = EncodingPlan(jobs, {}, frozenset(segmented))
    keys = plan.keys
    for data in datas:
        corpus_keys, corpus_job = {}, jobs[plan.corpus_job(data.task.name)]
        for cid, source in data.corpus.items():
            corpus_keys[cid] = key = item_key({"video": source.key_input(frames)}, fingerprints)
            corpus_job.add(key, source)
        job = jobs[f"queries:{data.task.name}"] = EncodingJob(
            role="query", instruction=data.task.prompt, build=lambda q: q.as_input(frames)
        )
        query_keys = {}
        for query in data.queries:
            query_keys[query.id] = key = item_key(query.key_input(frames), fingerprints)
            job.add(key, query)
        keys[data.task.name] = {"corpus": corpus_keys, "queries": query_keys}
    return plan


class KeyedVectors:
    """A job's `EncodeResult` by input key (``errors``: key -> reason; ``get(keys)``): what `score_task` reads."""

    def __init__(self, keys: Sequence[str], result: EncodeResult):
        self.errors = {keys[e.index]: e.reason for e in result.errors}
        self._row = {keys[index]: row for row, index in enumerate(result.indices)}
        self._embeddings = result.embeddings  # (num_good, D)

    def get(self, keys: Sequence[str]) -> torch.Tensor:
        return self._embeddings[[self._row[key] for key in keys]]


class KeyedSegments:
    """The segment job's `EncodeResult` by input key (``errors``: key -> reason; ``get(keys)``):
    each video's segment rows."""

    def __init__(self, keys: Sequence[str], result: EncodeResult):
        self.errors = {keys[e.index]: e.reason for e in result.errors}
        self._rows: dict[str, list[int]] = {}
        for row, index in enumerate(result.indices):  # an input's rows are its segments, in order
            self._rows.setdefault(keys[index], []).append(row)
        self._embeddings = result.embeddings  # (num_segments, D)

    def get(self, keys: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(segments, owners)`` of shapes `(S, D)` and `(S,)`: the segments of ``keys[i]`` have owner ``i``."""
        rows = [self._rows.get(key, []) for key in keys]
        owners = torch.tensor([i for i, mine in enumerate(rows) for _ in mine], dtype=torch.long)
        return self._embeddings[[row for mine in rows for row in mine]], owners


def encode_all(
    plan: EncodingPlan,
    encoder: Encoder,
    config: UVRBRunConfig,
    share: slice = slice(None),
    show: bool = False,
    segment_encoder: Encoder | None = None,
) -> dict[str, KeyedVectors | KeyedSegments]:
    """Every job's ``share`` of unique inputs through ``encoder`` (the segment job through
    ``segment_encoder``; both `CachedEncoder`s: what is cached is read, the rest encoded and
    stored); ``{job label: KeyedVectors or KeyedSegments}``."""
    options = {"batch_size": config.batch_size, "num_workers": config.num_workers, "show_progress_bar": show}
    vectors = {}
    for label, job in plan.jobs.items():
        keys, items = job.keys[share], LazyItems(job.build, job.sources[share])
        if job.segmented and segment_encoder is None:
            raise ValueError("the plan has a segment job: pass segment_encoder")
        result = (segment_encoder if job.segmented else encoder).encode(
            items, job.instruction, role=job.role, keys=keys, **options
        )
        vectors[label] = (KeyedSegments if job.segmented else KeyedVectors)(keys, result)
    return vectors


def score_all(
    datas: list[UVRBTaskData],
    plan: EncodingPlan,
    vectors: dict[str, KeyedVectors | KeyedSegments],
    config: UVRBRunConfig,
) -> dict[str, dict]:
    """``{task: its record}``: rankings scored, blocks of similarities on the GPU when there is one."""
    device = "cuda" if torch.cuda.is_available() else None
    budget = config.memory_budget_mb * 2**20
    results = {}
    for data in datas:
        name = data.task.name
        results[name] = score_task(data, plan.keys[name], vectors[plan.corpus_job(name)], vectors[f"queries:{name}"],
                                   budget, device=device)  # fmt: skip
        if name in plan.segmented:  # recorded, and a note in results.md and the model card: not the paper's protocol
            seconds = config.segment_seconds
            results[name]["segments"] = {"seconds": seconds, "scored_by": "best segment (max cosine)"}
            results[name]["ranking_note"] = (
                f"videos ranked by their best {seconds:g}-second segment (--segment-seconds), not by one vector per video"
            )
    return results


def score_task(
    data: UVRBTaskData,
    keys: dict,
    candidates: KeyedVectors | KeyedSegments,
    queries: KeyedVectors,
    memory_budget: int = 64 * 2**20,
    device: str | None = None,
) -> dict:
    """Rank, score and report one task (a corpus of `KeyedSegments`: each video by its best
    segment). Inputs that failed to encode are left out of the ranking (a failed query scores 0)
    and listed, and the task is marked incomplete."""
    failed_c, failed_q = candidates.errors, queries.errors
    corpus_ids = [cid for cid in data.corpus if keys["corpus"][cid] not in failed_c]
    corpus_keys = [keys["corpus"][cid] for cid in corpus_ids]
    good_queries = [q.id for q in data.queries if keys["queries"][q.id] not in failed_q]
    query_emb = queries.get([keys["queries"][qid] for qid in good_queries])  # (Q, D)

    rankings: dict[str, list[str]] = {q.id: [] for q in data.queries}
    if good_queries and corpus_ids:
        if data.candidates is None:
            if isinstance(candidates, KeyedSegments):
                segments, owners = candidates.get(corpus_keys)  # (S, D), (S,)
                _, top = segment_max_topk(query_emb, segments, owners, len(corpus_ids), MAX_K,
                                          memory_budget=memory_budget, device=device)  # fmt: skip
            else:
                _, top = chunked_topk(
                    query_emb, candidates.get(corpus_keys), MAX_K, memory_budget=memory_budget, device=device
                )  # (Q, k)
            for qid, row in zip(good_queries, top.tolist()):
                rankings[qid] = [corpus_ids[i] for i in row]
        elif isinstance(candidates, KeyedSegments):
            raise ValueError(f"{data.task.name}: per-query candidate lists are not scored by segments")
        else:
            corpus_emb = candidates.get(corpus_keys)  # (C, D)
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
    record = {
        **metrics,
        "main_metric": data.task.main_metric,
        "num_queries": len(data.queries),
        "num_corpus": len(data.corpus),
        "ranking": data.ranking,
        "complete": not skipped_c and not skipped_q,
        "skipped_queries": skipped_q,
        "skipped_candidates": skipped_c,
    }
    if data.ranking_note:
        record["ranking_note"] = data.ranking_note
    return record


def write_results(
    config: UVRBRunConfig, datas: list[UVRBTaskData], task_results: dict[str, dict], record: dict[str, Any]
) -> dict:
    """``results.json`` and ``tasks/<TASK>.json`` under ``config.output``, then the tables and plot
    (`report.write_report`); returns the results record."""
    output = Path(config.output)
    (output / "tasks").mkdir(parents=True, exist_ok=True)
    for name, result in task_results.items():
        (output / "tasks" / f"{name}.json").write_text(json.dumps(result, indent=2))
    results = {
        "model": config.model_label or config.model,
        **record,
        "tasks": task_results,
        "aggregate": aggregate({name: r["main_score"] for name, r in task_results.items()}),
        "config": {k: v for k, v in asdict(config).items() if k not in ("show_progress_bar",)},
    }
    (output / RESULTS_FILE).write_text(json.dumps(results, indent=2))
    from .report import write_report

    write_report(results, output)
    return results


def run_uvrb(config: UVRBRunConfig) -> dict | None:
    """Run UVRB; returns the results dict on the main process (``None`` on the others).

    Writes ``results.json`` (per-task metrics, aggregates, the data record with each task's
    manifest, the model record, encoding counts), ``results.md`` (paper-style tables) and
    ``radar.png`` under ``config.output``.
    """
    from accelerate.utils import gather_object

    state = process_state()
    start = time.perf_counter()
    cache_dir = Path(config.cache_dir) if config.cache_dir else Path(config.output) / "embedding_cache"
    if state.is_main_process:
        cache_dir.mkdir(parents=True, exist_ok=True)
    with state.main_process_first():  # downloads and extraction: once, by the main process
        datas, source = load_tasks(config)
    model = _load_encoder(config, state)
    frames = FramesReading.for_sampling(config.frames_protocol, config.frames_fps, model.describe()["sampling"])
    with state.main_process_first():  # file hashing: by the main process; the others read its memo
        fingerprints = Fingerprints(cache_dir / "content-keys.json", writable=state.is_main_process)
        plan = plan_encoding(datas, fingerprints, frames, segmented=_segmented(config, datas))
        fingerprints.save()
    encoder = CachedEncoder(model, cache_dir, flush_every=config.flush_every, fingerprints=fingerprints)
    segment_encoder = None
    if plan.segmented:  # a namespace of its own in the same cache (the segment settings are in its key)
        segment_encoder = CachedEncoder(SegmentEncoder(model, config.segment_seconds), cache_dir,
                                        flush_every=config.flush_every, fingerprints=fingerprints)  # fmt: skip
    # each process encodes every num_processes-th unique input of each job
    mine = slice(state.process_index, None, state.num_processes)
    show = config.show_progress_bar and state.is_local_main_process
    encode_all(plan, encoder, config, share=mine, show=show, segment_encoder=segment_encoder)
    encoded = encoder.num_encoded + (segment_encoder.num_encoded if segment_encoder else 0)
    encoded = sum(gather_object([encoded])) if state.num_processes > 1 else encoded
    state.wait_for_everyone()
    if not state.is_main_process:
        return None
    # every vector, read back (the other processes' shards too)
    vectors = encode_all(plan, encoder, config, segment_encoder=segment_encoder)
    task_results = score_all(datas, plan, vectors, config)
    lovr = config.lovr_videos
    record = {
        "encoder": encoder.describe(),
        "data": {**source, "frames": frames.record(), "tasks": {d.task.name: task_manifest(d, lovr) for d in datas}},
        "encoding": {
            "unique_inputs": sum(len(job.keys) for job in plan.jobs.values()),
            "candidates_per_task_total": sum(len(d.corpus) for d in datas),
            "candidates_unique": len(plan.candidates.keys),
            "encoded_this_run": encoded,
            "num_processes": state.num_processes,
            "cache_problems": encoder.problems + (segment_encoder.problems if segment_encoder else []),
        },
        "seconds": round(time.perf_counter() - start, 2),
    }
    if plan.segmented:
        record["encoding"]["segments"] = {"seconds": config.segment_seconds, "tasks": sorted(plan.segmented),
                                          "videos_unique": len(plan.jobs["segments"].keys)}  # fmt: skip
    return write_results(config, datas, task_results, record)


def _segmented(config: UVRBRunConfig, datas: list[UVRBTaskData]) -> list[str]:
    """The tasks of this run whose corpus is embedded by segments (none without ``segment_seconds``)."""
    if config.segment_seconds is None:
        return []
    chosen = {t.name for t in segment_tasks()}
    return [d.task.name for d in datas if d.task.name in chosen]


def _load_encoder(config: UVRBRunConfig, state: PartialState) -> Encoder:
    device = config.device or (str(state.device) if state.num_processes > 1 else None)  # None: best available
    return load_encoder(
        config.model, kind=config.encoder, revision=config.revision, device=device, dtype=config.dtype,
        sampling=config.sampling, trust_remote_code=config.trust_remote_code,
    )  # fmt: skip


__all__ = [
    "EncodingPlan",
    "KeyedSegments",
    "KeyedVectors",
    "UVRBRunConfig",
    "encode_all",
    "load_tasks",
    "plan_encoding",
    "run_uvrb",
    "score_all",
    "score_task",
    "write_results",
]
