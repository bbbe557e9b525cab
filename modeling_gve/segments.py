# Copyright 2026 The GVE package authors. Apache-2.0.
"""Segment embeddings for any embedder, and segments as the rows of a cache.

- `encode_segments(model, videos, segment_seconds=10.0, ...)`: per video, its segments (``start``,
  ``end`` seconds, ``embedding``) for a `GVEModel` (its own `GVEModel.encode_segments`), a GVE
  checkpoint loaded as a ``SentenceTransformer``, any other ``SentenceTransformer`` that takes
  video, or an encoder of `modeling_gve.encoders`. GVE's reader cuts and samples every segment
  (`video.read_segments`: one decoder per video, frames read in order), so each model embeds
  the same frames; a GVE checkpoint gives the same vectors on both paths.
- `SegmentEncoder(encoder, segment_seconds)`: an `Encoder` whose rows are the segments of each
  input video (``indices`` repeat, ``spans`` give the times). `encoders.CachedEncoder` caches it
  as it caches whole videos, so ``gve index --segment-seconds`` and ``gve search`` are
  incremental and resumable with the same keys (`embedding_cache.item_key`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch

from .encoders import GVEEncoder, Role, SentenceTransformerEncoder, st_video
from .modeling_gve import EncodeResult, SegmentsResult, VideoSegments, embed_segments
from .video import SHOT_DETECTOR, GVEInputError, SampledSegment, VideoFrames, check_segment_options


def encode_segments(
    model: Any,
    videos: Sequence[Any] | Any,
    segment_seconds: float = 10.0,
    stride_seconds: float | None = None,
    *,
    segments: Literal["fixed", "shots"] = "fixed",
    instruction: str | None = None,
    batch_size: int = 8,
    include_video: bool = False,
    on_error: Literal["raise", "skip"] = "raise",
    num_workers: int = 1,
    show_progress_bar: bool = False,
    **sampling: Any,
) -> list[VideoSegments] | SegmentsResult:
    """`GVEModel.encode_segments` for any model (see the module docstring).

    Args:
        model: a `GVEModel`, a ``SentenceTransformer`` (a GVE checkpoint, or any model that takes
            video), a `GVEEncoder` or a `SentenceTransformerEncoder`.
        instruction: the prompt; default: the model's document prompt (segments are candidates).
        sampling: overrides of GVE's sampling settings (``max_frames=16``...): for a GVE checkpoint
            on top of its saved ones, for another model on top of GVE's protocol.
        the rest: as for `GVEModel.encode_segments`.

    Returns:
        a `VideoSegments` per video, or a `SegmentsResult` when ``on_error="skip"``.
    """
    options = {
        "segments": segments, "instruction": instruction, "batch_size": batch_size, "include_video": include_video,
        "on_error": on_error, "num_workers": num_workers, "show_progress_bar": show_progress_bar,
    }  # fmt: skip
    if isinstance(model, GVEEncoder):
        return model.model.encode_segments(videos, segment_seconds, stride_seconds, **options, **model.sampling, **sampling)
    if callable(getattr(model, "encode_segments", None)):  # a GVEModel (also a remote-code copy of the class)
        return model.encode_segments(videos, segment_seconds, stride_seconds, **options, **sampling)
    if not isinstance(model, SentenceTransformerEncoder):
        name = getattr(model, "model_card_data", None) and model.model_card_data.base_model
        model = SentenceTransformerEncoder(model, str(name or type(model).__name__), sampling=sampling)
    elif sampling:
        raise TypeError(f"set sampling options when creating the encoder, not per call: {sorted(sampling)}")
    return _sentence_transformer_segments(model, videos, segment_seconds, stride_seconds, **options)


def _sentence_transformer_segments(
    encoder: SentenceTransformerEncoder,
    videos: Sequence[Any] | Any,
    segment_seconds: float,
    stride_seconds: float | None,
    *,
    instruction: str | None,
    on_error: Literal["raise", "skip"],
    **options: Any,
) -> list[VideoSegments] | SegmentsResult:
    """Segments cut and sampled by GVE's reader, embedded by a ``SentenceTransformer``: a GVE
    module gets each segment's frames as decoded frames at the sampled rate (it samples and resizes
    them again, which keeps them as they are), another model sentence-transformers' video dict."""
    prompt = instruction if instruction is not None else encoder.instruction_for("document", None)
    if encoder.gve_module is not None:

        def prepare(segment: SampledSegment, name: str) -> Any:
            return {"video": VideoFrames(segment.video.frames, fps=segment.video.sampled_fps, layout="TCHW")}

        extra = encoder.sampling  # the module applies the overrides itself, as `SentenceTransformerEncoder` does
    else:

        def prepare(segment: SampledSegment, name: str) -> Any:
            return st_video(segment.video)

        extra = {}

    def embed(items: list[Any]) -> torch.Tensor:
        return encoder._st_encode(items, prompt, len(items), **extra)

    result = embed_segments(
        videos, segment_seconds, stride_seconds, sampling=encoder.sampling_config, prepare=prepare, embed=embed,
        on_error=on_error, **options,
    )  # fmt: skip
    return result if on_error == "skip" else result.videos


