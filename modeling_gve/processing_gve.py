# Copyright 2026 The GVE package authors. Apache-2.0.
"""GVE processor: the prompt template and the path from user inputs to model tensors.

One input item (text, image, video, or a composition of them) becomes::

    <|im_start|>system\\n{instruction}<|im_end|>\\n<|im_start|>user\\n{videos}{images}{text}<|im_end|>\\n<|im_start|>assistant\\n<|endoftext|>

where each video is ``<|vision_start|><|video_pad|><|vision_end|>`` (expanded to its
tokens by the Qwen2.5-VL processor) and likewise for images. The trailing
``<|endoftext|>`` is appended after the generation prompt; the model pools the hidden
state at that token. Queries carry a task instruction; candidates use the default.
"""

from __future__ import annotations

import dataclasses
import difflib
import numbers
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Literal, Mapping, Sequence

import torch
from PIL import Image
from transformers.feature_extraction_utils import BatchFeature
from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor

from .video import (
    DEFAULT_FPS,
    DEFAULT_IMAGE_MAX_PIXELS,
    DEFAULT_IMAGE_MIN_PIXELS,
    DEFAULT_MAX_FRAMES,
    DEFAULT_MAX_SOURCE_PIXELS,
    DEFAULT_MAX_TOTAL_PIXELS,
    DEFAULT_MIN_FRAMES,
    DEFAULT_NUM_THREADS,
    DEFAULT_SEEK_MODE,
    DEFAULT_VIDEO_MAX_PIXELS,
    DEFAULT_VIDEO_MIN_PIXELS,
    FRAME_FACTOR,
    GVEInputError,
    SampledVideo,
    VideoFrames,
    describe,
    read_image,
    read_video,
)

DEFAULT_INSTRUCTION = "You are a helpful assistant."
EMBED_TOKEN = "<|endoftext|>"
IMAGE_PLACEHOLDER = "<|vision_start|><|image_pad|><|vision_end|>"
VIDEO_PLACEHOLDER = "<|vision_start|><|video_pad|><|vision_end|>"
ITEM_KEYS = ("text", "image", "video")


def format_prompt(instruction: str, text: str | None, num_images: int = 0, num_videos: int = 0) -> str:
    """The GVE prompt for one item, without the appended embedding token.

    User content order is video(s), image(s), then text, as GVE was trained. This equals
    Qwen2.5-VL's chat template with ``add_generation_prompt=True`` for the messages
    ``[{"role": "system", "content": instruction}, {"role": "user", "content": [...]}]``.
    """
    user = VIDEO_PLACEHOLDER * num_videos + IMAGE_PLACEHOLDER * num_images + (text or "")
    return f"<|im_start|>system\n{instruction}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


def did_you_mean(name: Any, valid: Iterable[Any], cutoff: float = 0.6) -> str:
    """The tail of every "unknown name" error of the package: ``"; did you mean 'x'?"`` for the
    entry of ``valid`` closest to ``name`` (a case-insensitive match first, then `difflib` with
    ``cutoff``), or ``"."`` when none is close.

    It lives here because this file is copied into checkpoints as remote code: the other
    remote-code files import it relatively and the rest of the package from here.

    >>> "Unknown option 'max_frame'" + did_you_mean("max_frame", ["max_frames", "fps"])
    "Unknown option 'max_frame'; did you mean 'max_frames'?"
    """
    valid = [str(v) for v in valid]
    hint = {v.lower(): v for v in valid}.get(str(name).lower())
    if hint is None:
        close = difflib.get_close_matches(str(name), valid, n=1, cutoff=cutoff)
        hint = close[0] if close else None
    return f"; did you mean {hint!r}?" if hint else "."


