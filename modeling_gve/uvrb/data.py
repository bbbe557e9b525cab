# Copyright 2026 The GVE package authors. Apache-2.0.
"""Reading UVRB tasks in the authors' layout, from a local folder or the Hub repo.

Layout (one folder per task, ``UVRBTask.hub_folder``)::

    <TASK>/jsonl/queries.jsonl     {"id", "text"?, "image"?, "video"?}   one query per line
    <TASK>/jsonl/corpus.jsonl      {"id", "video"}                        one candidate per line
    <TASK>/jsonl/instances.jsonl   {"qid", "pos": [corpus ids]}           a qid may repeat
    <TASK>/<video> | <TASK>/videos/<video>                                raw video files
    <TASK>/videos_frames/<video name without extension>/*.jpg             or extracted frames
    <TASK>/<image> | <TASK>/images/<image>                                query images

``image`` and ``video`` values are paths relative to the task folder (absolute paths are
used as they are). A video is read from its file when the file exists, else from its frame
folder. Frame folders carry no frame rate; they are read as ``frames_fps`` frames per
second (default 1.0, the rate of the authors' indexing code), which only sets the temporal
positions of the sampled frames, not which frames are sampled.

A frame folder is read like a video file (`VideoFrames.from_folder`); how that differs from
the reference, and what it means for comparable scores: docs/uvrb.md.

For the per-query ranked tasks (MS-TI, MS-TV) an instance also lists the query's candidates, as ``candidates``
(all of them) or ``neg`` (the non-relevant ones, ranked together with ``pos``).

Ids are compared as strings. Every problem is a `UVRBDataError` naming the file and line.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..video import FRAME_EXTENSIONS, VideoFrames
from .tasks import HUB_REPO, UVRBTask

DEFAULT_FRAMES_FPS = 1.0
MediaSelection = Literal["all", "videos", "frames", "none"]


class UVRBDataError(ValueError):
    """A malformed or missing UVRB file; ``file`` and ``line`` (1-based, 0 for the whole file) say where."""

    def __init__(self, file: str | os.PathLike, line: int, reason: str):
        self.file, self.line, self.reason = str(file), line, reason
        super().__init__(f"{file}{f':{line}' if line else ''}: {reason}")


@dataclass(frozen=True)
class VideoSource:
    """A video as stored: a file, or a folder of extracted frames."""

    path: Path
    is_frames: bool

    def as_input(self, frames_fps: float = DEFAULT_FRAMES_FPS) -> str | VideoFrames:
        """What `GVEModel.encode` takes for this video."""
        return VideoFrames.from_folder(self.path, fps=frames_fps) if self.is_frames else str(self.path)


@dataclass(frozen=True)
class Query:
    id: str
    text: str | None = None
    image: Path | None = None
    video: VideoSource | None = None

    def as_input(self, frames_fps: float = DEFAULT_FRAMES_FPS) -> dict[str, Any]:
        """A composed input dict for `GVEModel.encode` (``text``, ``image``, ``video`` keys)."""
        item: dict[str, Any] = {}
        if self.text is not None:
            item["text"] = self.text
        if self.image is not None:
            item["image"] = str(self.image)
        if self.video is not None:
            item["video"] = self.video.as_input(frames_fps)
        return item


@dataclass
class TaskData:
    """One task's queries, corpus and relevance, validated.

    Attributes:
        queries: in file order. corpus: ``{corpus id: VideoSource}`` in file order.
        relevant: ``{query id: set of relevant corpus ids}`` (every query has at least one).
        candidates: for ``per-query`` tasks, ``{query id: candidate corpus ids}``; else ``None``.
        fingerprint: sha256 of the three JSONL files: identifies exactly what was scored.
    """

    task: UVRBTask
    root: Path
    queries: list[Query]
    corpus: dict[str, VideoSource]
    relevant: dict[str, set[str]]
    candidates: dict[str, list[str]] | None = None
    fingerprint: str = ""
    source: dict = field(default_factory=dict)


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """``(line number, record)`` for each non-blank line; bad JSON or a non-object line is a
    `UVRBDataError` naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise UVRBDataError(path, 0, "file not found")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise UVRBDataError(path, number, f"invalid JSON ({err.msg} at column {err.colno})") from None
            if not isinstance(record, dict):
                raise UVRBDataError(path, number, f"expected a JSON object, got {type(record).__name__}")
            yield number, record


def _require(record: dict, key: str, path: Path, line: int) -> Any:
    if record.get(key) is None:
        raise UVRBDataError(path, line, f"missing required field {key!r} (fields: {', '.join(sorted(record))})")
    return record[key]


def _id(value: Any, what: str, path: Path, line: int) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise UVRBDataError(path, line, f"{what} must be a string or an integer, got {value!r}")
    return str(value)


