# Copyright 2026 The GVE package authors. Apache-2.0.
"""Stage 2, multi-dimensional enrichment (paper §3.2, §A.6): the MLLM captioner writes five
captions per video and per chosen frame, and composed text+image / text+video queries.

Each request's answer is parsed and validated (`PromptLibrary.parse`: JSON schema + word
ranges). An invalid answer is asked again, up to ``captioner_generation_attempts`` generations, then
recorded as ``failed`` with every reason. Outcomes are logged per request key:

- ``ok``: the validated output, the attempts it took and the conditions drawn;
- ``failed``: permanently invalid (or unreadable media); not asked again;
- ``error``: the server could not be reached or kept timing out after all retries; asked
  again by the next run.

A rerun asks only for keys without an ``ok``/``failed`` record.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Iterable, Iterator, Sequence

from tqdm.auto import tqdm

from .captioners import Captioner, Job, settings_of
from .config import SynthesisConfig
from .plan import PoolVideo, enrichment_kinds, plan_video, request_key
from .prompts import CaptionRequest, InvalidOutput, PromptLibrary
from .workstore import ShardedLog, fingerprint

FINAL = ("ok", "failed")
RAW_KEEP = 2000  # characters of a failed answer kept in its record


class Enrichment:
    """Stage 2 over one configuration."""

    def __init__(self, config: SynthesisConfig, assets_fingerprint: str = ""):
        self.config = config
        c = config.captioner
        self.library = PromptLibrary(c.prompts_dir, word_range_tolerance=c.word_range_tolerance)
        self.kinds = enrichment_kinds(c, config.tasks)
        settings = settings_of(c)
        self.folder = config.work_dir / "enrich-{}".format(
            fingerprint(settings, self.library.digest(), config.data.seed, assets_fingerprint)
        )
        self.log = ShardedLog(self.folder, config.data.num_shards)

    def specs(self, video: PoolVideo) -> list[tuple[str, str, dict[str, str], str]]:
        """``(kind, key, media, raw caption)`` of every request of one pool video (cheap: no prompt
        rendered); deterministic, so every process and rerun plans the same requests."""
        c, root, seed = self.config.captioner, self.config.output_dir.resolve(), self.config.data.seed
        plan = plan_video(video, c, self.config.tasks, seed)
        path = lambda rel: str(root / rel)  # noqa: E731
        out = []
        if "video_captions" in self.kinds:
            out.append(
                (
                    "video_captions",
                    request_key("video_captions", video.id),
                    {"video_input": path(video.video)},
                    video.caption,
                )
            )
        if "frame_captions" in self.kinds:
            for k in plan.caption_frames:
                media = {"image_input": path(video.frames[k])}
                out.append(("frame_captions", request_key("frame_captions", video.id, k), media, ""))
        if "ti_query" in self.kinds:
            for k in plan.ti_frames:
                media = {"image_input": path(video.frames[k]), "video_input": path(video.video)}
                out.append(("ti_query", request_key("ti_query", video.id, k), media, ""))
        if "tv_query" in self.kinds:
            for k in plan.tv_clips:
                media = {"reference_clip_input": path(video.clips[k]), "target_video_input": path(video.video)}
                out.append(("tv_query", request_key("tv_query", video.id, k), media, ""))
        return out

    def requests(self, video: PoolVideo) -> list[CaptionRequest]:
        """Every request of one pool video, rendered (same keys, prompts and conditions on every run)."""
        seed = self.config.data.seed
        return [
            self.library.request(kind, key, media, raw_caption=raw, seed=seed)
            for kind, key, media, raw in self.specs(video)
        ]

    def _is_pending(self, video_id: str, key: str) -> bool:
        record = self.log.for_key(video_id).get(key)
        return record is None or record["status"] not in FINAL

    def pending(self, pool: Sequence[PoolVideo]) -> Iterator[CaptionRequest]:
        """Requests without an ``ok``/``failed`` record, rendered lazily (memory stays flat)."""
        seed = self.config.data.seed
        for video in pool:
            for kind, key, media, raw in self.specs(video):
                if self._is_pending(video.id, key):
                    yield self.library.request(kind, key, media, raw_caption=raw, seed=seed)

    def run(
        self,
        pool: Sequence[PoolVideo],
        captioner: Captioner | None = None,
        *,
        captioner_factory=None,
        show_progress: bool = True,
    ) -> Counter:
        """Ask for every pending request of ``pool`` (the videos of this process's shards).

        Returns:
            counts of the outcomes recorded in this run (``ok``, ``failed``, ``error``).
        """
        total = sum(self._is_pending(v.id, key) for v in pool for _, key, _, _ in self.specs(v))
        counts: Counter = Counter()
        if not total:
            return counts
        captioner = captioner or captioner_factory()
        history: dict[str, list[str]] = defaultdict(list)
        max_attempts = self.config.captioner.captioner_generation_attempts
        progress = tqdm(total=total, desc=f"Enrich ({captioner.name})", unit="req", disable=not show_progress)
        jobs: Iterable[Job] = (Job(request) for request in self.pending(pool))
        while jobs:  # first the (lazy) pending requests, then rounds of regenerations of invalid answers
            retry: list[Job] = []
            for done in captioner.complete(jobs):
                request, attempt = done.job.request, done.job.attempt
                video_id = request.key.split("/")[1]  # keys are <kind>/<video id>[/<index>]
                log = self.log.for_key(video_id)
                base = {
                    "key": request.key,
                    "kind": request.kind,
                    "video_id": video_id,
                    "conditions": request.conditions,
                    "attempts": attempt,
                }
                if done.error_kind == "transient":
                    log.append(base | {"status": "error", "error": done.error})
                    counts["error"] += 1
                    progress.update(1)
                    continue
                try:
                    if done.error is not None:
                        raise InvalidOutput(done.error)
                    output = self.library.parse(request.kind, done.text)
                except InvalidOutput as err:
                    history[request.key].append(f"attempt {attempt}: {err}")
                    if done.error_kind != "input" and attempt < max_attempts:
                        retry.append(Job(request, attempt + 1))
                        continue
                    log.append(
                        base
                        | {"status": "failed", "errors": history.pop(request.key), "raw": (done.text or "")[:RAW_KEEP]}
                    )
                    counts["failed"] += 1
                    progress.update(1)
                    continue
                log.append(base | {"status": "ok", "output": output})
                history.pop(request.key, None)
                counts["ok"] += 1
                progress.update(1)
            jobs = retry
        progress.close()
        return counts

    def results(self, shards: Iterable[int] | None = None) -> dict[str, dict]:
        """All records (of ``shards``), read fresh from disk: ``{request key: record}``."""
        return ShardedLog(self.folder, 1).read_all(shards)

    def stats(self) -> dict:
        records = self.results()
        by_kind: dict[str, Counter] = defaultdict(Counter)
        attempts: dict[str, Counter] = defaultdict(Counter)
        words: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        failures: Counter = Counter()
        for record in records.values():
            kind = record["kind"]
            by_kind[kind][record["status"]] += 1
            if record["status"] == "ok":
                attempts[kind][str(record["attempts"])] += 1
                for name, text in record["output"].items():
                    words[kind][name].append(len(text.split()))
            elif record["status"] == "failed":
                failures[_reason_class(record["errors"][-1] if record["errors"] else "")] += 1
        c = self.config.captioner
        return {
            "captioner": {
                "backend": c.captioner_backend,
                "model": c.captioner_model,
                "max_attempts": c.captioner_generation_attempts,
                "temperature": c.captioner_temperature,
                "video_input": c.captioner_video_input,
                "prompts": self.library.digest(),
            },
            "requests": {k: dict(sorted(v.items())) for k, v in sorted(by_kind.items())},
            "attempts_of_ok": {k: dict(sorted(v.items())) for k, v in sorted(attempts.items())},
            "failure_reasons": dict(failures.most_common()),
            "mean_words": {
                k: {n: round(sum(v) / len(v), 1) for n, v in sorted(d.items())} for k, d in sorted(words.items())
            },
        }


def _reason_class(error: str) -> str:
    text = error.split(": ", 1)[-1]
    if "not a JSON object" in text or "empty answer" in text:
        return "not JSON"
    if "words, expected" in text:
        return "word count out of range"
    if text.startswith("media"):
        return "unreadable media"
    if text.startswith("HTTP") or "chat completion" in text:
        return "request refused"
    return "schema violation"


__all__ = ["Enrichment"]