class SegmentEncoder:
    """An `Encoder` whose inputs are videos and whose rows are their segments.

    Its `EncodeResult` has one row per segment: ``indices`` repeat (the input of each row) and
    ``spans`` give each row's ``(start, end)`` seconds. Its ``cache_settings`` are the wrapped
    encoder's plus the segment settings, so `CachedEncoder` keeps segment rows in a namespace of
    their own.

    Args:
        encoder: a `GVEEncoder` or a `SentenceTransformerEncoder`.
        segment_seconds, stride_seconds, segments: as for `GVEModel.encode_segments` (with
            ``segments="shots"`` the first two are not used).
    """

    def __init__(
        self,
        encoder: Any,
        segment_seconds: float = 10.0,
        stride_seconds: float | None = None,
        segments: Literal["fixed", "shots"] = "fixed",
    ):
        check_segment_options(segment_seconds, stride_seconds, segments)  # now, not at the first video
        self.encoder, self.kind = encoder, segments
        self.segment_seconds, self.stride_seconds = float(segment_seconds), stride_seconds
        self.dimension: int = encoder.dimension
        self.config = getattr(encoder, "config", None)

    @property
    def segments(self) -> dict:
        """The segment settings, as recorded with the vectors: ``{"seconds", "stride"}`` for fixed
        windows, ``{"shots": detector}`` for shots."""
        if self.kind == "shots":
            return {"shots": SHOT_DETECTOR}
        return {"seconds": self.segment_seconds, "stride": self.stride_seconds or self.segment_seconds}

    @property
    def read_options(self) -> dict:
        """The `video.read_segments` options that cut these segments."""
        return {"segment_seconds": self.segment_seconds, "stride_seconds": self.stride_seconds, "segments": self.kind}

    def instruction_for(self, role: Role, instruction: str | None) -> str | None:
        return self.encoder.instruction_for(role, instruction)

    def cache_settings(self, instruction: str | None) -> dict:
        return {**self.encoder.cache_settings(instruction), "segments": self.segments}

    def describe(self) -> dict:
        return {**self.encoder.describe(), "segments": self.segments}

    def encode(
        self, inputs: Sequence[Any], instruction: str | None = None, batch_size: int = 8, *, role: Role = "document",
        on_error: Literal["raise", "skip"] = "skip", num_workers: int | None = 1, show_progress_bar: bool = False,
    ) -> EncodeResult:  # fmt: skip
        """The segments of each input video (a video, or ``{"video": v}``), one row each."""
        result = encode_segments(
            self.encoder, inputs, self.segment_seconds, self.stride_seconds, segments=self.kind,
            instruction=self.instruction_for(role, instruction), batch_size=batch_size, on_error="skip",
            num_workers=1 if num_workers is None else num_workers, show_progress_bar=show_progress_bar,
        )  # fmt: skip
        if on_error == "raise" and result.errors:
            error = result.errors[0]
            raise GVEInputError(f"inputs[{error.index}] {error.input}", error.reason)
        indices = [i for i, video in zip(result.indices, result.videos) for _ in video.segments]
        spans = [span for video in result.videos for span in video.spans]
        chunks = [video.embeddings for video in result.videos]
        embeddings = torch.cat(chunks) if chunks else torch.empty(0, self.dimension)
        return EncodeResult(embeddings=embeddings, indices=indices, errors=result.errors, spans=spans)


__all__ = ["SegmentEncoder", "encode_segments"]