def find_video(root: Path, name: str) -> VideoSource | None:
    """The file ``name`` (directly or under ``videos/``), else its frame folder, else ``None``."""
    given = Path(name)
    candidates = [given] if given.is_absolute() else [root / given, root / "videos" / given]
    for path in candidates:
        if path.is_file():
            return VideoSource(path, is_frames=False)
    frame_dirs = [p for p in candidates if p.is_dir()]
    if not given.is_absolute():
        frame_dirs += [
            root / "videos_frames" / given.with_suffix("").name,
            root / "videos_frames" / given.with_suffix(""),
        ]
    for folder in frame_dirs:
        if folder.is_dir():
            return VideoSource(folder, is_frames=True)
    return None


def find_image(root: Path, name: str) -> Path | None:
    given = Path(name)
    for path in [given] if given.is_absolute() else [root / given, root / "images" / given]:
        if path.is_file():
            return path
    return None


def _file_name(value: Any, key: str, path: Path, line: int) -> str:
    if not isinstance(value, str) or not value:
        raise UVRBDataError(path, line, f"{key!r} must be a relative file name, got {value!r}")
    return value


def _video(root: Path, name: Any, path: Path, line: int) -> VideoSource:
    source = find_video(root, _file_name(name, "video", path, line))
    if source is None:
        stem = Path(name).with_suffix("").name
        raise UVRBDataError(
            path,
            line,
            f"video {name!r} not found: looked for {root / name}, {root / 'videos' / name} and the frame folder "
            f"{root / 'videos_frames' / stem}/",
        )
    if source.is_frames and not any(p.suffix.lower() in FRAME_EXTENSIONS for p in source.path.iterdir()):
        raise UVRBDataError(
            path, line, f"frame folder {source.path} holds no frames ({', '.join(sorted(FRAME_EXTENSIONS))})"
        )
    return source


def _image(root: Path, name: Any, path: Path, line: int) -> Path:
    found = find_image(root, _file_name(name, "image", path, line))
    if found is None:
        raise UVRBDataError(
            path, line, f"image {name!r} not found: looked for {root / name} and {root / 'images' / name}"
        )
    return found


def _id_list(value: Any, what: str, path: Path, line: int) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [_id(v, what, path, line) for v in values]


def load_task(task: UVRBTask, root: str | os.PathLike) -> TaskData:
    """Read and validate one task from its folder (``<data>/<task.hub_folder>``).

    Raises:
        UVRBDataError: a missing file, bad JSON, a missing field, a query whose modality does
            not match the task, a missing video/image, an unknown or duplicate id, a query
            without relevant ids; always naming the file and line.
    """
    root = Path(root)
    jsonl = root / "jsonl"
    if not root.is_dir():
        raise UVRBDataError(root, 0, f"task folder for {task.name} not found")
    files = {name: jsonl / f"{name}.jsonl" for name in ("queries", "corpus", "instances")}

    corpus: dict[str, VideoSource] = {}
    corpus_lines: dict[str, int] = {}
    path = files["corpus"]
    for line, record in read_jsonl(path):
        cid = _id(_require(record, "id", path, line), "'id'", path, line)
        if cid in corpus:
            raise UVRBDataError(path, line, f"duplicate corpus id {cid!r} (first on line {corpus_lines[cid]})")
        corpus[cid] = _video(root, _require(record, "video", path, line), path, line)
        corpus_lines[cid] = line
    if not corpus:
        raise UVRBDataError(path, 0, "corpus is empty")

    needs = set(task.query_modality.split("+"))
    queries: list[Query] = []
    query_lines: dict[str, int] = {}
    path = files["queries"]
    for line, record in read_jsonl(path):
        qid = _id(_require(record, "id", path, line), "'id'", path, line)
        if qid in query_lines:
            raise UVRBDataError(path, line, f"duplicate query id {qid!r} (first on line {query_lines[qid]})")
        present = {key for key in ("text", "image", "video") if record.get(key) is not None}
        if present != needs:
            raise UVRBDataError(
                path,
                line,
                f"{task.name} queries are {task.query_modality}; this one has {'+'.join(sorted(present)) or 'nothing'}",
            )
        text = record.get("text")
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise UVRBDataError(path, line, f"'text' must be a non-empty string, got {text!r}")
        queries.append(
            Query(
                id=qid,
                text=text,
                image=_image(root, record["image"], path, line) if "image" in needs else None,
                video=_video(root, record["video"], path, line) if "video" in needs else None,
            )
        )
        query_lines[qid] = line
    if not queries:
        raise UVRBDataError(path, 0, "no queries")

    relevant: dict[str, set[str]] = {}
    candidates: dict[str, list[str]] | None = {} if task.ranking == "per-query" else None
    path = files["instances"]
    for line, record in read_jsonl(path):
        qid = _id(_require(record, "qid", path, line), "'qid'", path, line)
        if qid not in query_lines:
            raise UVRBDataError(path, line, f"qid {qid!r} is not in {files['queries'].name}")
        positives = _id_list(_require(record, "pos", path, line), "'pos' ids", path, line)
        if not positives:
            raise UVRBDataError(path, line, f"qid {qid!r} has an empty 'pos' list")
        for cid in positives:
            if cid not in corpus:
                raise UVRBDataError(path, line, f"positive {cid!r} of qid {qid!r} is not in {files['corpus'].name}")
        relevant.setdefault(qid, set()).update(positives)
        if candidates is not None:
            if record.get("candidates") is not None:
                listed = _id_list(record["candidates"], "'candidates' ids", path, line)
            elif record.get("neg") is not None:
                listed = positives + _id_list(record["neg"], "'neg' ids", path, line)
            else:
                raise UVRBDataError(
                    path, line, f"{task.name} ranks each query's own candidates: give 'candidates' or 'neg' ids"
                )
            for cid in listed:
                if cid not in corpus:
                    raise UVRBDataError(
                        path, line, f"candidate {cid!r} of qid {qid!r} is not in {files['corpus'].name}"
                    )
            merged = candidates.setdefault(qid, [])
            merged.extend(c for c in dict.fromkeys(listed) if c not in merged)
    for query in queries:
        if query.id not in relevant:
            raise UVRBDataError(
                files["queries"],
                query_lines[query.id],
                f"query {query.id!r} has no relevant ids in {files['instances'].name}",
            )
        if candidates is not None and not relevant[query.id] & set(candidates[query.id]):
            raise UVRBDataError(files["instances"], 0, f"no positive of query {query.id!r} is among its candidates")

    digest = hashlib.sha256()
    for name in ("queries", "corpus", "instances"):
        digest.update(files[name].read_bytes())
    return TaskData(
        task=task,
        root=root,
        queries=queries,
        corpus=corpus,
        relevant=relevant,
        candidates=candidates,
        fingerprint=digest.hexdigest(),
    )


