# Copyright 2026 The GVE package authors. Apache-2.0.
"""V-SynFlow end to end: quality control → enrichment → task extension → dataset folder (+ Hub).

Run with ``gve synthesize --config recipes/configs/vsynflow.yaml`` or, on several processes
(GPUs for a local captioner / the embedder), ``accelerate launch recipes/synthesize.py
--config ...``. Processes split the shards of stages 1 and 2 and the embedding of hard-negative
mining; the main process writes the parquet files, the card and pushes. Every stage resumes:
rerun the same command after an interruption.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..distributed import process_state
from ..encoders import CachedEncoder, load_encoder
from ..hub.publish import publish_dataset
from ..pairs import remove_task, write_task
from .config import SynthesisConfig
from .workstore import atomic_write_json, shards_for_process

if TYPE_CHECKING:
    from accelerate import PartialState

EMBEDDINGS_DIRNAME = "embeddings"  # the embedding cache, under the work folder


class LazyEmbedder:
    """Loads the configured embedder on first use (a resumed run with nothing left to embed never
    loads it), as a `CachedEncoder` over ``<work_dir>/embeddings``."""

    def __init__(self, config: SynthesisConfig, device: str):
        self.config, self.device, self._model = config, device, None

    def __call__(self) -> CachedEncoder:
        if self._model is None:
            q = self.config.quality
            encoder = load_encoder(
                q.embedder,
                kind=q.embedder_type,
                device=self.device,
                dtype=q.embedder_dtype,
                trust_remote_code=q.embedder_trust_remote_code,
            )
            self._model = CachedEncoder(encoder, self.config.work_dir / EMBEDDINGS_DIRNAME)
        return self._model


def _stats_path(config: SynthesisConfig) -> Path:
    return config.work_dir / "stats.json"


def _load_stats(config: SynthesisConfig) -> dict:
    import json

    path = _stats_path(config)
    return json.loads(path.read_text()) if path.exists() else {}


def run_quality(config: SynthesisConfig, state: PartialState, embedder: LazyEmbedder) -> dict | None:
    """Stage 1 on this process's shards; the main process returns the stage statistics."""
    from .consistency import format_distribution
    from .quality import QualityControl

    qc = QualityControl(config)
    shards = shards_for_process(config.data.num_shards, state.process_index, state.num_processes)
    if state.num_processes > 1:
        print(f"[V-SynFlow] process {state.process_index}/{state.num_processes}: shards {shards}", flush=True)
    qc.run(shards, embedder, show_progress=state.is_local_main_process)
    state.wait_for_everyone()
    if not state.is_main_process:
        return None
    stats = qc.stats()
    print(
        f"[V-SynFlow] stage 1: {stats['input_videos']} input pairs -> {stats['pool']['videos']} videos in the pool "
        f"({stats['pool']['frames']} frames, {stats['pool']['clips']} clips); outcome {stats['outcome']}"
    )
    print(format_distribution("temporal dynamics (motion)", stats["motion"]["distribution"]))
    if stats["consistency"]["enabled"]:
        print(format_distribution("cross-modal consistency (cosine)", stats["consistency"]["distribution"]))
    return stats


def run_enrichment(config: SynthesisConfig, state: PartialState) -> dict | None:
    """Stage 2 on this process's shards; the main process returns the stage statistics."""
    from .captioners import build_captioner
    from .enrich import Enrichment
    from .quality import QualityControl

    qc = QualityControl(config)
    shards = shards_for_process(config.data.num_shards, state.process_index, state.num_processes)
    pool = qc.pool(shards)
    if state.is_main_process and not qc.assets_dir.exists():
        print("[V-SynFlow] stage 2: no asset pool yet; run stage 'qc' first", file=sys.stderr)
    enrichment = Enrichment(config, assets_fingerprint=qc.assets_dir.name)
    counts = enrichment.run(
        pool,
        captioner_factory=lambda: build_captioner(config.captioner, device=str(state.device), seed=config.data.seed),
        show_progress=state.is_local_main_process,
    )
    if state.num_processes > 1:
        print(f"[V-SynFlow] process {state.process_index}/{state.num_processes}: stage 2 {dict(counts)}", flush=True)
    if counts.get("error"):
        print(
            f"[V-SynFlow] process {state.process_index}: {counts['error']} request(s) hit transient errors "
            "(server unreachable / timeouts); rerun to retry them",
            file=sys.stderr,
        )
    state.wait_for_everyone()
    if not state.is_main_process:
        return None
    stats = enrichment.stats()
    print(f"[V-SynFlow] stage 2: requests {stats['requests']}")
    return stats


def run_tasks(config: SynthesisConfig, state: PartialState, embedder: LazyEmbedder, stats: dict) -> dict | None:
    """Stage 3: rows per task, hard negatives, parquet files, media pruning, card."""
    from .enrich import Enrichment
    from .quality import QualityControl
    from .tasks import build_rows, row_stats

    t = config.tasks
    mined = (
        {task: k for task, k in t.hard_negatives.items() if k > 0 and task in t.tasks} if t.mine_hard_negatives else {}
    )
    if not mined and not state.is_main_process:  # only the main process has work
        state.wait_for_everyone()
        return None
    qc = QualityControl(config)
    pool = qc.pool()
    enrichment = Enrichment(config, assets_fingerprint=qc.assets_dir.name).results()
    rows = build_rows(pool, enrichment, config)
    negatives = _mine_negatives(config, state, embedder, rows, mined)
    if not state.is_main_process:
        return None
    removed = _write_tasks(config, rows, pool)
    task_stats = {task: s for task, s in row_stats(rows).items() if s["rows"]}
    stats = dict(stats)
    stats["tasks"] = task_stats
    stats["negatives"] = negatives
    stats["pruned_media_files"] = removed
    print(f"[V-SynFlow] stage 3: rows per task { ({k: v['rows'] for k, v in task_stats.items()}) }")
    return stats