@dataclass(frozen=True)
class SamplingConfig:
    """Preprocessing settings; the defaults are GVE's inference protocol (paper §4.1, §A.8), whose
    values live in `video.py` (``DEFAULT_*``), next to the reader that applies them.

    Args:
        fps (`float`, defaults to 1.0): target sampling rate before the frame-count clamp.
        min_frames (`int`, defaults to 32): lower clamp of the frame count (applied before ``max_frames``,
            so it may exceed it).
        max_frames (`int`, defaults to 8): upper clamp; with the defaults every video gives exactly
            8 frames (fewer only if it has fewer), spread uniformly over its whole length.
        num_frames (`int`, *optional*): take exactly this many frames instead of the fps rule.
        video_min_pixels / video_max_pixels (`int`): per-frame area bounds, 128*28*28 and 200*28*28
            (like the reference, frames never exceed 768*28*28 pixels whatever the upper bound).
        image_min_pixels / image_max_pixels (`int`): image area bounds, 4*28*28 and 256*28*28.
        max_total_pixels (`int`): whole-video pixel budget shared by the frames (reference default).
        max_source_pixels (`int`, *optional*): refuse source frames/images larger than this.
        max_length (`int`, defaults to 8192): token cap; longer prompts are cut to ``max_length - 1``
            tokens and the embedding token appended (cutting into visual tokens is an error).
        seek_mode (`"exact"` or `"approximate"`): torchcodec seek mode.
        num_threads (`int`, defaults to 1): FFmpeg threads per video (0: FFmpeg decides).

    Raises:
        ValueError: on creation, for a value of the wrong type or out of range, naming the option.
    """

    fps: float = DEFAULT_FPS
    min_frames: int = DEFAULT_MIN_FRAMES
    max_frames: int = DEFAULT_MAX_FRAMES
    num_frames: int | None = None
    video_min_pixels: int = DEFAULT_VIDEO_MIN_PIXELS
    video_max_pixels: int = DEFAULT_VIDEO_MAX_PIXELS
    image_min_pixels: int = DEFAULT_IMAGE_MIN_PIXELS
    image_max_pixels: int = DEFAULT_IMAGE_MAX_PIXELS
    max_total_pixels: int = DEFAULT_MAX_TOTAL_PIXELS
    max_source_pixels: int | None = DEFAULT_MAX_SOURCE_PIXELS
    max_length: int = 8192
    seek_mode: Literal["exact", "approximate"] = DEFAULT_SEEK_MODE
    num_threads: int = DEFAULT_NUM_THREADS

    # option -> (smallest allowed value, whether None is allowed); all are integers except fps.
    _LIMITS: ClassVar[dict[str, tuple[int, bool]]] = {
        "min_frames": (1, False),
        "max_frames": (FRAME_FACTOR, False),  # fewer would floor to 0 frames for every video
        "num_frames": (FRAME_FACTOR, True),
        "video_min_pixels": (1, False),
        "video_max_pixels": (1, False),
        "image_min_pixels": (1, False),
        "image_max_pixels": (1, False),
        "max_total_pixels": (1, False),
        "max_source_pixels": (1, True),
        "max_length": (2, False),  # at least one token plus the appended embedding token
        "num_threads": (0, False),
    }

    def __post_init__(self) -> None:
        # Checked here, not per video: a bad value would otherwise fail on every input and be
        # blamed on the input (and cached as a failed input by on_error="skip" jobs).
        def fail(name: str, expected: str) -> None:
            raise ValueError(f"Sampling option {name} must be {expected}, got {getattr(self, name)!r}.")

        if isinstance(self.fps, bool) or not isinstance(self.fps, numbers.Real) or not self.fps > 0:
            fail("fps", "a positive number")
        for name, (low, optional) in self._LIMITS.items():
            value = getattr(self, name)
            if value is None and optional:
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
                fail(name, f"an integer >= {low}" + (" or None" if optional else ""))
        for kind in ("video", "image"):
            low, high = getattr(self, f"{kind}_min_pixels"), getattr(self, f"{kind}_max_pixels")
            if low > high:
                raise ValueError(
                    f"Sampling option {kind}_min_pixels ({low}) must not exceed {kind}_max_pixels ({high})."
                )
        if self.seek_mode not in ("exact", "approximate"):
            fail("seek_mode", "'exact' or 'approximate'")

    def replace(self, **overrides: Any) -> "SamplingConfig":
        """A copy with ``overrides`` applied; unknown names fail with a suggestion (`TypeError`),
        bad values with the option named (`ValueError`)."""
        names = [f.name for f in dataclasses.fields(self)]
        for key in overrides:
            if key not in names:
                raise TypeError(
                    f"Unknown sampling option {key!r}{did_you_mean(key, names)} Valid options: {', '.join(names)}."
                )
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class ParsedItem:
    """One input split by modality, media not yet read."""

    text: str | None
    images: list
    videos: list
    name: str


