# Copyright 2026 The GVE package authors. Apache-2.0.
"""UVRB's 16 datasets as mteb retrieval tasks (``pip install -e ".[mteb]"``), reading the same
files as ``gve uvrb`` (`data.load_tasks`: a local copy in any layout, archives, or the Hub).

    >>> import mteb
    >>> from modeling_gve.mteb import gve_mteb_model, uvrb_mteb_tasks
    >>> results = mteb.evaluate(gve_mteb_model("Alibaba-NLP/GVE-3B"), uvrb_mteb_tasks(["MSRVTT"]), cache=None)

Each task's metadata is its `UVRBTask` record: name ``UVRB-<TASK>``, the query prompt, the
category (``t2v``, ``it2v``, ``vt2v``, ``i2v``, ``v2v``), the paper's metric as main score (R@k is
mteb's ``hit_rate_at_k``; P@1 its ``precision_at_1``), the data repo and revision, and in the
description the frames protocol of the task's frame folders. MS-TI/MS-TV rank each query's own
candidates through mteb's ``top_ranked`` (its reranking path) where the data lists them.

Rows carry the standard columns (``text``; ``image`` as a PIL image; ``video`` as a torchcodec
``VideoDecoder``, or for a frame folder an object with the same reading methods, opened on first
use), so any mteb model runs, plus ``uvrb_input``: the exact input ``gve uvrb`` builds, which
`modeling_gve.mteb.gve_mteb_model` reads so that its scores equal ``gve uvrb``'s.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

import torch
from datasets import Dataset, Image
from mteb.abstasks.retrieval import AbsTaskRetrieval
from mteb.abstasks.retrieval_dataset_loaders import RetrievalSplitData
from mteb.abstasks.task_metadata import TaskMetadata

from ..video import _natural_key, load_pil, to_rgb
from .config import DEFAULT_FRAMES_FPS, CmpRanking, FramesProtocol, MediaSelection, UVRBRunConfig
from .data import Query, UVRBTaskData, VideoSource, load_tasks
from .tasks import HUB_REPO, UVRB_CITATION, UVRBTask, resolve_tasks

MAIN_SCORES = {"R@1": "hit_rate_at_1", "R@10": "hit_rate_at_10", "P@1": "precision_at_1"}
CATEGORIES = {"text": "t2v", "image": "i2v", "video": "v2v", "text+image": "it2v", "text+video": "vt2v"}
PAPER = "https://arxiv.org/abs/2510.27571"


class FrameFolderVideo:
    """A folder of frames with the reading methods of a torchcodec ``VideoDecoder`` that mteb's
    video collators use (``metadata``, ``get_frames_at(indices).data``, ``len``)."""

    def __init__(self, folder: str | os.PathLike, fps: float):
        from ..video import FRAME_EXTENSIONS

        self.files = sorted((p for p in os.scandir(folder) if os.path.splitext(p.name)[1].lower() in FRAME_EXTENSIONS),
                            key=lambda p: _natural_key(p))  # fmt: skip
        first = load_pil(self.files[0].path)
        count = len(self.files)
        self.metadata = SimpleNamespace(
            num_frames=count, average_fps=fps, duration_seconds=count / fps, begin_stream_seconds=0.0,
            end_stream_seconds=count / fps, width=first.width, height=first.height,
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self.files)

    def get_frames_at(self, indices: Iterable[int]) -> SimpleNamespace:
        frames = [torch.from_numpy(_array(self.files[i].path)).permute(2, 0, 1) for i in indices]
        return SimpleNamespace(data=torch.stack(frames))  # (N, 3, H, W) uint8

    def get_frame_at(self, index: int) -> SimpleNamespace:
        return SimpleNamespace(data=self.get_frames_at([index]).data[0])


def _array(path: str) -> Any:
    import numpy as np

    return np.array(to_rgb(load_pil(path)))


class LazyVideo:
    """A ``video`` cell: the decoder (a torchcodec ``VideoDecoder``, or `FrameFolderVideo`) is opened
    on first use, so a model that reads ``uvrb_input`` instead never opens it."""

    def __init__(self, source: dict, fps: float):
        self.source, self.fps, self._decoder = source, fps, None

    def decoder(self) -> Any:
        if self._decoder is None:
            from torchcodec.decoders import VideoDecoder

            path = self.source["path"]
            self._decoder = FrameFolderVideo(path, self.fps) if self.source["is_frames"] else VideoDecoder(path)
        return self._decoder

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("source", "fps", "_decoder"):
            raise AttributeError(name)
        return getattr(self.decoder(), name)

    def __len__(self) -> int:
        return len(self.decoder())


def _video(source: VideoSource) -> dict:
    return {"path": str(source.path), "is_frames": source.is_frames}


def _corpus(data: UVRBTaskData, frames: dict) -> Dataset:
    ids = list(data.corpus)
    return Dataset.from_dict({
        "id": ids,
        "video": [json.dumps(_video(data.corpus[c])) for c in ids],
        "uvrb_input": [json.dumps({"video": _video(data.corpus[c]), "frames": frames}) for c in ids],
    })  # fmt: skip


def _queries(data: UVRBTaskData, frames: dict) -> Dataset:
    columns: dict[str, list] = {"id": [q.id for q in data.queries]}
    records = []
    for query in data.queries:
        record = {"text": query.text, "image": str(query.image) if query.image else None,
                  "video": _video(query.video) if query.video else None}  # fmt: skip
        records.append(json.dumps({"query": record, "frames": frames}))
    modality = data.task.query_modality.split("+")
    if "text" in modality:
        columns["text"] = [q.text for q in data.queries]
    if "image" in modality:
        columns["image"] = [str(q.image) for q in data.queries]
    if "video" in modality:
        columns["video"] = [json.dumps(_video(q.video)) for q in data.queries]
    columns["uvrb_input"] = records
    dataset = Dataset.from_dict(columns)
    return dataset.cast_column("image", Image()) if "image" in modality else dataset


def _open_videos(fps: float):
    def transform(batch: dict) -> dict:
        if "video" in batch:
            batch["video"] = [LazyVideo(json.loads(cell), fps) for cell in batch["video"]]
        return batch

    return transform


def uvrb_input(record: str, sampling: dict) -> Any:
    """The encoder input ``gve uvrb`` builds for a row's ``uvrb_input`` (a JSON record), frame
    folders read by the record's frames protocol with the encoder's ``sampling`` settings."""
    from .frames import FramesReading

    spec = json.loads(record)
    frames = FramesReading.for_sampling(spec["frames"]["protocol"], spec["frames"]["fps"], sampling)
    if "video" in spec:
        return {"video": _source(spec["video"]).as_input(frames)}
    query = spec["query"]
    video = _source(query["video"]) if query.get("video") else None
    return Query("", text=query.get("text"), image=query.get("image"), video=video).as_input(frames)


def _source(video: dict) -> VideoSource:
    from pathlib import Path

    return VideoSource(Path(video["path"]), is_frames=video["is_frames"])


class UVRBRetrieval(AbsTaskRetrieval):
    """One UVRB dataset as an mteb retrieval task (a subclass per task: `uvrb_mteb_tasks`);
    ``settings`` says where and how it is read (`UVRBRunConfig`'s data fields)."""

    uvrb_task: UVRBTask
    settings: dict
    k_values = (1, 3, 5, 10, 20, 100)

    def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
        if self.data_loaded:
            return
        config = UVRBRunConfig(tasks=[self.uvrb_task.name], **self.settings)
        (data,), _ = load_tasks(config)
        frames = {"protocol": config.frames_protocol, "fps": config.frames_fps}
        corpus, queries = _corpus(data, frames), _queries(data, frames)
        for dataset in (corpus, queries):
            if "video" in dataset.column_names:
                dataset.set_transform(_open_videos(config.frames_fps), output_all_columns=True)
        relevant = {q.id: {cid: 1 for cid in sorted(data.relevant[q.id])} for q in data.queries}
        top_ranked = {q.id: list(data.candidates[q.id]) for q in data.queries} if data.candidates else None
        split = RetrievalSplitData(queries=queries, corpus=corpus, relevant_docs=relevant, top_ranked=top_ranked)
        self.dataset = {"default": {"test": split}}
        self.data_loaded = True


def task_metadata(task: UVRBTask, *, data: str, revision: str | None, frames: dict) -> TaskMetadata:
    """mteb's metadata record of one UVRB task."""
    modalities = sorted(set(task.query_modality.split("+")) | {"video"})
    ranking = "each query's own candidates (top_ranked)" if task.ranking == "per-query" else "the whole corpus"
    return TaskMetadata(
        name=f"UVRB-{task.name}",
        description=(
            f"UVRB {task.full_name} ({task.task_type}{'/' + task.domain if task.domain else ''}): {task.source}. "
            f"Ranks {ranking}; main score = the paper's {task.main_metric} (a hit rate). Protocol (GVE, §4.1): "
            f"8 uniform frames, 128-200x28x28 pixels per frame, normalised embeddings, cosine; frame folders "
            f"read with the '{frames['protocol']}' frames protocol at {frames['fps']} fps."
        ),
        reference=PAPER,
        dataset={"path": data, "revision": revision or "main"},
        type="Any2AnyRetrieval",
        category=CATEGORIES[task.query_modality],
        modalities=modalities,
        eval_splits=["test"],
        eval_langs=["eng-Latn"],
        main_score=MAIN_SCORES[task.main_metric],
        license="not specified",
        annotations_creators="derived",
        sample_creation="found",
        bibtex_citation=UVRB_CITATION,
        prompt={"query": task.prompt},
    )


def uvrb_mteb_tasks(
    names: Iterable[str] | str | None = None,
    data: str | os.PathLike | None = None,
    *,
    revision: str | None = None,
    media: MediaSelection = "all",
    frames_protocol: FramesProtocol = "video",
    frames_fps: float = DEFAULT_FRAMES_FPS,
    cmp_ranking: CmpRanking | None = None,
    lovr_videos: str | os.PathLike | None = None,
) -> list[UVRBRetrieval]:
    """mteb tasks for UVRB datasets (task and/or ability names, as ``gve uvrb --tasks``; ``None``:
    all 16), read from ``data`` (a local copy or a Hub repo; default ``Alibaba-NLP/UVRB``)."""
    data = str(data) if data is not None else HUB_REPO
    frames = {"protocol": frames_protocol, "fps": frames_fps}
    settings = dict(data=data, data_revision=revision, media=media, frames_protocol=frames_protocol,
                    frames_fps=frames_fps, cmp_ranking=cmp_ranking,
                    lovr_videos=str(lovr_videos) if lovr_videos is not None else None)  # fmt: skip
    UVRBRunConfig(**settings)  # every setting checked now, not when mteb loads the data
    tasks = []
    for task in resolve_tasks(names):
        metadata = task_metadata(task, data=data, revision=revision, frames=frames)
        attributes = {"metadata": metadata, "uvrb_task": task, "settings": settings}
        tasks.append(type(f"UVRB{task.name.replace('-', '')}", (UVRBRetrieval,), attributes)())
    return tasks


__all__ = ["FrameFolderVideo", "UVRBRetrieval", "task_metadata", "uvrb_input", "uvrb_mteb_tasks"]
