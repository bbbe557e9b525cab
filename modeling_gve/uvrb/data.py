# Copyright 2026 The GVE package authors. Apache-2.0.
"""Reading one UVRB task folder (where the folders are, local or on the Hub: `layout.py`).

A task folder (found by `layout.find_task_folders` at any depth)::

    jsonl/queries.jsonl     {"id", "text"?, "image"?, "video"?}              one query per line
    jsonl/corpus.jsonl      {"id", "video", "qid"? | "group"?}                one candidate per line
    jsonl/instances.jsonl   {"qid", "pos": [corpus ids], "candidates"? | "neg"?}   a qid may repeat
    <video> | videos/<video>                                                  raw video files
    videos_frames/<video path without extension>/*.jpg                        or extracted frames
    <image> | images/<image>                                                  query images

``image`` and ``video`` values are paths relative to the task folder (absolute paths are used as
they are). Where a video exists both as a file and as a frame folder, ``media`` chooses (``all``
and ``videos``: the file; ``frames``: the folder). A frame folder becomes model input by a frames
protocol (`frames.FramesReading`: ``video``, ``reference`` or ``uniform``).

MS-TI and MS-TV rank each query's own candidates where the data lists them: an instance's
``candidates`` (all of them) or ``neg`` (ranked with ``pos``), or corpus entries naming their
query (``qid``) or sharing the query's ``group``. Where the data lists none, the whole task corpus
is ranked and the task says so (`UVRBTaskData.ranking_note`); ``cmp_ranking`` forces either way.

Ids are compared as strings. Every problem is a `UVRBDataError` naming the file and line.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .. import paths
from .._deprecation import moved_names, warn_moved
from ..index.listing import VIDEO_EXTENSIONS
from ..video import FRAME_EXTENSIONS
from .config import DEFAULT_FRAMES_FPS, CmpRanking, MediaSelection, UVRBRunConfig
from .errors import UVRBDataError
from .frames import FramesReading
from .layout import find_task_folders, resolve_data
from .tasks import UVRBTask, resolve_tasks

JSONL_FILES = ("queries", "corpus", "instances")


def _reading(reading: FramesReading | float, frames_fps: float | None = None) -> FramesReading:
    if frames_fps is not None:  # the keyword of the previous release
        warn_moved("as_input(frames_fps=...)", "as_input(FramesReading(fps=...)) or as_input(fps)")
        reading = frames_fps
    return reading if isinstance(reading, FramesReading) else FramesReading(fps=float(reading))


@dataclass(frozen=True)
class VideoSource:
    """A video as stored: a file, or a folder of extracted frames."""

    path: Path
    is_frames: bool

    def as_input(self, reading: FramesReading | float = DEFAULT_FRAMES_FPS, *, frames_fps: float | None = None) -> Any:
        """What `GVEModel.encode` takes for this video (a frame folder: by ``reading``, or read at
        that many frames per second with the ``video`` protocol)."""
        return _reading(reading, frames_fps).model_input(self.path) if self.is_frames else str(self.path)

    def key_input(self, reading: FramesReading | float = DEFAULT_FRAMES_FPS) -> Any:
        """What the cache key of this video is computed from (`embedding_cache.item_key`)."""
        return _reading(reading).key_input(self.path) if self.is_frames else str(self.path)


@dataclass(frozen=True)
class Query:
    id: str
    text: str | None = None
    image: Path | None = None
    video: VideoSource | None = None

    def as_input(
        self, reading: FramesReading | float = DEFAULT_FRAMES_FPS, *, frames_fps: float | None = None
    ) -> dict[str, Any]:
        """A composed input dict for `GVEModel.encode` (``text``, ``image``, ``video`` keys)."""
        video = self.video.as_input(_reading(reading, frames_fps)) if self.video is not None else None
        return self._item(video)

    def key_input(self, reading: FramesReading | float = DEFAULT_FRAMES_FPS) -> dict[str, Any]:
        return self._item(self.video.key_input(reading) if self.video is not None else None)

    def _item(self, video: Any) -> dict[str, Any]:
        item: dict[str, Any] = {}
        if self.text is not None:
            item["text"] = self.text
        if self.image is not None:
            item["image"] = str(self.image)
        if video is not None:
            item["video"] = video
        return item


@dataclass
class UVRBTaskData:
    """One task's queries, corpus and relevance, validated.

    Attributes:
        queries: in file order. corpus: ``{corpus id: VideoSource}`` in file order.
        relevant: ``{query id: set of relevant corpus ids}`` (every query has at least one).
        candidates: ``{query id: candidate corpus ids}`` where each query ranks its own
            candidates (MS-TI/MS-TV with lists in the data), else ``None`` (the whole corpus).
        ranking: ``"per-query"`` or ``"corpus"``: what was ranked. ranking_note: why, where
            the task's own protocol (`UVRBTask.ranking`) could not be followed.
        fingerprint: sha256 of the three JSONL files together; jsonl_sha256: of each.
    """

    task: UVRBTask
    root: Path
    queries: list[Query]
    corpus: dict[str, VideoSource]
    relevant: dict[str, set[str]]
    candidates: dict[str, list[str]] | None = None
    fingerprint: str = ""
    jsonl_sha256: dict[str, str] = field(default_factory=dict)
    ranking: str = "corpus"
    ranking_note: str | None = None
    source: dict = field(default_factory=dict)


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """``(line number, record)`` for each non-blank line (`modeling_gve.paths.read_jsonl`); a missing
    file, invalid UTF-8, bad JSON or a non-object line is a `UVRBDataError` naming the file and line."""
    try:
        yield from paths.read_jsonl(path)
    except paths.DataFileError as err:
        raise UVRBDataError(err.file, err.line, err.reason) from None


def _require(record: dict, key: str, path: Path, line: int) -> Any:
    if record.get(key) is None:
        raise UVRBDataError(path, line, f"missing required field {key!r} (fields: {', '.join(sorted(record))})")
    return record[key]


def _id(value: Any, what: str, path: Path, line: int) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise UVRBDataError(path, line, f"{what} must be a string or an integer, got {value!r}")
    return str(value)


def _id_list(value: Any, what: str, path: Path, line: int) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [_id(v, what, path, line) for v in values]


def find_video(root: Path, name: str, media: MediaSelection = "all") -> VideoSource | None:
    """The file ``name`` (directly or under ``videos/``) or its frame folder
    (``videos_frames/<name without extension>``), the folder first for ``media="frames"``;
    ``None`` if neither exists."""
    given = Path(name)
    places = [given] if given.is_absolute() else [root / given, root / "videos" / given]
    file = next((p for p in places if p.is_file()), None)
    folders = [p for p in places if p.is_dir()]
    if not given.is_absolute():
        stem = given.with_suffix("")
        folders += [root / "videos_frames" / stem.name, root / "videos_frames" / stem]
    folder = next((p for p in folders if p.is_dir()), None)
    found = (folder, file) if media == "frames" else (file, folder)
    if found[0] is not None:
        return VideoSource(found[0], is_frames=found[0] is folder)
    return VideoSource(found[1], is_frames=found[1] is folder) if found[1] is not None else None


def find_long_video(folder: Path, name: str) -> Path | None:
    """A LoVR video in a LongVideoBench folder: ``name``, its base name, under ``videos/`` or not,
    with its own or any common video extension."""
    given = Path(name)
    stems = [folder / given.with_suffix(""), folder / given.stem, folder / "videos" / given.stem]
    places = [folder / given, folder / given.name, folder / "videos" / given.name]
    places += [stem.with_name(stem.name + ext) for stem in stems for ext in sorted(VIDEO_EXTENSIONS)]
    return next((p for p in places if p.is_file()), None)


def find_image(root: Path, name: str) -> Path | None:
    given = Path(name)
    for path in [given] if given.is_absolute() else [root / given, root / "images" / given]:
        if path.is_file():
            return path
    return None


def _file_name(value: Any, key: str, path: Path, line: int) -> str:
    if not isinstance(value, str) or not value:
        raise UVRBDataError(path, line, f"{key!r} must be a non-empty file name, got {value!r}")
    return value


def _inside(bound: Path, found: Path, name: str, path: Path, line: int) -> Path:
    """``found`` if it resolves inside ``bound`` (`paths.media_root` of its folder), else the
    file:line error of the rule: a data file cannot point the benchmark at files elsewhere."""
    if not paths.is_inside(bound, found):
        reason = f"{name!r} resolves to {found.resolve()}, outside {bound}: {paths.MEDIA_PATH_RULE}"
        raise UVRBDataError(path, line, reason)
    return found


@dataclass(frozen=True)
class _Media:
    """Where one task's media are read from, and which kind wins where both exist."""

    root: Path
    media: MediaSelection = "all"
    long_videos: Path | None = None  # LongVideoBench folder for a LoVR corpus

    @cached_property
    def bound(self) -> Path:
        """Where the task's media may resolve (found once per task, not per file)."""
        return paths.media_root(self.root)

    @cached_property
    def long_videos_bound(self) -> Path:
        return paths.media_root(self.long_videos)

    def video(self, name: Any, path: Path, line: int) -> VideoSource:
        name = _file_name(name, "video", path, line)
        source = find_video(self.root, name, self.media)
        if source is None:
            stem = Path(name).with_suffix("")
            raise UVRBDataError(
                path,
                line,
                f"video {name!r} not found: looked for {self.root / name}, {self.root / 'videos' / name} and the "
                f"frame folder {self.root / 'videos_frames' / stem}/",
            )
        _inside(self.bound, source.path, name, path, line)
        if source.is_frames and not any(p.suffix.lower() in FRAME_EXTENSIONS for p in source.path.iterdir()):
            raise UVRBDataError(
                path, line, f"frame folder {source.path} holds no frames ({', '.join(sorted(FRAME_EXTENSIONS))})"
            )
        return source

    def corpus_video(self, name: Any, path: Path, line: int) -> VideoSource:
        if self.long_videos is None:
            return self.video(name, path, line)
        found = find_long_video(self.long_videos, _file_name(name, "video", path, line))
        if found is None:
            where = f"the LongVideoBench folder {self.long_videos}"
            raise UVRBDataError(path, line, f"video {name!r} not found in {where} (--lovr-videos)")
        return VideoSource(_inside(self.long_videos_bound, found, name, path, line), is_frames=False)

    def image(self, name: Any, path: Path, line: int) -> Path:
        found = find_image(self.root, _file_name(name, "image", path, line))
        if found is None:
            looked = f"{self.root / name} and {self.root / 'images' / name}"
            raise UVRBDataError(path, line, f"image {name!r} not found: looked for {looked}")
        return _inside(self.bound, found, name, path, line)