@dataclass
class LoadedItem:
    """One input with its media read and resized: what the tokenizer step needs."""

    text: str | None
    images: list[Image.Image]
    videos: list[SampledVideo]
    name: str


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def describe_item(item: Any) -> str:
    """A short name for one input (any input, also an invalid one), used in errors and reports:
    text as its first 60 characters, media as `describe` names them, a dict as its parts
    (``{video=clip.mp4, text='a dog...'}``). Never the whole input: a long text or a frame array
    is not copied into a message."""
    if isinstance(item, str):
        return repr(item[:60])
    if not isinstance(item, Mapping):
        return describe(item)
    videos = _as_list(item["video"]) if item.get("video") is not None else []
    images = _as_list(item["image"]) if item.get("image") is not None else []
    parts = [f"video={describe(v)}" for v in videos] + [f"image={describe(i)}" for i in images]
    text = item.get("text")
    if isinstance(text, str):
        parts.append(f"text={text[:40]!r}")
    elif text is not None:
        parts.append(f"text=<{type(text).__name__}>")
    return "{" + ", ".join(parts) + "}"


def parse_item(item: Any) -> ParsedItem:
    """Dispatch one input by modality (the single place that decides what an input is).

    Accepted: a ``str`` (text); a PIL image (image); ``VideoFrames`` or a torchcodec
    ``VideoDecoder`` (video); or a dict with any of ``text``, ``image`` (one or a list) and
    ``video`` (one or a list), for composed inputs. A bare path string is text: wrap media
    paths as ``{"image": path}`` / ``{"video": path}``.
    """
    if isinstance(item, str):
        parsed = ParsedItem(text=item, images=[], videos=[], name=describe_item(item))
    elif isinstance(item, Image.Image):
        parsed = ParsedItem(text=None, images=[item], videos=[], name=describe_item(item))
    elif isinstance(item, (VideoFrames, SampledVideo)) or type(item).__name__ == "VideoDecoder":
        parsed = ParsedItem(text=None, images=[], videos=[item], name=describe_item(item))
    elif isinstance(item, Mapping):
        unknown = [k for k in item if k not in ITEM_KEYS]
        if unknown:
            raise GVEInputError(
                f"<dict with keys {sorted(item)}>",
                f"unknown key(s) {unknown}; an input dict may hold {', '.join(ITEM_KEYS)}",
            )
        text = item.get("text")
        if text is not None and not isinstance(text, str):
            raise GVEInputError(f"<text of type {type(text).__name__}>", "text must be a string")
        images = _as_list(item["image"]) if item.get("image") is not None else []
        videos = _as_list(item["video"]) if item.get("video") is not None else []
        parsed = ParsedItem(text=text, images=images, videos=videos, name=describe_item(item))
    else:
        raise GVEInputError(
            describe(item),
            "unsupported input; pass a string (text), a PIL image, VideoFrames, a VideoDecoder, "
            'or a dict like {"text": ..., "image": ..., "video": ...}',
        )
    if parsed.text is not None and not parsed.text.strip():
        raise GVEInputError(parsed.name, "text is empty; give non-empty text or leave the 'text' key out")
    if parsed.text is None and not parsed.images and not parsed.videos:
        raise GVEInputError(parsed.name, "input has no text, image or video")
    return parsed


