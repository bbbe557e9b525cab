# Copyright 2026 The GVE package authors. Apache-2.0.
"""Stage 1, multi-granular quality control → asset pool (paper §3.2).

For the videos of the shards this process owns:

1. annotation rectification (`rectify.py`; over the whole input, it is cheap and global);
2. temporal dynamics: a motion score per video (`dynamics.py`), logged;
3. cross-modal consistency: cosine(caption, video) with the embedder (`consistency.py`), logged;
4. for the videos that pass: the video linked into ``media/videos/``, frames and clips cut
   into ``media/frames/<id>/`` and ``media/clips/<id>/`` (`extract.py`), logged.

Scores are logged, decisions are not: thresholds are applied when the pool is read
(`QualityControl.pool`), so changing a threshold and rerunning embeds nothing again and only
extracts what newly passes. Every log is keyed by video id and sharded (`workstore.py`).

The paper gives no consistency threshold. Without ``consistency_threshold`` the threshold is the
``consistency_quantile`` of the scores of every video that passes the motion filter, so scoring
(`score`) finishes on every shard before anything is extracted (`extract`).
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable, Sequence

import torch
from tqdm.auto import tqdm

from ..embedding_cache import item_key
from ..encoders import Encoder
from ..video import GVEInputError
from .config import SynthesisConfig
from .consistency import consistency_scores, score_distribution
from .dynamics import is_static, motion_score
from .extract import cut_clips, extract_frames, link_file, probe
from .plan import PoolVideo
from .rectify import RectificationRules, rectify
from .sources import SourceVideo, load_sources
from .workstore import ShardedLog, fingerprint, shard_of

SCORE_CHUNK = 256  # pairs scored (and logged) at a time


class QualityControl:
    """Stage 1 over one configuration (see the module docstring)."""

    def __init__(self, config: SynthesisConfig):
        self.config = config
        q, n = config.quality, config.data.num_shards
        self.rules = RectificationRules.from_args(q)
        root = config.work_dir / "qc"
        self.motion_dir = root / f"motion-{fingerprint(q.motion_num_frames, q.motion_max_pixels)}"
        self.consistency_dir = (
            root
            / f"consistency-{fingerprint(q.embedder, q.embedder_type, q.embedder_dtype, q.consistency_instruction)}"
            if q.embedder
            else None
        )
        self.assets_dir = root / "assets-{}".format(
            fingerprint(
                str(config.output_dir.resolve()),
                q.frames_per_video,
                q.frame_max_side,
                q.frame_quality,
                q.clips_per_video,
                q.clip_seconds,
                q.clip_codec,
                config.data.link_mode,
            )
        )
        self.motion_log = ShardedLog(self.motion_dir, n)
        self.consistency_log = ShardedLog(self.consistency_dir, n) if self.consistency_dir else None
        self.assets_log = ShardedLog(self.assets_dir, n)
        self._sources: list[SourceVideo] | None = None
        self._rectified: tuple[list[SourceVideo], dict[str, str]] | None = None

    # ------------------------------------------------------------------ inputs

    def sources(self) -> list[SourceVideo]:
        if self._sources is None:
            self._sources = load_sources(self.config.data)
        return self._sources

    def rectified(self) -> tuple[list[SourceVideo], dict[str, str]]:
        if self._rectified is None:
            self._rectified = rectify(self.sources(), self.rules)
        return self._rectified

    def in_shards(self, sources: Iterable[SourceVideo], shards: set[int]) -> list[SourceVideo]:
        return [s for s in sources if shard_of(s.id, self.config.data.num_shards) in shards]

    # ------------------------------------------------------------------ decisions

    def decide(
        self, source: SourceVideo, motion: dict | None, consistency: dict | None, threshold: float | None = None
    ) -> str | None:
        """Why a rectified pair is left out of the pool, or ``None`` if it passes the filters
        (``threshold``: the consistency threshold, `consistency_threshold`)."""
        q = self.config.quality
        if motion is None:
            return "not_measured"
        if "error" in motion:
            return "unreadable"
        if is_static(motion["score"], q.motion_threshold):
            return "static"
        if self.consistency_log is not None:
            if consistency is None or consistency.get("caption_key") != item_key(source.caption):
                return "not_scored"
            if "error" in consistency:
                return "unembeddable"
            if threshold is not None and consistency["score"] < threshold:
                return "inconsistent"
        return None

    def consistency_threshold(self) -> float | None:
        """``consistency_threshold`` if given; else the ``consistency_quantile`` of the scores of every
        rectified video that passes the motion filter (all shards); ``None``: nothing is dropped."""
        q = self.config.quality
        if q.consistency_threshold is not None or q.consistency_quantile is None or self.consistency_dir is None:
            return q.consistency_threshold
        motion, consistency = self.motion_log_snapshot(), ShardedLog(self.consistency_dir, 1).read_all()
        kept, _ = self.rectified()
        scores = [
            consistency[s.id]["score"]
            for s in kept
            if s.id in consistency
            and self.decide(s, motion.get(s.id), consistency[s.id]) is None
            and "score" in consistency[s.id]
        ]
        if not scores:
            return None
        return float(torch.quantile(torch.tensor(scores, dtype=torch.float64), q.consistency_quantile))

    def _live(self, log: ShardedLog | None, source: SourceVideo) -> dict | None:
        return None if log is None else log.for_key(source.id).get(source.id)

    # ------------------------------------------------------------------ run

    def run(self, shards: Sequence[int], embedder: Callable[[], Encoder], *, show_progress: bool = True) -> None:
        """Measure, score and extract the videos of ``shards`` that are not done yet (one process;
        with several, `score` on every process, wait for all, then `extract`)."""
        self.score(shards, embedder, show_progress=show_progress)
        self.extract(shards, show_progress=show_progress)

    def score(self, shards: Sequence[int], embedder: Callable[[], Encoder], *, show_progress: bool = True) -> None:
        """Measure motion and score consistency for the videos of ``shards`` not done yet."""
        q = self.config.quality
        kept, _ = self.rectified()
        mine = self.in_shards(kept, set(shards))

        todo = [s for s in mine if self._live(self.motion_log, s) is None]
        with ThreadPoolExecutor(q.qc_workers) as pool:
            results = pool.map(self._motion_record, todo)
            for source, record in tqdm(
                zip(todo, results), total=len(todo), desc="QC: motion", disable=not show_progress
            ):
                self.motion_log.for_key(source.id).append(record)

        moving = [s for s in mine if self.decide(s, self._live(self.motion_log, s), None) in (None, "not_scored")]
        if self.consistency_log is not None:
            todo = [
                s
                for s in moving
                if self.decide(s, self._live(self.motion_log, s), self._live(self.consistency_log, s)) == "not_scored"
            ]
            if todo:
                model = embedder()
                for start in tqdm(range(0, len(todo), SCORE_CHUNK), desc="QC: consistency", disable=not show_progress):
                    chunk = todo[start : start + SCORE_CHUNK]
                    scores, errors = consistency_scores(
                        model,
                        chunk,
                        instruction=q.consistency_instruction,
                        batch_size=q.embed_batch_size,
                        show_progress_bar=False,
                    )
                    for source in chunk:
                        record = {"key": source.id, "caption_key": item_key(source.caption)}
                        if source.id in scores:
                            record["score"] = scores[source.id]
                        else:
                            record["error"] = errors.get(source.id, "not embedded")
                        self.consistency_log.for_key(source.id).append(record)

    def extract(self, shards: Sequence[int], *, show_progress: bool = True) -> None:
        """Link the videos of ``shards`` that pass every filter and cut their frames and clips
        (nothing with ``qc_report_only``); run after every shard was scored."""
        q = self.config.quality
        if q.qc_report_only:
            return
        threshold = self.consistency_threshold()
        kept, _ = self.rectified()
        passing = [
            s
            for s in self.in_shards(kept, set(shards))
            if self.decide(s, self._live(self.motion_log, s), self._live(self.consistency_log, s), threshold) is None
            and self._live(self.assets_log, s) is None
        ]
        with ThreadPoolExecutor(q.qc_workers) as pool:
            results = pool.map(self._assets_record, passing)
            for source, record in tqdm(
                zip(passing, results), total=len(passing), desc="QC: frames+clips", disable=not show_progress
            ):
                self.assets_log.for_key(source.id).append(record)

    def _motion_record(self, source: SourceVideo) -> dict:
        q = self.config.quality
        try:
            measured = motion_score(source.video, num_frames=q.motion_num_frames, max_pixels=q.motion_max_pixels)
        except GVEInputError as err:
            return {"key": source.id, "error": str(err)}
        return {"key": source.id, "score": measured.score, "num_frames": measured.num_frames}

    def _assets_record(self, source: SourceVideo) -> dict:
        q, root = self.config.quality, self.config.output_dir
        try:
            info = probe(source.video)
            video = Path("media/videos") / f"{source.id}{Path(source.video).suffix.lower() or '.mp4'}"
            link_file(source.video, root / video, self.config.data.link_mode)
            frames = extract_frames(
                source.video,
                root / "media/frames" / source.id,
                q.frames_per_video,
                max_side=q.frame_max_side,
                quality=q.frame_quality,
            )
            clips = cut_clips(
                source.video,
                root / "media/clips" / source.id,
                q.clips_per_video,
                seconds=q.clip_seconds,
                codec=q.clip_codec,
                duration=info.duration,
            )
        except (GVEInputError, OSError) as err:
            return {"key": source.id, "error": str(err)}
        return {
            "key": source.id,
            "video": video.as_posix(),
            "frames": [p.relative_to(root).as_posix() for p in frames],
            "clips": [p.relative_to(root).as_posix() for p in clips],
            "duration": info.duration,
        }

    # ------------------------------------------------------------------ results

    def pool(self, shards: Iterable[int] | None = None) -> list[PoolVideo]:
        """The asset pool (of ``shards``, default all), sorted by id, read fresh from the logs."""
        motion = self.motion_log_snapshot(shards)
        consistency = ShardedLog(self.consistency_dir, 1).read_all(shards) if self.consistency_dir else {}
        assets = ShardedLog(self.assets_dir, 1).read_all(shards)
        kept, _ = self.rectified()
        wanted = set(shards) if shards is not None else None
        threshold = self.consistency_threshold()
        out = []
        for source in kept:
            if wanted is not None and shard_of(source.id, self.config.data.num_shards) not in wanted:
                continue
            if self.decide(source, motion.get(source.id), consistency.get(source.id), threshold) is not None:
                continue
            record = assets.get(source.id)
            if record is None or "error" in record:
                continue
            out.append(
                PoolVideo(
                    id=source.id,
                    source=source.video,
                    video=record["video"],
                    caption=source.caption,
                    frames=record["frames"],
                    clips=record["clips"],
                    duration=record["duration"],
                    motion=motion[source.id]["score"],
                    consistency=consistency[source.id]["score"] if source.id in consistency else None,
                )
            )
        return sorted(out, key=lambda v: v.id)

    def motion_log_snapshot(self, shards: Iterable[int] | None = None) -> dict[str, dict]:
        return ShardedLog(self.motion_dir, 1).read_all(shards)

    def rectification_rules(self) -> dict:
        """The caption rules in force, as the report states them."""
        q = self.config.quality
        return {
            "min_words": q.min_words,
            "max_words": q.max_words,
            "min_alpha_ratio": q.min_alpha_ratio,
            "max_word_repeat_ratio": q.max_word_repeat_ratio,
            "max_videos_per_caption": q.max_videos_per_caption,
            "strip_patterns": self.rules.strip_patterns,
            "drop_patterns": self.rules.drop_patterns,
        }

    def stats(self) -> dict:
        """Counts and score distributions of every filter, over all shards (for reports and the card)."""
        q = self.config.quality
        sources = self.sources()
        kept, dropped = self.rectified()
        motion = self.motion_log_snapshot()
        consistency = ShardedLog(self.consistency_dir, 1).read_all() if self.consistency_dir else {}
        assets = ShardedLog(self.assets_dir, 1).read_all()
        outcome: Counter = Counter()
        motion_scores, consistency_scores_ = [], []
        frames = clips = 0
        threshold = self.consistency_threshold()
        for source in kept:
            m, c = motion.get(source.id), consistency.get(source.id)
            if m and "score" in m:
                motion_scores.append(m["score"])
            reason = self.decide(source, m, c, threshold)
            if c and "score" in c and reason not in ("not_measured", "unreadable", "static", "not_scored"):
                consistency_scores_.append(c["score"])
            if reason is None:
                record = assets.get(source.id)
                if record is None:
                    reason = "not_extracted"
                elif "error" in record:
                    reason = "extraction_failed"
                else:
                    frames += len(record["frames"])
                    clips += len(record["clips"])
            outcome[reason or "kept"] += 1
        return {
            "input_videos": len(sources),
            "rectification": {
                "dropped": dict(sorted(Counter(dropped.values()).items())),
                "kept": len(kept),
                "rules": self.rectification_rules(),
            },
            "motion": {
                "threshold": q.motion_threshold,
                "num_frames": q.motion_num_frames,
                "distribution": score_distribution(motion_scores, threshold=q.motion_threshold),
            },
            "consistency": {
                "enabled": self.consistency_dir is not None,
                "embedder": q.embedder,
                "embedder_type": q.embedder_type,
                "threshold": threshold,
                "threshold_from": "consistency_threshold" if q.consistency_threshold is not None
                else f"quantile {q.consistency_quantile:g} of the scores" if threshold is not None else None,
                "instruction": q.consistency_instruction,
                "distribution": score_distribution(consistency_scores_, threshold=threshold),
            },
            "outcome": dict(sorted(outcome.items())),
            "pool": {"videos": outcome["kept"], "frames": frames, "clips": clips},
        }


__all__ = ["QualityControl"]
