# Copyright 2026 The GVE package authors. Apache-2.0.
"""The asset pool entry and the per-video plan shared by stages 2 and 3.

Which frames get captioned, which (frame, video) and (clip, video) pairs get composed queries,
and which frames/clips become I2V/V2V queries is a deterministic function of the seed and the
video id (`plan_video`), so the enrichment stage asks for exactly what the task stage uses,
in any process and on any rerun.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .config import CaptionerArguments, TaskArguments

# enrichment kind -> the tasks that need it
KIND_TASKS = {
    "video_captions": ("T2V", "T2T"),
    "frame_captions": ("T2I", "T2T"),
    "ti_query": ("TI2V",),
    "tv_query": ("TV2V",),
}


@dataclass
class PoolVideo:
    """One video of the asset pool (paths relative to the dataset root).

    Attributes:
        id: the video id. source: absolute path of the input file. video: ``media/videos/...``.
        caption: the rectified source caption. frames / clips: ``media/frames/<id>/...`` and
        ``media/clips/<id>/...``. motion / consistency: the filter scores (``None`` if not measured).
    """

    id: str
    source: str
    video: str
    caption: str
    frames: list[str] = field(default_factory=list)
    clips: list[str] = field(default_factory=list)
    duration: float = 0.0
    motion: float | None = None
    consistency: float | None = None


@dataclass
class VideoPlan:
    """Indices into a `PoolVideo`'s frames / clips chosen for each use."""

    caption_frames: list[int]
    ti_frames: list[int]
    tv_clips: list[int]
    i2v_frames: list[int]
    v2v_clips: list[int]


def _pick(rng: random.Random, count: int, available: int) -> list[int]:
    return sorted(rng.sample(range(available), min(count, available)))


def plan_video(video: PoolVideo, captioner: CaptionerArguments, tasks: TaskArguments, seed: int) -> VideoPlan:
    rng = random.Random(f"{seed}:plan:{video.id}")
    n_frames, n_clips = len(video.frames), len(video.clips)
    return VideoPlan(
        caption_frames=_pick(rng, captioner.frame_captions_per_video, n_frames),
        ti_frames=_pick(rng, captioner.ti_queries_per_video, n_frames),
        tv_clips=_pick(rng, captioner.tv_queries_per_video, n_clips),
        i2v_frames=_pick(rng, tasks.i2v_per_video, n_frames),
        v2v_clips=_pick(rng, tasks.v2v_per_video, n_clips),
    )


def enrichment_kinds(captioner: CaptionerArguments, tasks: TaskArguments) -> list[str]:
    """The enrichment kinds asked for AND needed by a requested task."""
    return [k for k in captioner.enrich_kinds if any(t in tasks.tasks for t in KIND_TASKS[k])]


def request_key(kind: str, video_id: str, index: int | None = None) -> str:
    return f"{kind}/{video_id}" if index is None else f"{kind}/{video_id}/{index}"


__all__ = ["KIND_TASKS", "PoolVideo", "VideoPlan", "enrichment_kinds", "plan_video", "request_key"]