def load_task(
    task: UVRBTask,
    root: str | os.PathLike,
    *,
    media: MediaSelection = "all",
    cmp_ranking: CmpRanking | None = None,
    lovr_videos: str | os.PathLike | None = None,
) -> UVRBTaskData:
    """Read and validate one task from its folder (the one holding ``jsonl/``).

    Args:
        media: which kind of video wins where a task has both (see the module docstring).
        cmp_ranking: for MS-TI/MS-TV: ``"per-query"`` (the data must list candidates),
            ``"corpus"`` (rank the whole corpus), ``None`` (per-query where listed, else corpus).
        lovr_videos: a LongVideoBench folder holding the LoVR-V / LoVR-C2V corpus videos.

    Raises:
        UVRBDataError: a missing file, bad JSON, a missing field, a query whose modality does
            not match the task, a missing video/image, an unknown or duplicate id, a query
            without relevant ids; always naming the file and line.
    """
    root = Path(root)
    if not root.is_dir():
        raise UVRBDataError(root, 0, f"task folder for {task.name} not found")
    files = {name: root / "jsonl" / f"{name}.jsonl" for name in JSONL_FILES}
    long_videos = Path(lovr_videos) if lovr_videos is not None and task.corpus_group == "LoVR" else None
    reader = _Media(root, media)
    corpus, corpus_lists = _read_corpus(files["corpus"], _Media(root, media, long_videos))
    queries, query_lines, query_groups = _read_queries(task, files["queries"], reader)
    relevant, instance_lists = _read_instances(files["instances"], query_lines, corpus, files)
    for query in queries:
        if query.id not in relevant:
            reason = f"query {query.id!r} has no relevant ids in {files['instances'].name}"
            raise UVRBDataError(files["queries"], query_lines[query.id], reason)
    candidates, ranking, note = _candidates(task, cmp_ranking, instance_lists, corpus_lists, query_groups, files)
    for query in queries if candidates is not None else ():
        if not candidates.get(query.id):
            raise UVRBDataError(files["instances"], 0, f"query {query.id!r} has no candidate list (other queries do)")
        if not relevant[query.id] & set(candidates[query.id]):
            raise UVRBDataError(files["instances"], 0, f"no positive of query {query.id!r} is among its candidates")
    fingerprint, per_file = _fingerprint(files)
    return UVRBTaskData(
        task=task, root=root, queries=queries, corpus=corpus, relevant=relevant, candidates=candidates,
        fingerprint=fingerprint, jsonl_sha256=per_file, ranking=ranking, ranking_note=note,
    )  # fmt: skip