def read_item(item: Any, sampling: SamplingConfig) -> LoadedItem:
    """Parse one input (`parse_item`) and read its media with the ``sampling`` settings: the one
    place that turns a `SamplingConfig` into `read_image` / `read_video` arguments (used by
    `GVEProcessor.load_item`, and by encoders that hand GVE's frames to another model).

    Raises:
        GVEInputError: an unsupported input or unreadable media.
    """
    parsed = parse_item(item)
    images = [
        read_image(
            image,
            min_pixels=sampling.image_min_pixels,
            max_pixels=sampling.image_max_pixels,
            max_source_pixels=sampling.max_source_pixels,
        )
        for image in parsed.images
    ]
    videos = [
        read_video(
            video,
            fps=sampling.fps,
            min_frames=sampling.min_frames,
            max_frames=sampling.max_frames,
            num_frames=sampling.num_frames,
            min_pixels=sampling.video_min_pixels,
            max_pixels=sampling.video_max_pixels,
            max_total_pixels=sampling.max_total_pixels,
            max_source_pixels=sampling.max_source_pixels,
            seek_mode=sampling.seek_mode,
            num_threads=sampling.num_threads,
        )
        for video in parsed.videos
    ]
    return LoadedItem(text=parsed.text, images=images, videos=videos, name=parsed.name)


