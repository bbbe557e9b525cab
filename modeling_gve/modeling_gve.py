# Copyright 2026 The GVE package authors. Apache-2.0.
"""GVE, the General Video Embedder: a Qwen2.5-VL backbone read out at one token.

Paper: "Towards Universal Video Retrieval" (Guo et al., arXiv 2510.27571).

Forward pass: Qwen2.5-VL (vision tower + merger + language model, 3-D M-RoPE) over the
GVE prompt; the embedding is the last-layer hidden state at the final attended token
(the ``<|endoftext|>`` that [`GVEProcessor`] appends), L2-normalised.
"""

from __future__ import annotations

import functools
import math
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping, Sequence

import torch
import torch.nn.functional as F
from transformers.modeling_outputs import ModelOutput
from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import Qwen2_5_VLModel, Qwen2_5_VLPreTrainedModel

from .configuration_gve import GVEConfig
from .processing_gve import GVEProcessor, LoadedItem, check_text, describe_item, input_errors, video_options
from .video import (
    GVEInputError,
    SampledSegment,
    check_decode_device,
    check_segment_options,
    describe,
    read_segments,
)

# Released GVE checkpoints are `Qwen2_5_VLForConditionalGeneration` saves from transformers
# 4.x (`model.layers.*`, `visual.*`); 5.x saves use `model.language_model.*`, `model.visual.*`.
# Both load into the same modules; `lm_head` is never read (GVE does not use it).
V4_KEY_MAPPING = {
    r"^visual\.": "model.visual.",
    r"^model\.(?!visual\.|language_model\.)": "model.language_model.",
}


@dataclass
class GVEModelOutput(ModelOutput):
    """
    Args:
        embeddings (`torch.FloatTensor` of shape `(batch_size, hidden_size)`):
            pooled embeddings, float32, L2-normalised if ``config.normalize_embeddings``.
        last_hidden_state (`torch.FloatTensor` of shape `(batch_size, sequence_length, hidden_size)`):
            the language model's last-layer hidden states.
    """

    embeddings: torch.FloatTensor | None = None
    last_hidden_state: torch.FloatTensor | None = None


@dataclass
class SkippedInput:
    """An input `encode(..., on_error="skip")` could not embed."""

    index: int
    input: str
    reason: str


@dataclass
class EncodeResult:
    """What `encode(..., on_error="skip")` returns.

    Attributes:
        embeddings (`torch.FloatTensor` of shape `(num_good, hidden_size)`): one row per good input.
        indices (`list[int]`): position in ``inputs`` of each row of ``embeddings``.
        errors (`list[SkippedInput]`): the inputs that were skipped, with the reason.
    """

    embeddings: torch.Tensor
    indices: list[int]
    errors: list[SkippedInput] = field(default_factory=list)
    spans: list[tuple[float, float]] | None = None  # (start, end) seconds of each row, for segment encoders


@dataclass
class Segment:
    """One segment of a video and its embedding.

    Attributes:
        start (`float`): seconds, the time of the segment's first frame.
        end (`float`): seconds, the time just after its last frame.
        embedding (`torch.FloatTensor` of shape `(hidden_size,)`).
    """

    start: float
    end: float
    embedding: torch.Tensor


@dataclass
class VideoSegments:
    """The segments of one video (`GVEModel.encode_segments`).

    Attributes:
        segments (`list[Segment]`): in time order.
        video_embedding (`torch.FloatTensor` of shape `(hidden_size,)`, *optional*): the whole-video
            vector (``include_video=True``), equal to ``encode([video])[0]``.
    """

    segments: list[Segment]
    video_embedding: torch.Tensor | None = None

    @property
    def embeddings(self) -> torch.Tensor:
        """`torch.FloatTensor` of shape `(num_segments, hidden_size)`."""
        return torch.stack([s.embedding for s in self.segments])

    @property
    def spans(self) -> list[tuple[float, float]]:
        """``(start, end)`` seconds of each segment."""
        return [(s.start, s.end) for s in self.segments]


@dataclass
class SegmentsResult:
    """What `encode_segments(..., on_error="skip")` returns.

    Attributes:
        videos (`list[VideoSegments]`): one per good video.
        indices (`list[int]`): position in ``videos`` of each of them.
        errors (`list[SkippedInput]`): the videos that were skipped, with the reason.
    """

    videos: list[VideoSegments]
    indices: list[int]
    errors: list[SkippedInput] = field(default_factory=list)