def _mine_negatives(
    config: SynthesisConfig, state: PartialState, embedder: LazyEmbedder, rows: dict, mined: dict[str, int]
) -> dict | None:
    """Every process embeds its share into the shared cache; then the main process mines ``mined[task]``
    negatives per row in place. Returns the negatives record of the card (main process), else None."""
    from . import negatives as mining

    root, t = config.output_dir.resolve(), config.tasks
    for task in mined:
        mining.embed_share(
            embedder(),
            task,
            rows[task],
            root,
            state.process_index,
            state.num_processes,
            batch_size=config.quality.embed_batch_size,
            show_progress_bar=state.is_local_main_process,
        )
    state.wait_for_everyone()
    if not state.is_main_process or not mined:
        return None
    negatives = {"embedder": config.quality.embedder, "margin": t.negative_margin, "tasks": {}}
    for task, k in mined.items():
        counts = mining.mine(
            embedder(),
            task,
            rows[task],
            root,
            batch_size=config.quality.embed_batch_size,
            k=k,
            margin=t.negative_margin,
            chunk_size=t.mining_chunk_size,
        )
        negatives["tasks"][task] = counts | {"k": k}
    return negatives


def _write_tasks(config: SynthesisConfig, rows: dict, pool: list) -> int:
    """Write each task's parquet files (an empty task is removed from the card) and prune media of videos
    no longer in ``pool``; returns the number of media files removed."""
    from .tasks import check_rows
    from .writer import prune_media

    root = config.output_dir
    for task, task_rows in rows.items():
        check_rows(task, task_rows)
        if task_rows:
            write_task(root, task, task_rows, config.data.rows_per_file)
        else:
            remove_task(root, task)  # an empty config would not load; leave it out of the card
    if pool:  # media of videos no longer in the pool (e.g. after a stricter threshold) are not published
        return prune_media(root, {p for v in pool for p in [v.video, *v.frames, *v.clips]})
    print(
        "[V-SynFlow] stage 3: the asset pool is empty (run stage 'qc' with these settings); media left as is",
        file=sys.stderr,
    )
    return 0


def write_card(config: SynthesisConfig, stats: dict) -> Path | None:
    """The dataset card of ``config.output_dir`` (none when no task has rows)."""
    from hub_cards.uvrd_dataset import write_uvrd_dataset_card

    if not stats.get("tasks"):
        print("[V-SynFlow] no rows in any task: no dataset card written", file=sys.stderr)
        return None
    return write_uvrd_dataset_card(
        config.output_dir,
        stats,
        repo_id=config.hub.hub_repo_id,
        pretty_name=config.hub.pretty_name,
        license=config.hub.card_license,
    )


def run(config: SynthesisConfig, state: PartialState | None = None) -> dict:
    """Run the configured stages on ``state`` (default: this process's, see
    `modeling_gve.distributed.process_state`). Returns the statistics (complete on the main process)."""
    state = state or process_state()
    config.output_dir.mkdir(parents=True, exist_ok=True)
    config.work_dir.mkdir(parents=True, exist_ok=True)
    embedder = LazyEmbedder(config, str(state.device))
    stats = _load_stats(config)
    stats["settings"] = _public_settings(config)

    # Quality control
    if "qc" in config.data.stages:
        result = run_quality(config, state, embedder)
        if state.is_main_process:
            stats["quality"] = result
            atomic_write_json(_stats_path(config), stats)
    # Enrichment
    if "enrich" in config.data.stages and not config.quality.qc_report_only:
        result = run_enrichment(config, state)
        if state.is_main_process:
            stats["enrichment"] = result
            atomic_write_json(_stats_path(config), stats)
    # Task extension
    if "tasks" in config.data.stages and not config.quality.qc_report_only:
        result = run_tasks(config, state, embedder, stats)
        if state.is_main_process:
            stats = result
            atomic_write_json(_stats_path(config), stats)
            card = write_card(config, stats)
            if card:
                print(f"[V-SynFlow] dataset written to {config.output_dir} (card: {card})")
    # Publishing
    if config.hub.push_to_hub and state.is_main_process:
        if not (config.output_dir / "README.md").exists():
            raise FileNotFoundError(f"{config.output_dir}: no README.md; run stage 'tasks' before pushing")
        publish_dataset(  # the `gve hub push-dataset` path: staged, card checked, uploaded
            config.output_dir,
            config.hub.hub_repo_id,
            kind="vsynflow",
            private=config.hub.hub_private,
            revision=config.hub.hub_revision,
            commit_message=config.hub.hub_commit_message,
        )
    state.wait_for_everyone()
    return stats


def _public_settings(config: SynthesisConfig) -> dict:
    """Settings for the card: everything but local paths of the machine that ran it."""
    settings = config.to_dict()
    for key in ("output_dir", "work_dir"):
        settings.pop(key, None)
    settings["input"] = Path(settings["input"]).name if Path(settings["input"]).is_dir() else settings["input"]
    return settings


def run_and_report(config: SynthesisConfig) -> int:
    """Run; exit status 1 if requests are left with transient errors (rerun to retry them)."""
    stats = run(config)
    errors = sum(c.get("error", 0) for c in (stats.get("enrichment") or {}).get("requests", {}).values())
    return 1 if errors else 0


__all__ = ["LazyEmbedder", "run", "run_and_report", "run_enrichment", "run_quality", "run_tasks", "write_card"]