class GVEProcessor(Qwen2_5_VLProcessor):
    r"""
    Turns GVE inputs (text, images, videos and their combinations) into [`GVEModel`] inputs,
    exactly as GVE was trained: reference frame sampling and resizing (see `video.py`), the
    GVE prompt (`format_prompt`), the appended ``<|endoftext|>``, and ``mm_token_type_ids`` /
    ``second_per_grid_ts`` for Qwen2.5-VL's 3-D rotary positions.

    Args:
        image_processor, tokenizer, video_processor, chat_template:
            as for [`Qwen2_5_VLProcessor`].
        sampling (`dict`, *optional*): overrides of [`SamplingConfig`]'s defaults, saved with
            the processor so that preprocessing travels with the weights.
        instruction (`str`, *optional*, defaults to ``"You are a helpful assistant."``):
            the system-turn instruction used when a call gives none (the candidate prompt).
    """

    def __init__(
        self,
        image_processor=None,
        tokenizer=None,
        video_processor=None,
        chat_template=None,
        sampling: dict | None = None,
        instruction: str = DEFAULT_INSTRUCTION,
        **kwargs,
    ):
        super().__init__(image_processor, tokenizer, video_processor, chat_template=chat_template, **kwargs)
        self.sampling = SamplingConfig().replace(**(sampling or {})).to_dict()
        self.instruction = instruction
        self.embed_token_id = tokenizer.convert_tokens_to_ids(EMBED_TOKEN)
        self.vision_token_ids = {
            tokenizer.convert_tokens_to_ids(t)
            for t in ("<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>")
        }

    def sampling_config(self, **overrides: Any) -> SamplingConfig:
        """The saved sampling settings with per-call ``overrides`` applied."""
        return SamplingConfig(**self.sampling).replace(**overrides)

    # ------------------------------------------------------------------ step 1: media

    def load_item(self, item: Any, sampling: SamplingConfig) -> LoadedItem:
        """Parse one input and read its media (the I/O-bound step; safe to run in threads)."""
        return read_item(item, sampling)

    # ------------------------------------------------------------------ step 2: tokens

    def tokenize_item(self, item: LoadedItem, instruction: str | None, sampling: SamplingConfig) -> dict:
        """One loaded item -> unpadded model inputs (``input_ids`` of shape ``(seq_len,)`` etc.)."""
        prompt = format_prompt(
            instruction if instruction is not None else self.instruction,
            item.text,
            num_images=len(item.images),
            num_videos=len(item.videos),
        )
        out = super().__call__(
            text=[prompt],
            images=item.images or None,
            videos=[v.frames for v in item.videos] or None,
            video_metadata=[v.metadata for v in item.videos] or None,
            do_resize=False,  # frames and images are already resized by the reference rule
            do_sample_frames=False,
            cap_pixels_per_frame=False,  # the reference pixel budget is applied in read_video
            return_tensors="pt",
        )
        input_ids = out["input_ids"][0]
        mm_token_type_ids = out["mm_token_type_ids"][0]
        keep = sampling.max_length - 1
        if input_ids.shape[0] > keep:
            cut = input_ids[keep:]
            if any(int(t) in self.vision_token_ids for t in cut.unique()):
                raise GVEInputError(
                    item.name,
                    f"needs {input_ids.shape[0] + 1} tokens, more than max_length={sampling.max_length}, and its "
                    "visual tokens would be cut; raise max_length or lower max_frames / video_max_pixels",
                )
            input_ids, mm_token_type_ids = input_ids[:keep], mm_token_type_ids[:keep]
        features = {
            "input_ids": torch.cat([input_ids, input_ids.new_tensor([self.embed_token_id])]),
            "mm_token_type_ids": torch.cat([mm_token_type_ids, mm_token_type_ids.new_zeros(1)]),
        }
        for key in ("pixel_values", "image_grid_thw", "pixel_values_videos", "video_grid_thw", "second_per_grid_ts"):
            if key in out and out[key] is not None:
                features[key] = torch.as_tensor(out[key])
        return features

    # ------------------------------------------------------------------ step 3: batch

    def collate(self, features: Sequence[dict], padding_side: Literal["right", "left"] = "right") -> BatchFeature:
        """Pad unpadded items into one batch.

        Returns:
            `BatchFeature` with ``input_ids``, ``attention_mask``, ``mm_token_type_ids`` of shape
            ``(batch_size, max_len)`` and, where present, ``pixel_values`` ``(num_patches, patch_dim)``,
            ``image_grid_thw`` ``(num_images, 3)``, ``pixel_values_videos``, ``video_grid_thw``
            ``(num_videos, 3)``, ``second_per_grid_ts`` ``(num_videos,)``.
        """
        if padding_side not in ("right", "left"):
            raise ValueError(f"padding_side must be 'right' or 'left', got {padding_side!r}")
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.embed_token_id
        max_len = max(f["input_ids"].shape[0] for f in features)
        batch = {k: [] for k in ("input_ids", "attention_mask", "mm_token_type_ids")}
        for f in features:
            n = f["input_ids"].shape[0]
            pad = max_len - n
            parts = {
                "input_ids": (f["input_ids"], torch.full((pad,), pad_id, dtype=f["input_ids"].dtype)),
                "attention_mask": (torch.ones(n, dtype=torch.long), torch.zeros(pad, dtype=torch.long)),
                "mm_token_type_ids": (f["mm_token_type_ids"], f["mm_token_type_ids"].new_zeros(pad)),
            }
            for key, (value, padding) in parts.items():
                batch[key].append(torch.cat([value, padding] if padding_side == "right" else [padding, value]))
        data = {k: torch.stack(v) for k, v in batch.items()}
        for key in ("pixel_values", "image_grid_thw", "pixel_values_videos", "video_grid_thw", "second_per_grid_ts"):
            values = [f[key] for f in features if key in f]
            if values:
                data[key] = torch.cat(values)
        return BatchFeature(data=data)

    def process(
        self,
        inputs: Iterable[Any],
        instruction: str | None = None,
        padding_side: Literal["right", "left"] = "right",
        **sampling: Any,
    ) -> BatchFeature:
        """Inputs -> one padded batch for [`GVEModel`] (raises `GVEInputError` on a bad item)."""
        config = self.sampling_config(**sampling)
        features = [self.tokenize_item(self.load_item(x, config), instruction, config) for x in inputs]
        if not features:
            raise ValueError("inputs is empty")
        return self.collate(features, padding_side=padding_side)


__all__ = [
    "GVEProcessor",
    "SamplingConfig",
    "describe_item",
    "did_you_mean",
    "format_prompt",
    "parse_item",
    "read_item",
    "DEFAULT_INSTRUCTION",
    "EMBED_TOKEN",
]
