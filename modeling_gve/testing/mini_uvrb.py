# Copyright 2026 The GVE package authors. Apache-2.0.
"""A miniature UVRB in the authors' layout, for tests, docs and benchmarks.

All 16 task folders with a few items each: real encoded videos (ffmpeg), frame folders
extracted from real videos, query images taken from video frames and query clips cut from
the long videos, the per-query candidate lists of MS-TI/MS-TV, repeated qids and
multi-positive queries. Tasks that share videos in UVRB (CRB-G/S/T, VDC-O/D, MSRVTT and
MSRVTT-I2V, LoVR-V and LoVR-C2V) get byte-identical copies, as separate Hub folders would.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from ..uvrb.tasks import TASKS
from .media import make_video

# Tasks stored as frame folders (videos_frames/<stem>/*.jpg); the others as raw videos.
FRAME_TASKS = ("DiDeMo", "VDC-O", "VDC-D", "LoVR-TH")
# Tasks whose videos sit directly in the task folder; the others under videos/.
FLAT_TASKS = ("CMRB", "PEV-K")


def _write_jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, capture_output=True, timeout=300)


class _VideoPool:
    """Distinct small videos (content differs, so content keys differ)."""

    PATTERNS = ("testsrc2", "smptebars", "rgbtestsrc", "testsrc", "yuvtestsrc", "pal75bars", "smptehdbars")

    def __init__(self, folder: Path, size: tuple[int, int], fps: int):
        self.folder, self.size, self.fps, self.count = folder, size, fps, 0

    def new(self, seconds: float = 1.0, pattern: str | None = None) -> Path:
        i = self.count
        self.count += 1
        pattern = pattern or self.PATTERNS[i % len(self.PATTERNS)]
        seconds = seconds + 0.25 * (i // len(self.PATTERNS))  # same pattern, different length: different bytes
        return make_video(
            self.folder / f"pool_{i:03d}.mp4", seconds=seconds, fps=self.fps, size=self.size, pattern=pattern
        )


def make_mini_uvrb(
    root: str | Path,
    *,
    per_task: int = 3,
    size: tuple[int, int] = (64, 48),
    fps: int = 8,
    frames_fps: float = 4.0,
) -> Path:
    """Write a mini-UVRB under ``root`` (created) and return ``root``.

    Args:
        per_task: corpus videos per corpus group (MS-TI/MS-TV get ``per_task + 1`` clips).
        size, fps: of the generated videos (``(width, height)``).
        frames_fps: rate at which frame folders are extracted.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    pool = _VideoPool(root / ".pool", size, fps)
    groups = {task.corpus_group for task in TASKS.values()}
    long_groups = {"LoVR"}
    group_videos = {
        g: [pool.new(seconds=2.0 if g in long_groups else 1.0) for _ in range(per_task)] for g in sorted(groups)
    }
    for k, group in enumerate(("MS-TI", "MS-TV")):  # moving, and of its own length: no tie with another candidate
        group_videos[group].append(pool.new(seconds=1.0 + 0.5 * k, pattern="mandelbrot"))

    for name, task in TASKS.items():
        folder = root / task.hub_folder
        videos = group_videos[task.corpus_group]
        corpus = []
        for i, source in enumerate(videos):
            file_name = f"{task.corpus_group.lower()}_{i:02d}.mp4"
            _place_video(
                source, folder, file_name, frames=name in FRAME_TASKS, flat=name in FLAT_TASKS, fps=frames_fps
            )
            corpus.append({"id": f"v{i}", "video": file_name})
        queries, instances = _queries(name, folder, videos, corpus, pool)
        _write_jsonl(folder / "jsonl" / "corpus.jsonl", corpus)
        _write_jsonl(folder / "jsonl" / "queries.jsonl", queries)
        _write_jsonl(folder / "jsonl" / "instances.jsonl", instances)
    shutil.rmtree(root / ".pool")
    return root


def _place_video(source: Path, folder: Path, file_name: str, *, frames: bool, flat: bool, fps: float) -> None:
    if frames:
        target = folder / "videos_frames" / Path(file_name).stem
        target.mkdir(parents=True, exist_ok=True)
        _ffmpeg("-i", str(source), "-vf", f"fps={fps}", "-q:v", "3", str(target / "frame_%04d.jpg"))
    else:
        target = folder / file_name if flat else folder / "videos" / file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def _queries(name: str, folder: Path, videos: list[Path], corpus: list[dict], pool: _VideoPool) -> tuple[list, list]:
    """Queries and relevance for one task, shaped like the real task."""
    ids = [c["id"] for c in corpus]
    queries, instances = [], []
    if name == "MSRVTT-I2V":  # one frame of each video as the image query
        for i, source in enumerate(videos):
            image = folder / "images" / f"frame_{i:02d}.jpg"
            image.parent.mkdir(parents=True, exist_ok=True)
            _ffmpeg("-ss", "0.5", "-i", str(source), "-frames:v", "1", str(image))
            queries.append({"id": i, "image": image.name})  # integer ids: compared as strings
            instances.append({"qid": i, "pos": [ids[i]]})
    elif name == "LoVR-C2V":  # a short clip cut from each long video
        for i, source in enumerate(videos):
            clip = folder / "videos" / f"clip_{i:02d}.mp4"
            _ffmpeg("-ss", "0.5", "-t", "1", "-i", str(source), "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip))
            queries.append({"id": f"c{i}", "video": clip.name})
            instances.append({"qid": f"c{i}", "pos": ids[i]})  # a single id, not a list: accepted
    elif name in ("MS-TI", "MS-TV"):  # composed queries over their own candidate lists
        for i in range(2):
            query: dict = {"id": f"m{i}", "text": f"the same scene but {['brighter', 'slower'][i]}"}
            if name == "MS-TI":
                image = folder / "images" / f"ref_{i}.png"
                image.parent.mkdir(parents=True, exist_ok=True)
                _ffmpeg("-i", str(videos[i]), "-frames:v", "1", str(image))
                query["image"] = image.name
            else:
                clip = pool.new()
                shutil.copyfile(clip, folder / "videos" / f"ref_{i}.mp4")
                query["video"] = f"ref_{i}.mp4"
            queries.append(query)
            negatives = [c for j, c in enumerate(ids) if j not in (i, i + 1)]
            instances.append({"qid": f"m{i}", "pos": [ids[i], ids[i + 1]], "neg": negatives})
    else:  # text queries
        for i in range(len(ids)):
            queries.append({"id": f"q{i}", "text": f"{name} query {i}: a {['red', 'moving', 'striped'][i % 3]} scene"})
            instances.append({"qid": f"q{i}", "pos": [ids[i]]})
        if name in ("DREAM-E", "LoVR-TH"):  # several queries per video, a repeated qid, two positives
            queries.append({"id": "q-extra", "text": f"{name}: an event seen in two clips"})
            instances += [{"qid": "q-extra", "pos": [ids[0]]}, {"qid": "q-extra", "pos": [ids[1]]}]
        if name == "VDC-D":  # corpus larger than the query set, as in the real task
            queries.pop()
            instances.pop()
    return queries, instances


__all__ = ["FRAME_TASKS", "make_mini_uvrb"]