def _read_corpus(path: Path, reader: _Media) -> tuple[dict[str, VideoSource], dict[str, Any]]:
    """``{corpus id: VideoSource}`` in file order, and what the entries say about the queries
    they belong to: ``{"qid": {query id: [corpus ids]}, "group": {group: [corpus ids]}}``."""
    corpus: dict[str, VideoSource] = {}
    lines: dict[str, int] = {}
    lists: dict[str, dict[str, list[str]]] = {"qid": {}, "group": {}}
    for line, record in read_jsonl(path):
        cid = _id(_require(record, "id", path, line), "'id'", path, line)
        if cid in corpus:
            raise UVRBDataError(path, line, f"duplicate corpus id {cid!r} (first on line {lines[cid]})")
        corpus[cid] = reader.corpus_video(_require(record, "video", path, line), path, line)
        lines[cid] = line
        owner = record.get("qid", record.get("query_id"))
        for qid in _id_list(owner, "'qid'", path, line) if owner is not None else []:
            lists["qid"].setdefault(qid, []).append(cid)
        if record.get("group") is not None:
            lists["group"].setdefault(_id(record["group"], "'group'", path, line), []).append(cid)
    if not corpus:
        raise UVRBDataError(path, 0, "corpus is empty")
    return corpus, lists


def _read_queries(task: UVRBTask, path: Path, reader: _Media) -> tuple[list[Query], dict[str, int], dict[str, str]]:
    """The queries in file order, their line numbers, and their ``group`` where given."""
    needs = set(task.query_modality.split("+"))
    queries: list[Query] = []
    lines: dict[str, int] = {}
    groups: dict[str, str] = {}
    for line, record in read_jsonl(path):
        qid = _id(_require(record, "id", path, line), "'id'", path, line)
        if qid in lines:
            raise UVRBDataError(path, line, f"duplicate query id {qid!r} (first on line {lines[qid]})")
        present = {key for key in ("text", "image", "video") if record.get(key) is not None}
        if present != needs:
            got = "+".join(sorted(present)) or "nothing"
            raise UVRBDataError(path, line, f"{task.name} queries are {task.query_modality}; this one has {got}")
        text = record.get("text")
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise UVRBDataError(path, line, f"'text' must be a non-empty string, got {text!r}")
        image = reader.image(record["image"], path, line) if "image" in needs else None
        video = reader.video(record["video"], path, line) if "video" in needs else None
        queries.append(Query(id=qid, text=text, image=image, video=video))
        lines[qid] = line
        if record.get("group") is not None:
            groups[qid] = _id(record["group"], "'group'", path, line)
    if not queries:
        raise UVRBDataError(path, 0, "no queries")
    return queries, lines, groups