def hub_patterns(task: UVRBTask, media: MediaSelection = "all") -> tuple[list[str], list[str]]:
    """``(allow_patterns, ignore_patterns)`` fetching one task's files from the Hub repo.

    ``media``: ``"all"`` (the whole task folder), ``"videos"`` (without ``videos_frames/``),
    ``"frames"`` (frame folders and images, no raw videos) or ``"none"`` (the JSONL files only).
    """
    folder = task.hub_folder
    jsonl = f"{folder}/jsonl/*"
    if media == "all":
        return [f"{folder}/*"], []
    if media == "videos":
        return [f"{folder}/*"], [f"{folder}/videos_frames/*"]
    if media == "frames":
        return [jsonl, f"{folder}/videos_frames/*", f"{folder}/images/*"], []
    if media == "none":
        return [jsonl], []
    raise ValueError(f"media must be one of 'all', 'videos', 'frames', 'none'; got {media!r}")


def resolve_data(
    tasks: list[UVRBTask],
    data: str | os.PathLike = HUB_REPO,
    *,
    revision: str | None = None,
    media: MediaSelection = "all",
    cache_dir: str | os.PathLike | None = None,
) -> tuple[Path, dict]:
    """The local root holding ``tasks``' folders, and a record of where it came from.

    ``data`` is a local folder in the authors' layout, or a Hub dataset repo id (default
    ``Alibaba-NLP/UVRB``), fetched with `huggingface_hub.snapshot_download` restricted to
    the given tasks' files (see `hub_patterns`) and pinned by ``revision``.

    Returns:
        ``(root, source)`` where ``source`` is ``{"data": ..., "revision": <commit or None>}``.
    """
    local = Path(data).expanduser()
    if local.is_dir():
        return local, {"data": str(local.resolve()), "revision": None}
    if not re.fullmatch(r"[A-Za-z0-9][\w.-]*/[\w.-]+", str(data)):
        raise FileNotFoundError(f"data {str(data)!r}: no such folder, and not a Hub repo id like {HUB_REPO!r}")
    from huggingface_hub import snapshot_download

    allow, ignore = [], []
    for task in tasks:
        a, i = hub_patterns(task, media)
        allow += a
        ignore += i
    snapshot = Path(
        snapshot_download(
            str(data),
            repo_type="dataset",
            revision=revision,
            allow_patterns=allow,
            ignore_patterns=ignore or None,
            cache_dir=cache_dir,
        )
    )
    # Hub snapshots live in .../snapshots/<commit>/: record the commit actually scored.
    return snapshot, {"data": str(data), "revision": snapshot.name}


__all__ = [
    "DEFAULT_FRAMES_FPS",
    "Query",
    "TaskData",
    "UVRBDataError",
    "VideoSource",
    "find_image",
    "find_video",
    "hub_patterns",
    "load_task",
    "read_jsonl",
    "resolve_data",
]
