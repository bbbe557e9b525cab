# Copyright 2026 The GVE package authors. Apache-2.0.
"""Stage 3, multimodal task extension (paper §3.2, SPEC §3): training pairs per task.

From each pool video and its enrichment (see `plan.py` for which frames/clips are used):

========  =========================================  ==========================================
task      query                                      positive
========  =========================================  ==========================================
T2V       one sampled generated caption              the video
T2T       an unused generated caption                another unused caption of the same video
T2I       one sampled caption of a frame             the frame
I2V       a frame                                    the video
V2V       a clip                                     the video
TI2V      composed query text + a frame              the video
TV2V      composed query text + a clip               the video
========  =========================================  ==========================================

Rows are training pairs (`modeling_gve.pairs`; media paths relative to the dataset root), with
``negatives`` filled by `negatives.py` when asked.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from typing import Sequence

from .. import pairs
from .._deprecation import moved_names
from ..directions import MODALITIES, parse
from .config import TASKS, SynthesisConfig
from .plan import PoolVideo, plan_video, request_key

SOURCE = "_video"  # internal column: the pool video a row comes from (not written)


def _row(task: str, row_id: str, video_id: str, **values: str) -> dict:
    row = dict.fromkeys(pairs.COLUMNS)
    row.update(values)
    row["id"] = f"{task}-{row_id}"
    row["negatives"] = []
    row[SOURCE] = video_id
    return row


def _ok(enrichment: dict[str, dict], key: str) -> dict | None:
    record = enrichment.get(key)
    return record["output"] if record is not None and record["status"] == "ok" else None


def rows_for_video(video: PoolVideo, enrichment: dict[str, dict], config: SynthesisConfig) -> dict[str, list[dict]]:
    """Every row one pool video contributes, per task (deterministic in the seed and video id)."""
    t, seed = config.tasks, config.data.seed
    plan = plan_video(video, config.captioner, t, seed)
    rng = random.Random(f"{seed}:tasks:{video.id}")
    rows: dict[str, list[dict]] = {task: [] for task in t.tasks}

    captions = _ok(enrichment, request_key("video_captions", video.id))
    if captions is not None:
        order = sorted(captions)
        rng.shuffle(order)  # T2V takes the first ones, T2T pairs up the rest ("unused" captions)
        n_t2v = min(t.t2v_captions_per_video, len(order)) if "T2V" in rows else 0
        for i, name in enumerate(order[:n_t2v]):
            rows["T2V"].append(
                _row("T2V", f"{video.id}-{i}", video.id, query_text=captions[name], pos_video=video.video)
            )
        if "T2T" in rows:
            unused = order[n_t2v:]
            for i in range(min(t.t2t_pairs_per_video, len(unused) // 2)):
                a, b = unused[2 * i], unused[2 * i + 1]
                rows["T2T"].append(
                    _row("T2T", f"{video.id}-{i}", video.id, query_text=captions[a], pos_text=captions[b])
                )
    if "T2I" in rows:
        for k in plan.caption_frames:
            frame_captions = _ok(enrichment, request_key("frame_captions", video.id, k))
            if frame_captions is not None:
                text = frame_captions[rng.choice(sorted(frame_captions))]
                rows["T2I"].append(
                    _row("T2I", f"{video.id}-{k}", video.id, query_text=text, pos_image=video.frames[k])
                )
    if "I2V" in rows:
        for k in plan.i2v_frames:
            rows["I2V"].append(
                _row("I2V", f"{video.id}-{k}", video.id, query_image=video.frames[k], pos_video=video.video)
            )
    if "V2V" in rows:
        for k in plan.v2v_clips:
            rows["V2V"].append(
                _row("V2V", f"{video.id}-{k}", video.id, query_video=video.clips[k], pos_video=video.video)
            )
    if "TI2V" in rows:
        for k in plan.ti_frames:
            query = _ok(enrichment, request_key("ti_query", video.id, k))
            if query is not None:
                rows["TI2V"].append(
                    _row(
                        "TI2V",
                        f"{video.id}-{k}",
                        video.id,
                        query_text=query["query"],
                        query_image=video.frames[k],
                        pos_video=video.video,
                    )
                )
    if "TV2V" in rows:
        for k in plan.tv_clips:
            query = _ok(enrichment, request_key("tv_query", video.id, k))
            if query is not None:
                rows["TV2V"].append(
                    _row(
                        "TV2V",
                        f"{video.id}-{k}",
                        video.id,
                        query_text=query["query"],
                        query_video=video.clips[k],
                        pos_video=video.video,
                    )
                )
    return rows


def build_rows(
    pool: Sequence[PoolVideo], enrichment: dict[str, dict], config: SynthesisConfig
) -> dict[str, list[dict]]:
    """All rows per task, sorted by id, capped at ``max_rows`` (a seeded sample, not the first rows)."""
    out: dict[str, list[dict]] = {task: [] for task in TASKS if task in config.tasks.tasks}
    for video in pool:
        for task, rows in rows_for_video(video, enrichment, config).items():
            out[task].extend(rows)
    for task, rows in out.items():
        cap = config.tasks.max_rows.get(task)
        if cap is not None and len(rows) > cap:
            rank = lambda r: hashlib.blake2b(f"{config.data.seed}:{r['id']}".encode(), digest_size=8).digest()  # noqa: E731
            rows = sorted(rows, key=rank)[:cap]
        out[task] = sorted(rows, key=lambda r: r["id"])
    return out


def row_stats(rows: dict[str, list[dict]]) -> dict:
    return {
        task: {
            "rows": len(task_rows),
            "videos": len({r[SOURCE] for r in task_rows}),
            "with_negatives": sum(1 for r in task_rows if r["negatives"]),
            "negatives": sum(len(r["negatives"]) for r in task_rows),
        }
        for task, task_rows in rows.items()
    }


def check_rows(task: str, rows: Sequence[dict]) -> None:
    """The format's invariants: unique ids and the task's modality pattern (raises `ValueError`)."""
    ids = Counter(r["id"] for r in rows)
    duplicated = [i for i, n in ids.items() if n > 1]
    if duplicated:
        raise ValueError(f"{task}: duplicate row ids, e.g. {duplicated[:3]}")
    for row in rows:
        if pairs.direction_of(row) != task:
            raise ValueError(f"{task}: row {row['id']} has modality pattern {pairs.direction_of(row)}")


def _task_patterns() -> dict[str, tuple[tuple[str, ...], str]]:
    # The old table: task -> (query fields, positive field).
    patterns = {}
    for task in TASKS:
        direction = parse(task)
        positive = next(m for m in MODALITIES if m in direction.candidate)
        patterns[task] = (tuple(f"query_{m}" for m in MODALITIES if m in direction.query), f"pos_{positive}")
    return patterns


__getattr__ = moved_names(
    __name__,
    {
        "ROW_FIELDS": ("modeling_gve.pairs.COLUMNS[:-1]", lambda: pairs.COLUMNS[:-1]),
        "TASK_PATTERNS": ("modeling_gve.directions.parse(task)", _task_patterns),
    },
)

__all__ = ["SOURCE", "build_rows", "check_rows", "row_stats", "rows_for_video"]
