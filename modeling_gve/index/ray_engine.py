# Copyright 2026 The GVE package authors. Apache-2.0.
"""``gve index --engine ray``: decoding and embedding as a Ray Data pipeline, on one machine or a
cluster.

    videos to embed ──▶ decode (CPU tasks: GVE's reader, `read_video` / `read_segments`)
                    ──▶ embed (one actor per GPU, or CPU actors: tokenise + `GVEModel` forward)
                    ──▶ the driver writes the vectors into the index's store

The workers read the videos by path or URL (on a cluster: a shared file system, or URLs) and
load the model by name or path; the driver, which alone writes the index folder, stores each
video's vectors as they arrive (flushed by count and time, like the local engine), so the table
written afterwards is the local engine's, with identical vectors: the same reader, the same
processor and the same model code run on the workers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..embedding_cache import EmbeddingCache

# Rows that carry a video's outcome rather than frames: how many frame rows it had, or why it failed.
_DONE = "done"


def _decode(batch: dict[str, np.ndarray], *, sampling: dict, segments: dict | None) -> Iterator[dict]:
    """One video per call (``batch_size=1``): a row per segment (or one for the whole video) with
    its resized frames, then a ``done`` row with the count or the error. A generator, so that a
    long video's segments stream out without being held together."""
    from ..processing_gve import SamplingConfig, input_errors, video_options
    from ..video import GVEInputError, read_segments, read_video

    key, video = str(batch["key"][0]), str(batch["video"][0])
    options = video_options(SamplingConfig(**sampling))
    count, error = 0, ""
    try:
        with input_errors(video):  # any reading failure is this video's, worded as on the local engine
            if segments:
                parts = ((s.start, s.end, s.video) for s in read_segments(video, **segments, **options))
            else:
                parts = iter([(np.nan, np.nan, read_video(video, **options))])
            for start, end, sampled in parts:
                yield _row(key, count, start, end, sampled)
                count += 1
    except GVEInputError as err:
        error = err.reason
    yield {"key": [key], "row": [count], "kind": [_DONE], "start": [np.nan], "end": [np.nan], "frames": [b""],
           "shape": [[0, 0, 0, 0]], "fps": [0.0], "indices": [[0]], "total": [0], "error": [error]}  # fmt: skip


def _row(key: str, row: int, start: float, end: float, sampled: Any) -> dict:
    frames = sampled.frames.numpy()
    return {"key": [key], "row": [row], "kind": ["frames"], "start": [float(start)], "end": [float(end)],
            "frames": [frames.tobytes()], "shape": [list(frames.shape)], "fps": [float(sampled.fps)],
            "indices": [list(sampled.frames_indices)], "total": [int(sampled.total_num_frames)], "error": [""]}  # fmt: skip


class _Embedder:
    """A Ray actor holding the model: embeds the frame rows of a batch, passes the others on."""

    def __init__(
        self, model: str, revision: str | None, dtype: str, device: str, sampling: dict, instruction: str | None
    ):
        from ..encoders import load_gve
        from ..processing_gve import SamplingConfig

        self.model = load_gve(model, revision=revision, device=device, dtype=dtype)
        self.config = SamplingConfig(**sampling)
        self.instruction = instruction

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        import torch

        from ..processing_gve import LoadedItem
        from ..video import SampledVideo

        processor = self.model.processor
        embeddings: list[bytes] = [b""] * len(batch["key"])
        rows = [i for i, kind in enumerate(batch["kind"]) if kind != _DONE]
        features = []
        for i in rows:
            frames = torch.from_numpy(
                np.frombuffer(batch["frames"][i], dtype=np.uint8).reshape(list(batch["shape"][i])).copy()
            )
            sampled = SampledVideo(frames=frames, fps=float(batch["fps"][i]), frames_indices=[int(x) for x in batch["indices"][i]],
                                   total_num_frames=int(batch["total"][i]))  # fmt: skip
            item = LoadedItem(text=None, images=[], videos=[sampled], name=str(batch["key"][i]))
            features.append(processor.tokenize_item(item, self.instruction, self.config))
        if features:
            with torch.inference_mode():
                vectors = self.model._embed_features(features, "right").numpy().astype(np.float32)
            for i, vector in zip(rows, vectors):
                embeddings[i] = vector.tobytes()
        out = {k: batch[k] for k in ("key", "row", "kind", "start", "end", "error")}
        out["embedding"] = np.array(embeddings, dtype=object)
        return out