def pool_last_token(hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Hidden state at each row's last attended position (right or left padding).

    Args:
        hidden_states (`torch.Tensor` of shape `(batch_size, seq_len, hidden_size)`)
        attention_mask (`torch.Tensor` of shape `(batch_size, seq_len)`)

    Returns:
        `torch.Tensor` of shape `(batch_size, hidden_size)`.
    """
    seq_len = attention_mask.shape[1]
    last = seq_len - 1 - attention_mask.flip(-1).argmax(-1)  # (B,)
    return hidden_states[torch.arange(hidden_states.shape[0], device=hidden_states.device), last]


def to_model_inputs(
    batch: Mapping[str, torch.Tensor], device: torch.device | str, dtype: torch.dtype
) -> dict[str, torch.Tensor]:
    """The one cast of a collated batch (see `GVEModel.prepare_inputs`; a function too, for loops
    that hold a wrapped model): tensors on ``device``, floating ones in ``dtype`` except
    ``second_per_grid_ts``, kept float32."""
    return {
        key: value.to(device, dtype=torch.float32 if key == "second_per_grid_ts" else dtype)
        if value.is_floating_point()
        else value.to(device)
        for key, value in batch.items()
    }


class GVEPreTrainedModel(Qwen2_5_VLPreTrainedModel):
    config_class = GVEConfig
    config: GVEConfig
    base_model_prefix = "model"
    _keys_to_ignore_on_load_unexpected = [r"^lm_head\."]


class GVEModel(GVEPreTrainedModel):
    """The GVE embedder. ``forward`` maps processed inputs to embeddings; ``encode`` maps raw
    inputs (texts, images, videos, compositions) to embeddings, batching and reading media."""

    def __init__(self, config: GVEConfig):
        super().__init__(config)
        self.model = Qwen2_5_VLModel(config)
        self._processor: GVEProcessor | None = None
        self.post_init()

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *args, key_mapping: dict | None = None, **kwargs):
        """Load a GVE checkpoint: released (transformers 4.x or 5.x key names) or converted."""
        key_mapping = dict(V4_KEY_MAPPING) if key_mapping is None else key_mapping
        return super().from_pretrained(pretrained_model_name_or_path, *args, key_mapping=key_mapping, **kwargs)

    def get_input_embeddings(self) -> torch.nn.Module:
        return self.model.get_input_embeddings()

    def set_input_embeddings(self, value: torch.nn.Module) -> None:
        self.model.set_input_embeddings(value)

    # ------------------------------------------------------------------ forward

    def forward(
        self,
        input_ids: torch.LongTensor,
        attention_mask: torch.Tensor | None = None,
        mm_token_type_ids: torch.IntTensor | None = None,
        pixel_values: torch.Tensor | None = None,
        image_grid_thw: torch.LongTensor | None = None,
        pixel_values_videos: torch.Tensor | None = None,
        video_grid_thw: torch.LongTensor | None = None,
        second_per_grid_ts: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        **kwargs: Any,
    ) -> GVEModelOutput:
        r"""
        Args:
            input_ids (`torch.LongTensor` of shape `(batch_size, seq_len)`): GVE prompts ending in
                the appended ``<|endoftext|>`` (see [`GVEProcessor`]).
            attention_mask (`torch.Tensor` of shape `(batch_size, seq_len)`, *optional*): 1 for tokens,
                0 for padding (either side).
            mm_token_type_ids (`torch.IntTensor` of shape `(batch_size, seq_len)`, *optional*): 0 text,
                1 image, 2 video; derived from ``input_ids`` when absent.
            pixel_values (`torch.Tensor` of shape `(num_image_patches, patch_dim)`, *optional*)
            image_grid_thw (`torch.LongTensor` of shape `(num_images, 3)`, *optional*)
            pixel_values_videos (`torch.Tensor` of shape `(num_video_patches, patch_dim)`, *optional*)
            video_grid_thw (`torch.LongTensor` of shape `(num_videos, 3)`, *optional*)
            second_per_grid_ts (`torch.Tensor` of shape `(num_videos,)`, *optional*): seconds per
                temporal grid step, ``temporal_patch_size / sampled_fps``.
            position_ids (`torch.LongTensor` of shape `(3, batch_size, seq_len)`, *optional*): M-RoPE
                positions; computed from the above (padding-aware) when absent.
        """
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if mm_token_type_ids is None:
            mm_token_type_ids = torch.zeros_like(input_ids, dtype=torch.int)
            mm_token_type_ids[input_ids == self.config.image_token_id] = 1
            mm_token_type_ids[input_ids == self.config.video_token_id] = 2
        if position_ids is None:
            # Always explicit (also for text-only batches) so that padding, on either side,
            # never shifts a row's positions: batch composition cannot change an embedding.
            position_ids, _ = self.model.get_rope_index(
                input_ids,
                mm_token_type_ids=mm_token_type_ids,
                image_grid_thw=image_grid_thw,
                video_grid_thw=video_grid_thw,
                second_per_grid_ts=second_per_grid_ts,
                attention_mask=attention_mask,
            )
        outputs = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            pixel_values=pixel_values,
            image_grid_thw=image_grid_thw,
            pixel_values_videos=pixel_values_videos,
            video_grid_thw=video_grid_thw,
            second_per_grid_ts=second_per_grid_ts,
            mm_token_type_ids=mm_token_type_ids,
            use_cache=False,
            **kwargs,
        )
        hidden = outputs.last_hidden_state  # (B, L, D)
        pooled = pool_last_token(hidden, attention_mask).float()  # (B, D)
        if self.config.normalize_embeddings:
            pooled = F.normalize(pooled, p=2, dim=-1)
        return GVEModelOutput(embeddings=pooled, last_hidden_state=hidden)

    # ------------------------------------------------------------------ encode

    @property
    def processor(self) -> GVEProcessor:
        """The checkpoint's [`GVEProcessor`], loaded on first use from where the model came from."""
        if self._processor is None:
            source = self.config._name_or_path
            try:
                # Loaded as remote code means the folder's code is already trusted; installed
                # code resolves the checkpoint's auto_map locally and needs no trust.
                self._processor = GVEProcessor.from_pretrained(source, trust_remote_code=self.is_remote_code())
            except (OSError, ValueError, TypeError) as err:
                raise OSError(
                    f"Could not load a processor from {source!r} ({err}). Load one with "
                    "GVEProcessor.from_pretrained(...) and attach it: model.processor = processor."
                ) from err
        return self._processor

    @processor.setter
    def processor(self, processor: GVEProcessor) -> None:
        self._processor = processor

    @torch.inference_mode()
    def encode(
        self,
        inputs: Sequence[Any] | Any,
        instruction: str | None = None,
        batch_size: int = 8,
        *,
        on_error: Literal["raise", "skip"] = "raise",
        show_progress_bar: bool = False,
        num_workers: int | None = None,
        reader: Literal["threads", "processes"] = "threads",
        padding_side: Literal["right", "left"] = "right",
        **sampling: Any,
    ) -> torch.Tensor | EncodeResult:
        """Embed texts, images, videos and their combinations.

        Args:
            inputs: a list of items; each is a string (text), a PIL image, ``VideoFrames``, a
                torchcodec ``VideoDecoder``, or a dict with any of ``text``, ``image`` and ``video``
                (composed queries). A video is a path, bytes, a file object, a ``VideoDecoder``,
                ``VideoFrames(frames, fps)`` or ``{"frames": ..., "fps": ...}``; an image is a path,
                bytes or a PIL image. A single item is treated as a list of one.
            instruction: system-turn instruction (a UVRB task prompt for queries); default: the
                processor's candidate prompt ``"You are a helpful assistant."``.
            batch_size: items per forward pass (results do not depend on it).
            on_error: ``"raise"`` stops at the first bad input with a `GVEInputError` naming it;
                ``"skip"`` embeds the good inputs and returns an `EncodeResult` listing the rest.
            show_progress_bar: show a tqdm bar over batches.
            num_workers: workers reading and resizing media ahead of the model (0: inline, in this
                thread). Default (``None``): `default_num_workers` — 2 when any input holds an image
                or video and the machine has 2 or more cores, else 0 (measured in
                ``benchmarks/bench_decode.py``).
            reader: ``"threads"`` (default) or ``"processes"``: worker processes (a
                ``torch.utils.data.DataLoader``, in order, at most ``2 * batch_size`` items in flight)
                for machines whose decoding is bound by the Python interpreter; on platforms that
                start processes by spawning (macOS, Windows), inputs must be picklable.
            padding_side: ``"right"`` or ``"left"`` (results do not depend on it).
            sampling: per-call overrides of [`SamplingConfig`] (``max_frames=16``, ``fps=2.0``,
                ``video_max_pixels=...``, ``max_length=...``, ``decode_device="cuda"``).

        Returns:
            `torch.FloatTensor` of shape `(len(inputs), hidden_size)` (float32, on CPU), or an
            `EncodeResult` when ``on_error="skip"``.
        """
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        if isinstance(inputs, (str, dict)) or not isinstance(inputs, Sequence):
            inputs = [inputs]
        processor = self.processor
        config = processor.sampling_config(**sampling)
        if instruction is not None:  # an argument of the call, not of one input: never skipped
            check_text(instruction, "instruction", "the instruction")
        if num_workers is None:
            num_workers = default_num_workers(inputs)
        if reader == "processes" and num_workers > 0 and config.decode_device != "cpu":
            raise ValueError(
                f"decode_device={config.decode_device!r} decodes on the GPU, which reader processes cannot use "
                "(CUDA does not survive fork): use reader='threads'"
            )
        check_decode_device(config.decode_device)  # a missing GPU is the setup's fault, not an input's
        prepare = functools.partial(prepare_item, processor, instruction=instruction, sampling=config)

        from tqdm.auto import tqdm

        embeddings, indices, errors = [], [], []
        progress = tqdm(total=len(inputs), desc="Encoding", unit="item", disable=not show_progress_bar)
        batch: list[tuple[int, dict]] = []
        results = prefetch(prepare, inputs, num_workers=num_workers, ahead=2 * batch_size, reader=reader)
        for index, result in enumerate(results):
            if isinstance(result, GVEInputError):
                if on_error == "raise":
                    progress.close()
                    # the cause of an unforeseen failure (see processing_gve.input_errors) stays visible
                    raise GVEInputError(f"inputs[{index}] {result.input}", result.reason) from result.__cause__
                errors.append(SkippedInput(index=index, input=result.input, reason=result.reason))
                progress.update(1)
            else:
                batch.append((index, result))
            if len(batch) == batch_size or (index == len(inputs) - 1 and batch):
                embeddings.append(self._embed_features([f for _, f in batch], padding_side))
                indices.extend(i for i, _ in batch)
                progress.update(len(batch))
                batch = []
        progress.close()
        hidden_size = self.config.text_config.hidden_size
        stacked = torch.cat(embeddings) if embeddings else torch.empty(0, hidden_size)
        if on_error == "skip":
            return EncodeResult(embeddings=stacked, indices=indices, errors=errors)
        return stacked

    @torch.inference_mode()
    def encode_segments(
        self,
        videos: Sequence[Any] | Any,
        segment_seconds: float = 10.0,
        stride_seconds: float | None = None,
        *,
        segments: Literal["fixed", "shots"] = "fixed",
        instruction: str | None = None,
        batch_size: int = 8,
        include_video: bool = False,
        on_error: Literal["raise", "skip"] = "raise",
        show_progress_bar: bool = False,
        num_workers: int = 1,
        padding_side: Literal["right", "left"] = "right",
        **sampling: Any,
    ) -> list[VideoSegments] | SegmentsResult:
        """Embed each video by segments of ``segment_seconds``: per video, its segments with their
        ``start`` and ``end`` (seconds) and embedding, each segment embedded with GVE's protocol as
        if it were a video of its own (8 frames spread over the segment by default; the per-call
        ``sampling`` options apply to every segment).

        Segments start every ``stride_seconds`` (default: back to back) and the last one ends with
        the video, so it may be shorter; a video shorter than one segment is one segment, equal
        to the whole-video vector; a tail of fewer than 2 frames joins the segment before it; a
        ``segment_seconds`` shorter than 2 frames of a video is an error for that video (see
        `video.segment_windows`). Each video is read by one decoder, its frames in increasing order,
        and only segments in progress are held: memory does not grow with the video's length.

        Args:
            videos: a list of videos: paths, bytes, file objects, torchcodec ``VideoDecoder``s,
                ``VideoFrames``, ``{"frames": ..., "fps": ...}`` or ``{"video": ...}`` dicts (a bare
                string is a path here). A single video is treated as a list of one.
            segment_seconds, stride_seconds: segment length and the time between segment starts.
            segments: ``"fixed"`` (the windows above) or ``"shots"``: one segment per shot, cut where
                PySceneDetect's ``ContentDetector`` finds one (`video.shot_windows`; video files only;
                the ``scenedetect`` extra).
            instruction: system-turn instruction; default: the candidate prompt (segments are
                candidates).
            batch_size: segments per forward pass (results do not depend on it).
            include_video: also return each whole-video vector (``video_embedding``).
            on_error: ``"raise"`` stops at the first bad video with a `GVEInputError` naming it;
                ``"skip"`` returns a `SegmentsResult` listing the bad ones.
            show_progress_bar: a tqdm bar over videos.
            num_workers: threads reading videos ahead of the model, one video each (0: inline).
            padding_side, sampling: as for `encode`.

        Returns:
            a `VideoSegments` per video, or a `SegmentsResult` when ``on_error="skip"``.
        """
        if instruction is not None:
            check_text(instruction, "instruction", "the instruction")
        processor = self.processor
        config = processor.sampling_config(**sampling)
        check_decode_device(config.decode_device)  # a missing GPU is the setup's fault, not a video's

        def prepare(segment: SampledSegment, name: str) -> dict:
            item = LoadedItem(text=None, images=[], videos=[segment.video], name=name)
            return processor.tokenize_item(item, instruction, config)

        result = embed_segments(
            videos, segment_seconds, stride_seconds, segments=segments, sampling=config, prepare=prepare,
            embed=lambda features: self._embed_features(features, padding_side), include_video=include_video,
            batch_size=batch_size, on_error=on_error, num_workers=num_workers, show_progress_bar=show_progress_bar,
        )  # fmt: skip
        return result if on_error == "skip" else result.videos

    def prepare_inputs(
        self,
        batch: Mapping[str, torch.Tensor],
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> dict[str, torch.Tensor]:
        """A collated batch (`GVEProcessor.collate`) ready for `forward`: every tensor on ``device``,
        floating ones (``pixel_values``, ``pixel_values_videos``) in ``dtype``, and
        ``second_per_grid_ts`` ``(num_videos,)`` float32 whatever ``dtype`` is: it is a time that
        scales the temporal rotary positions, and bfloat16 would round it (5.0 s stays 5.0, but
        e.g. 2/3 s does not).

        Args:
            batch: tensors by `forward` argument name; shapes are kept.
            device: defaults to the model's device.
            dtype: defaults to the model's dtype (a training loop whose LoRA weights are float32
                over a bfloat16 base passes the base's).
        """
        return to_model_inputs(batch, self.device if device is None else device, self.dtype if dtype is None else dtype)

    def _embed_features(self, features: list[dict], padding_side: str) -> torch.Tensor:
        batch = self.processor.collate(features, padding_side=padding_side)
        return self(**self.prepare_inputs(batch)).embeddings.cpu()

    @staticmethod
    def similarity(queries: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
        """Cosine similarity of normalised embeddings: ``(num_queries, num_candidates)``."""
        return queries @ candidates.T


def prepare_item(processor: GVEProcessor, item: Any, *, instruction: str | None, sampling: Any) -> dict:
    """One raw input -> its unpadded model inputs: `GVEProcessor.load_item` (read and resize the
    media) then `GVEProcessor.tokenize_item`. The unit of work `encode` hands to reader workers."""
    return processor.tokenize_item(processor.load_item(item, sampling), instruction, sampling)


def _holds_media(item: Any) -> bool:
    if isinstance(item, str):
        return False
    if isinstance(item, Mapping):
        return item.get("image") is not None or item.get("video") is not None
    return True  # a PIL image, VideoFrames, a VideoDecoder (or a bad input, which fails either way)


def default_num_workers(inputs: Sequence[Any]) -> int:
    """Reader workers `encode` uses when ``num_workers`` is not given: reading ahead overlaps
    decoding with the model, which pays when inputs hold media. Measured on 2 cores
    (``benchmarks/bench_decode.py``, 720p GOP-250 H.264): 2 reader threads embed videos faster than
    inline reading, and cost nothing measurable on texts; more threads than cores do not help."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cores < 2 or not any(_holds_media(item) for item in inputs):
        return 0
    return 2


@dataclass
class _Failed:
    """A `GVEInputError` carried out of a reader process (the exception class keeps two fields
    that plain exception pickling would lose)."""

    input: str
    reason: str


class _PreparedItems(torch.utils.data.Dataset):
    """``fn`` over ``items`` as a map-style dataset, for `torch.utils.data.DataLoader` workers."""

    def __init__(self, fn: Callable[[Any], Any], items: Sequence[Any]):
        self.fn, self.items = fn, items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Any:
        try:
            return self.fn(self.items[index])
        except GVEInputError as err:
            return _Failed(err.input, err.reason)


def _keep(item: Any) -> Any:
    return item


def prefetch(
    fn: Callable[[Any], Any],
    items: Iterable[Any],
    num_workers: int,
    ahead: int,
    reader: Literal["threads", "processes"] = "threads",
) -> Iterator[Any]:
    """``fn`` over ``items`` in order, at most ``ahead`` items in flight on ``num_workers`` threads
    or processes; a `GVEInputError` is yielded in the item's place instead of raised.

    Processes are the workers of a `torch.utils.data.DataLoader` (``prefetch_factor`` bounds the
    queue; tensors come back through shared memory). A worker that dies or raises anything but a
    `GVEInputError` stops the iteration with the worker's error."""
    if reader not in ("threads", "processes"):
        raise ValueError(f"reader must be 'threads' or 'processes', got {reader!r}")

    def safe(item: Any) -> Any:
        try:
            return fn(item)
        except GVEInputError as err:
            return err

    if num_workers <= 0:
        yield from (safe(item) for item in items)
        return
    if reader == "processes":
        loader = torch.utils.data.DataLoader(
            _PreparedItems(fn, items if isinstance(items, Sequence) else list(items)),
            batch_size=None,
            num_workers=num_workers,
            prefetch_factor=max(1, math.ceil(ahead / num_workers)),
            collate_fn=_keep,
        )
        for result in loader:
            yield GVEInputError(result.input, result.reason) if isinstance(result, _Failed) else result
        return
    with ThreadPoolExecutor(max_workers=num_workers) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(safe, item))
            if len(pending) >= max(ahead, 1):
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()



def embed_segments(
    videos: Sequence[Any] | Any,
    segment_seconds: float,
    stride_seconds: float | None,
    *,
    segments: Literal["fixed", "shots"] = "fixed",
    sampling: Any,
    prepare: Callable[[SampledSegment, str], Any],
    embed: Callable[[list[Any]], torch.Tensor],
    include_video: bool = False,
    batch_size: int = 8,
    on_error: Literal["raise", "skip"] = "raise",
    num_workers: int = 1,
    show_progress_bar: bool = False,
) -> SegmentsResult:
    """The segment pipeline of `GVEModel.encode_segments`, for any embedder: each video's segments
    read by `read_segments` with the ``sampling`` settings (a `SamplingConfig`) in reader threads
    (`ordered_streams`), turned into model inputs by ``prepare(segment, video_name)`` there, and
    embedded ``batch_size`` at a time by ``embed(list_of_prepared) -> (n, hidden_size)``.

    Raises:
        ValueError: bad ``segment_seconds``, ``stride_seconds``, ``segments`` or ``on_error``, before
            any work.
        ImportError: ``segments="shots"`` without PySceneDetect, before any work.
        GVEInputError: a bad video, with ``on_error="raise"`` (named ``videos[i] ...``).
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    check_segment_options(segment_seconds, stride_seconds, segments)  # before any work
    if isinstance(videos, (str, bytes, Mapping)) or not isinstance(videos, Sequence):
        videos = [videos]
    options = dict(segment_seconds=segment_seconds, stride_seconds=stride_seconds, segments=segments,
                   include_video=include_video)  # fmt: skip

    def segments_of(video: Any) -> Iterator[Any]:
        """``[start, end, whole, prepared]`` per segment, or the video's `GVEInputError` last."""
        try:
            source, name = _video_source(video)
            with input_errors(name):
                for segment in read_segments(source, name=name, **options, **video_options(sampling)):
                    yield [segment.start, segment.end, segment.whole, prepare(segment, name)]
        except GVEInputError as err:
            yield err

    from tqdm.auto import tqdm

    rows: list[list[list]] = [[] for _ in videos]  # per video: [start, end, whole, prepared -> embedding]
    failed: dict[int, GVEInputError] = {}
    batch: list[list] = []
    progress = tqdm(total=len(videos), desc="Encoding segments", unit="video", disable=not show_progress_bar)
    for index, row in ordered_streams(segments_of, videos, num_workers=num_workers, ahead=2 * batch_size):
        progress.update(index - progress.n)
        if isinstance(row, GVEInputError):
            if on_error == "raise":
                progress.close()
                raise GVEInputError(f"videos[{index}] {row.input}", row.reason) from row.__cause__
            failed[index] = row
            continue
        rows[index].append(row)
        batch.append(row)
        if len(batch) == batch_size:
            _embed_batch(batch, embed)
            batch = []
    if batch:
        _embed_batch(batch, embed)
    progress.update(len(videos) - progress.n)
    progress.close()
    return _segments_result(rows, failed)


def _embed_batch(batch: list[list], embed: Callable[[list[Any]], torch.Tensor]) -> None:
    """Embed the prepared inputs of a batch of rows, replacing each by its embedding."""
    for row, embedding in zip(batch, embed([row[-1] for row in batch])):
        row[-1] = embedding


def _segments_result(rows: list[list[list]], failed: dict[int, GVEInputError]) -> SegmentsResult:
    videos, indices, errors = [], [], []
    for index, video_rows in enumerate(rows):
        if index in failed:  # its segments read before the failure are dropped with it
            errors.append(SkippedInput(index=index, input=failed[index].input, reason=failed[index].reason))
            continue
        segments = [Segment(start, end, embedding) for start, end, whole, embedding in video_rows if not whole]
        whole = [embedding for *_, is_whole, embedding in video_rows if is_whole]
        videos.append(VideoSegments(segments=segments, video_embedding=whole[0] if whole else None))
        indices.append(index)
    return SegmentsResult(videos=videos, indices=indices, errors=errors)


def _video_source(video: Any) -> tuple[Any, str]:
    """What `encode_segments` reads for one of its inputs, and its name: a ``{"video": v}`` dict is
    ``v``; an input holding text or an image is refused (segments are of a video)."""
    if isinstance(video, Mapping) and "frames" not in video:
        extra = sorted(str(k) for k in video if k != "video")
        if extra or "video" not in video:
            name = describe_item(video)
            raise GVEInputError(name, f"encode_segments takes videos; this input holds {', '.join(extra) or 'no video'}")
        video = video["video"]
        if isinstance(video, (list, tuple)):
            raise GVEInputError(describe(video), "encode_segments takes one video per input, got a list")
    return video, describe(video)


@dataclass
class _Crash:
    """An unexpected exception in a reader thread, re-raised by the consumer."""

    error: BaseException


def ordered_streams(
    make: Callable[[Any], Iterable[Any]], items: Sequence[Any], num_workers: int, ahead: int
) -> Iterator[tuple[int, Any]]:
    """``(i, value)`` for each value of ``make(items[i])``, items in order. With ``num_workers`` > 0,
    that many items are produced at once, each in its own thread and at most ``ahead`` values
    ahead of the consumer: memory is bounded whatever the length of one item's stream (the
    segments of a long video). An exception in ``make`` is raised here; leaving the loop early
    stops the threads."""
    if num_workers <= 0:
        for index, item in enumerate(items):
            yield from ((index, value) for value in make(item))
        return
    import queue
    import threading

    stop, done = threading.Event(), object()

    def put(box: queue.Queue, value: Any) -> bool:
        while not stop.is_set():
            try:
                box.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce(item: Any, box: queue.Queue) -> None:
        try:
            for value in make(item):
                if not put(box, value):
                    return
        except BaseException as err:  # noqa: BLE001 - handed to the consumer, which raises it
            put(box, _Crash(err))
        put(box, done)

    boxes: dict[int, queue.Queue] = {}
    threads: list[threading.Thread] = []

    def start(index: int) -> None:
        boxes[index] = queue.Queue(maxsize=max(1, ahead))
        thread = threading.Thread(target=produce, args=(items[index], boxes[index]), daemon=True)
        thread.start()
        threads.append(thread)

    try:
        for index in range(min(num_workers, len(items))):
            start(index)
        for index in range(len(items)):
            box = boxes.pop(index)
            while (value := box.get()) is not done:
                if isinstance(value, _Crash):
                    raise value.error
                yield index, value
            if index + num_workers < len(items):
                start(index + num_workers)
    finally:
        stop.set()
        for thread in threads:
            thread.join()


__all__ = [
    "EncodeResult",
    "GVEModel",
    "GVEModelOutput",
    "GVEPreTrainedModel",
    "Segment",
    "SegmentsResult",
    "SkippedInput",
    "VideoSegments",
    "default_num_workers",
    "embed_segments",
    "ordered_streams",
    "pool_last_token",
    "prepare_item",
    "to_model_inputs",
]