def _read_instances(
    path: Path, query_lines: dict[str, int], corpus: dict[str, VideoSource], files: dict[str, Path]
) -> tuple[dict[str, set[str]], dict[str, list[str]]]:
    """``{query id: relevant corpus ids}`` (repeated qids merged) and the candidate lists the
    instances give (``candidates``, or ``pos`` + ``neg``)."""
    relevant: dict[str, set[str]] = {}
    listed: dict[str, list[str]] = {}
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
        if record.get("candidates") is not None:
            given = _id_list(record["candidates"], "'candidates' ids", path, line)
        elif record.get("neg") is not None:
            given = positives + _id_list(record["neg"], "'neg' ids", path, line)
        else:
            continue
        for cid in given:
            if cid not in corpus:
                raise UVRBDataError(path, line, f"candidate {cid!r} of qid {qid!r} is not in {files['corpus'].name}")
        merged = listed.setdefault(qid, [])
        merged.extend(c for c in dict.fromkeys(given) if c not in merged)
    return relevant, listed


def _candidates(
    task: UVRBTask,
    cmp_ranking: CmpRanking | None,
    instance_lists: dict[str, list[str]],
    corpus_lists: dict[str, Any],
    query_groups: dict[str, str],
    files: dict[str, Path],
) -> tuple[dict[str, list[str]] | None, str, str | None]:
    """``(candidates, ranking, note)``: each query's candidate list (or ``None`` for the whole
    corpus), what is ranked, and a note where that is not the task's own protocol."""
    if task.ranking != "per-query" or cmp_ranking == "corpus":
        forced = task.ranking == "per-query"
        return None, "corpus", "the whole task corpus is ranked (--cmp-ranking corpus)" if forced else None
    by_group = {q: corpus_lists["group"].get(g, []) for q, g in query_groups.items()}
    for lists in (instance_lists, corpus_lists["qid"], by_group):  # the first source that lists any
        if any(lists.values()):
            return lists, "per-query", None
    if cmp_ranking == "per-query":
        raise UVRBDataError(
            files["instances"], 0,
            f"{task.name} ranks each query's own candidates: give 'candidates' or 'neg' ids in the instances, "
            "or a 'qid' or 'group' field in the corpus (or pass --cmp-ranking corpus)",
        )  # fmt: skip
    note = (
        f"the data lists no per-query candidates for {task.name}: the whole task corpus is ranked, so this score "
        f"is not the paper's {task.main_metric} over about {task.num_corpus} candidates per query"
    )
    return None, "corpus", note


