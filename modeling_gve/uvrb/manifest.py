# Copyright 2026 The GVE package authors. Apache-2.0.
"""What was scored, per task: the sha256 of the three JSONL files and a media manifest (count,
total bytes, a digest of names and sizes), recorded in ``results.json``; and `verify`, which
checks a local copy against such a record without encoding anything (``gve uvrb --verify``).

Media names are relative to the task folder (a LoVR video read from ``--lovr-videos`` as
``lovr_videos/<name>``), so a flat copy, a nested one and an extracted archive of the same data
have the same manifest.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..video import FRAME_EXTENSIONS
from .config import UVRBRunConfig
from .data import UVRBTaskData, VideoSource, load_tasks
from .tasks import resolve_tasks


def _media_files(data: UVRBTaskData, lovr_videos: Path | None) -> dict[str, int]:
    """``{name: size}`` of every media file the task reads."""
    files: dict[str, int] = {}

    def add(path: Path) -> None:
        if lovr_videos is not None and path.is_relative_to(lovr_videos):
            name = "lovr_videos/" + path.relative_to(lovr_videos).as_posix()
        else:
            name = os.path.relpath(path, data.root).replace(os.sep, "/")
        files[name] = path.stat().st_size

    def add_video(source: VideoSource) -> None:
        if not source.is_frames:
            return add(source.path)
        for frame in source.path.iterdir():
            if frame.suffix.lower() in FRAME_EXTENSIONS:
                add(frame)

    for source in data.corpus.values():
        add_video(source)
    for query in data.queries:
        if query.image is not None:
            add(query.image)
        if query.video is not None:
            add_video(query.video)
    return files


def task_manifest(data: UVRBTaskData, lovr_videos: str | os.PathLike | None = None) -> dict[str, Any]:
    """``{"jsonl_sha256": {file: sha256}, "media": {"count", "bytes", "digest"}, "fingerprint"}``."""
    files = _media_files(data, Path(lovr_videos).resolve() if lovr_videos is not None else None)
    listing = "".join(f"{name}\t{size}\n" for name, size in sorted(files.items()))
    return {
        "fingerprint": data.fingerprint,
        "jsonl_sha256": dict(data.jsonl_sha256),
        "media": {
            "count": len(files),
            "bytes": sum(files.values()),
            "digest": hashlib.sha256(listing.encode()).hexdigest(),
        },
    }


def read_manifests(path: str | os.PathLike) -> tuple[dict[str, dict], dict]:
    """``({task: manifest}, settings)`` from a ``results.json`` (its ``data.tasks``, and the
    ``config`` it ran with) or from a JSON file ``{"tasks": {task: manifest}}``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"manifest {str(path)!r} not found (give a results.json of gve uvrb)")
    record = json.loads(path.read_text())
    tasks = record.get("data", record).get("tasks")
    if not isinstance(tasks, dict) or not all(isinstance(m, dict) and "jsonl_sha256" in m for m in tasks.values()):
        raise ValueError(f"{path}: no per-task manifest (data.tasks.<TASK>.jsonl_sha256); was it written by gve uvrb?")
    return tasks, record.get("config", {})


def compare(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """What differs between two task manifests, in words (empty: the same data)."""
    problems = []
    for name, digest in expected["jsonl_sha256"].items():
        if found["jsonl_sha256"].get(name) != digest:
            problems.append(f"{name} differs (sha256 {found['jsonl_sha256'].get(name)} instead of {digest})")
    want, got = expected["media"], found["media"]
    if want != got:
        problems.append(
            f"media differ: {got['count']} files, {got['bytes']} bytes instead of {want['count']} files, "
            f"{want['bytes']} bytes" + ("" if (want["count"], want["bytes"]) != (got["count"], got["bytes"]) else
                                        " (same count and size; names or sizes of single files differ)")
        )  # fmt: skip
    return problems


def verify(config: UVRBRunConfig) -> dict[str, list[str]]:
    """Check the copy of UVRB at ``config.data`` against the manifest in ``config.verify`` (a
    ``results.json``): ``{task: what differs}`` (an empty list: the same files). Reads the JSONL
    files and lists the media; encodes nothing. The tasks are the manifest's (those of
    ``config.tasks`` among them, if given), read with the media choice the manifest was made with."""
    manifests, recorded = read_manifests(config.verify)
    chosen = set(config.tasks and [t.name for t in resolve_tasks(config.tasks)] or manifests)
    names = [name for name in manifests if name in chosen]
    if not names:
        raise ValueError(f"{config.verify}: none of the tasks asked for is in the manifest ({', '.join(manifests)})")
    settings = {"tasks": names, "media": recorded.get("media", config.media), "verify": None}
    datas, _ = load_tasks(dataclasses.replace(config, **settings))
    return {d.task.name: compare(manifests[d.task.name], task_manifest(d, config.lovr_videos)) for d in datas}


__all__ = ["compare", "read_manifests", "task_manifest", "verify"]