def fill_with_ray(
    encoder: Any,
    store: EmbeddingCache,
    items: Sequence[dict],
    keys: Sequence[str],
    *,
    batch_size: int = 4,
    flush_every: int = 64,
    flush_seconds: float | None = 30.0,
    address: str | None = None,
    num_actors: int | None = None,
    num_gpus_per_actor: float | None = None,
) -> int:
    """Embed the inputs ``store`` lacks with a Ray Data pipeline (see the module docstring) and
    write them into ``store``; returns how many videos were embedded (failures recorded too).

    Args:
        encoder: a `GVEEncoder`, or a `SegmentEncoder` around one.
        address: the Ray cluster (``ray.init(address=...)``); when Ray is not started yet and no
            address is given, a local one.
        num_actors: embedding actors (default: one per GPU of the cluster, else one).
        num_gpus_per_actor: GPUs per actor (default: 1 when the cluster has GPUs, else 0: CPU).
    """
    # Over 60 lines: the pipeline and the driver's write loop share the names, keys and flush
    # state of one run; split, they would pass all of it back and forth.
    import ray

    from ..encoders import PendingWrites

    gve = getattr(encoder, "encoder", encoder)  # a SegmentEncoder's GVEEncoder
    model = getattr(gve, "model", None)
    if model is None or not hasattr(model, "encode_segments"):
        raise ValueError("--engine ray embeds with a GVE checkpoint (a GVEEncoder); this encoder is not one")
    todo = store.missing(keys)
    if not todo:
        return 0
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, ignore_reinit_error=True)
    gpus = int(ray.cluster_resources().get("GPU", 0))
    per_actor = (1.0 if gpus else 0.0) if num_gpus_per_actor is None else num_gpus_per_actor
    actors = num_actors or max(1, gpus if per_actor else 1)
    first = {}
    for index, key in enumerate(keys):
        first.setdefault(key, index)
    sampling = model.processor.sampling_config(**gve.sampling).to_dict()
    segments = encoder.read_options if hasattr(encoder, "read_options") else None
    names = {k: _video_name(items[first[k]]) for k in todo}
    dataset = ray.data.from_items([{"key": k, "video": names[k]} for k in todo])
    decoded = dataset.map_batches(
        _decode, batch_size=1, fn_kwargs={"sampling": sampling, "segments": segments}, num_cpus=1
    )
    embedded = decoded.map_batches(
        _Embedder, batch_size=batch_size, compute=ray.data.ActorPoolStrategy(size=actors), num_gpus=per_actor or None,
        fn_constructor_kwargs={
            "model": model.config._name_or_path, "revision": getattr(model.config, "_commit_hash", None),
            "dtype": str(model.dtype).removeprefix("torch."), "device": "cuda" if per_actor else "cpu",
            "sampling": sampling, "instruction": gve.instruction_for("document", None),
        },
    )  # fmt: skip
    pending, rows, outcome = PendingWrites(store), {}, {}
    for batch in embedded.iter_batches(batch_size=None, batch_format="numpy"):
        for i in range(len(batch["key"])):
            key = str(batch["key"][i])
            if batch["kind"][i] == _DONE:
                outcome[key] = (int(batch["row"][i]), str(batch["error"][i]))
            else:
                vector = np.frombuffer(batch["embedding"][i], dtype=np.float32)
                rows.setdefault(key, {})[int(batch["row"][i])] = (
                    float(batch["start"][i]),
                    float(batch["end"][i]),
                    vector,
                )
            if key in outcome and len(rows.get(key, {})) >= outcome[key][0]:  # the video is complete
                count, error = outcome.pop(key)
                pending.add([key], _result(rows.pop(key, {}), count, error, segments is not None, names[key]))
                if pending.count >= flush_every or (flush_seconds is not None and pending.age >= flush_seconds):
                    pending.flush()
    pending.flush()
    return len(todo)


def _video_name(item: Any) -> str:
    video = item["video"] if isinstance(item, dict) else item
    if not isinstance(video, str):
        raise TypeError(f"--engine ray reads videos by path or URL, got {type(video).__name__}")
    return video


def _result(rows: dict, count: int, error: str, segmented: bool, name: str) -> Any:
    """The `EncodeResult` of one video from its rows (in order), as the local engine gives it."""
    import torch

    from ..modeling_gve import EncodeResult, SkippedInput

    if error:
        return EncodeResult(embeddings=torch.empty(0, 0), indices=[], errors=[SkippedInput(0, name, error)])
    ordered = [rows[i] for i in range(count)]
    embeddings = torch.from_numpy(np.stack([vector for *_, vector in ordered]).copy())
    spans = [(start, end) for start, end, _ in ordered] if segmented else None
    return EncodeResult(embeddings=embeddings, indices=[0] * count, errors=[], spans=spans)


__all__ = ["fill_with_ray"]