def _fingerprint(files: dict[str, Path]) -> tuple[str, dict[str, str]]:
    """sha256 of the three JSONL files together (what was scored), and of each (the manifest)."""
    together = hashlib.sha256()
    each = {}
    for name in JSONL_FILES:
        data = files[name].read_bytes()
        together.update(data)
        each[files[name].name] = hashlib.sha256(data).hexdigest()
    return together.hexdigest(), each


def load_tasks(config: UVRBRunConfig) -> tuple[list[UVRBTaskData], dict]:
    """The tasks of ``config``, found (`layout.resolve_data`, `layout.find_task_folders`), read
    and validated (`load_task`), and where the data came from (``{"data", "revision", "folders"}``)."""
    tasks = resolve_tasks(config.tasks)
    root, source = resolve_data(tasks, config.data, revision=config.data_revision, media=config.media)
    folders = find_task_folders(root, tasks)
    options = {"media": config.media, "cmp_ranking": config.cmp_ranking, "lovr_videos": config.lovr_videos}
    datas = [load_task(task, folders[task.name], **options) for task in tasks]
    return datas, {**source, "folders": {name: str(path) for name, path in folders.items()}}


__getattr__ = moved_names(
    __name__,
    {
        "TaskData": "modeling_gve.uvrb.data:UVRBTaskData",
        "hub_patterns": "modeling_gve.uvrb.layout:hub_patterns",
    },
)

__all__ = [
    "DEFAULT_FRAMES_FPS",
    "JSONL_FILES",
    "MediaSelection",
    "Query",
    "UVRBDataError",
    "UVRBTaskData",
    "VideoSource",
    "find_image",
    "find_long_video",
    "find_video",
    "load_task",
    "load_tasks",
    "read_jsonl",
]
