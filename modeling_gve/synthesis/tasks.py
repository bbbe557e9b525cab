# Copyright 2026 The GVE package authors. Apache-2.0.
"""Stage 3, multimodal task extension (paper §3.2, SPEC §3): training pairs per task.

From each pool video and its enrichment (see `plan.py` for which frames/clips are used):

========  =========================================  ==========================================
task      query                                      positive
========  =========================================  ==========================================
T2V       one sampled generated caption              the video
T2T       an unused generated caption (of the video  another unused caption of the same video
          or of a captioned frame)                   (or frame)
T2I       one sampled caption of a frame             the frame
I2V       a frame                                    the video
V2V       a clip                                     the video
TI2V      composed query text + a frame              the video
TV2V      composed query text + a clip               the video
========  =========================================  ==========================================

Rows are training pairs (`modeling_gve.pairs`; media paths relative to the dataset root), with
``negatives`` filled by `negatives.py` when asked. The tasks are then cut to the proportions of
the paper's UVRD (``task_proportions``, Table 7: T2V 879K ... TV2V 35K), scaled to what the input
gives (`proportional_caps`).
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Sequence

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


def _frame_caption_rows(
    video: PoolVideo,
    enrichment: dict[str, dict],
    caption_frames: Sequence[int],
    rows: dict[str, list[dict]],
    rng: random.Random,
    config: SynthesisConfig,
) -> None:
    """T2I rows (one sampled caption of each captioned frame) and T2T rows from that frame's other
    captions (§A.6: T2T matches captions of a video or of a frame), appended to ``rows``."""
    seed = config.data.seed
    for k in caption_frames:
        frame_captions = _ok(enrichment, request_key("frame_captions", video.id, k))
        if frame_captions is None:
            continue
        names = sorted(frame_captions)
        chosen = rng.choice(names) if "T2I" in rows else None
        if chosen is not None:
            text, frame = frame_captions[chosen], video.frames[k]
            rows["T2I"].append(_row("T2I", f"{video.id}-{k}", video.id, query_text=text, pos_image=frame))
        if "T2T" in rows:  # the captions T2I did not use
            unused = [n for n in names if n != chosen]
            random.Random(f"{seed}:t2t-frames:{video.id}:{k}").shuffle(unused)
            for i in range(min(config.tasks.t2t_pairs_per_frame, len(unused) // 2)):
                a, b = unused[2 * i], unused[2 * i + 1]
                rows["T2T"].append(_row("T2T", f"{video.id}-f{k}-{i}", video.id,
                                        query_text=frame_captions[a], pos_text=frame_captions[b]))  # fmt: skip


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
    if "T2I" in rows or "T2T" in rows:
        _frame_caption_rows(video, enrichment, plan.caption_frames, rows, rng, config)
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
    for task, kind, frames, field, media in (("TI2V", "ti_query", plan.ti_frames, "query_image", video.frames),
                                             ("TV2V", "tv_query", plan.tv_clips, "query_video", video.clips)):  # fmt: skip
        for k in frames if task in rows else ():
            query = _ok(enrichment, request_key(kind, video.id, k))
            if query is not None:
                rows[task].append(_row(task, f"{video.id}-{k}", video.id, query_text=query["query"],
                                       pos_video=video.video, **{field: media[k]}))  # fmt: skip
    return rows


def proportional_caps(counts: dict[str, int], proportions: dict[str, int]) -> dict[str, int]:
    """Rows to keep per task so that the tasks follow ``proportions`` as closely as ``counts`` (the
    rows available) allow: the largest common scale s with ``s · proportion <= available`` for every
    listed task that has rows, then ``round(s · proportion)``, at least one row. A task not listed
    is not cut; a proportion of 0 drops the task."""
    listed = {t: p for t, p in proportions.items() if p > 0 and counts.get(t, 0) > 0}
    caps = {t: 0 for t, p in proportions.items() if p == 0 and t in counts}
    if listed:
        scale = min(counts[t] / p for t, p in listed.items())
        caps |= {t: min(counts[t], max(1, round(scale * p))) for t, p in listed.items()}
    return caps


def build_rows(
    pool: Sequence[PoolVideo], enrichment: dict[str, dict], config: SynthesisConfig
) -> dict[str, list[dict]]:
    """All rows per task, sorted by id, cut to ``task_proportions`` and capped at ``max_rows`` (a
    seeded sample, not the first rows)."""
    out: dict[str, list[dict]] = {task: [] for task in TASKS if task in config.tasks.tasks}
    for video in pool:
        for task, rows in rows_for_video(video, enrichment, config).items():
            out[task].extend(rows)
    caps = proportional_caps({task: len(rows) for task, rows in out.items()}, config.tasks.task_proportions)
    for task, rows in out.items():
        limits = [c for c in (caps.get(task), config.tasks.max_rows.get(task)) if c is not None]
        cap = min(limits) if limits else None
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

__all__ = ["SOURCE", "build_rows", "check_rows", "proportional_caps", "row_stats", "rows_for_video"]
