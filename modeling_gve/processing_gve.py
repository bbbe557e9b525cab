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

import contextlib
import dataclasses
import difflib
import json
import numbers
import unicodedata
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Iterator, Literal, Mapping, Sequence

import regex
import torch
from PIL import Image
from transformers.feature_extraction_utils import BatchFeature
from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor

from .video import (
    DEFAULT_CAP_PIXELS_PER_FRAME,
    DEFAULT_DECODE_DEVICE,
    DEFAULT_FPS,
    DEFAULT_IMAGE_MAX_PIXELS,
    DEFAULT_IMAGE_MIN_PIXELS,
    DEFAULT_IMAGE_READER,
    DEFAULT_MAX_FRAMES,
    DEFAULT_MAX_SOURCE_PIXELS,
    DEFAULT_MAX_TOTAL_PIXELS,
    DEFAULT_MIN_FRAMES,
    DEFAULT_NUM_THREADS,
    DEFAULT_SEEK_MODE,
    DEFAULT_VIDEO_MAX_PIXELS,
    DEFAULT_VIDEO_MIN_PIXELS,
    FRAME_FACTOR,
    IMAGE_READERS,
    GVEInputError,
    SampledVideo,
    VideoFrames,
    describe,
    read_image,
    read_video,
    valid_decode_device,
)

DEFAULT_INSTRUCTION = "You are a helpful assistant."
EMBED_TOKEN = "<|endoftext|>"
IMAGE_PLACEHOLDER = "<|vision_start|><|image_pad|><|vision_end|>"
VIDEO_PLACEHOLDER = "<|vision_start|><|video_pad|><|vision_end|>"
ITEM_KEYS = ("text", "image", "video")


def prompt_parts(
    instruction: str, text: str | None, num_images: int = 0, num_videos: int = 0
) -> list[tuple[str, str]]:
    """The GVE prompt for one item as ``(kind, piece)`` pairs, in order: ``"control"`` pieces are the
    template's special tokens, ``"text"`` pieces plain text (role names, newlines, the instruction,
    the user's text), the ``"visual"`` piece the media placeholders (``""`` without media).

    `format_prompt` joins them; `GVEProcessor.tokenize_item` tokenises each kind on its own, so that
    text is never read as control tokens (a ``<|im_end|>`` typed by a user is seven characters).
    """
    visuals = VIDEO_PLACEHOLDER * num_videos + IMAGE_PLACEHOLDER * num_images
    return [
        ("control", "<|im_start|>"),
        ("text", f"system\n{instruction}"),
        ("control", "<|im_end|>"),
        ("text", "\n"),
        ("control", "<|im_start|>"),
        ("text", "user\n"),
        ("visual", visuals),
        ("text", text or ""),
        ("control", "<|im_end|>"),
        ("text", "\n"),
        ("control", "<|im_start|>"),
        ("text", "assistant\n"),
    ]


def format_prompt(instruction: str, text: str | None, num_images: int = 0, num_videos: int = 0) -> str:
    """The GVE prompt for one item, without the appended embedding token.

    User content order is video(s), image(s), then text, and the instruction is the system turn: what
    the released checkpoints are known to use (the paper does not say; its Figure 4 draws prompt, text,
    image, video). This equals
    Qwen2.5-VL's chat template with ``add_generation_prompt=True`` for the messages
    ``[{"role": "system", "content": instruction}, {"role": "user", "content": [...]}]``.
    (The model's tokens are not this string tokenised as a whole: see `prompt_parts`.)
    """
    return "".join(piece for _, piece in prompt_parts(instruction, text, num_images, num_videos))


_SURROGATE = regex.compile("[\ud800-\udfff]")  # the code points UTF-8 cannot encode


def check_text(text: str, name: str, what: str = "text") -> None:
    """Raise `GVEInputError` (naming ``name``) if ``text`` is not valid Unicode: a lone surrogate
    (e.g. from ``bytes.decode(errors="surrogateescape")`` or a broken JSON escape) has no UTF-8
    form, so no tokenizer can read it."""
    if text.isascii() or (match := _SURROGATE.search(text)) is None:  # no copy of a long text
        return
    raise GVEInputError(
        name,
        f"{what} is not valid Unicode: lone surrogate {match.group()!r} at character {match.start()}; "
        "decode the source text correctly or drop the invalid characters",
    )


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


# Qwen2's pre-tokenizer split pattern (tokenizer.json): `safe_text_cut` is proven for it alone.
QWEN2_SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_CUT_CANDIDATE = regex.compile(r"(?<=[\p{L}\p{N}])[\p{P}\p{S}\p{N}\p{Zs}]")


def _stable_category(char: str) -> str:
    """The general category of ``char`` if Unicode 3.2 and today's Unicode agree on its class
    (letter, number, punctuation, symbol; separators exactly) and it is NFC-stable, else ``""``:
    a tokenizer's regex tables of any Unicode version since 3.2 then class it the same way."""
    category = unicodedata.category(char)
    old = unicodedata.ucd_3_2_0.category(char)
    same = old == category if category[0] == "Z" else old[0] == category[0]
    return category if same and unicodedata.is_normalized("NFC", char) else ""


def safe_text_cut(text: str, start: int, added_tokens: Sequence[str] = ()) -> int | None:
    """The first position ``b >= start`` where ``text[:b]`` tokenises to a prefix of the tokens of
    ``text`` (for a Qwen2 tokenizer, see `GVEProcessor`), or ``None``. Used to tokenise only the
    part of a long text that survives truncation.

    ``b`` is a boundary between a letter or digit ``x`` and a punctuation mark, symbol, digit or
    space ``y`` (``"word|,"``, ``"word| "``, ``"4|2"``; never before a letter), both of a class that
    no Unicode version since 3.2 changed, both NFC-stable, and no added token (``added_tokens``, the
    tokenizer's non-special ones; special ones are not matched in text, see `GVEProcessor.tokenize_item`)
    spans it. Why the tokens up to ``b`` cannot depend on what follows:

    * NFC: ``y`` never composes with what precedes it (in any canonical composition the second
      character is a mark or a Hangul jamo letter), so ``NFC(text) = NFC(text[:b]) + NFC(text[b:])``.
    * Split (`QWEN2_SPLIT_PATTERN`): a regex match that reads past ``x`` has consumed ``x`` with a
      contraction (``'s``...), a letter run or a single digit; each stops at ``y`` exactly as at the
      end of ``text[:b]``, since ``y`` is no letter. So the matches up to ``b`` are the same, and
      one ends at ``b``.
    * Byte-level BPE works inside one pre-token, so equal pre-tokens give equal tokens.
    """
    position = start
    while (match := _CUT_CANDIDATE.search(text, position)) is not None:
        cut = match.start()
        x, y = _stable_category(text[cut - 1]), _stable_category(text[cut])
        pair_ok = x[:1] in ("L", "N") and (y[:1] in ("P", "S", "N") or y == "Zs")
        if pair_ok and not any(t in text[max(0, cut - len(t) + 1) : cut + len(t) - 1] for t in added_tokens):
            return cut
        position = cut + 1
    return None


def text_cut_tokens(tokenizer: Any) -> list[str] | None:
    """The non-special added tokens of ``tokenizer`` if `safe_text_cut` is exact for it (a fast
    tokenizer with an NFC or no normalizer, Qwen2's split pattern then byte level, BPE, no
    single-word added tokens), else ``None``: then long texts are tokenised whole."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return None
    spec = json.loads(backend.to_str())
    pre = spec.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", [])
    expected = [
        {"type": "Split", "pattern": {"Regex": QWEN2_SPLIT_PATTERN}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "use_regex": False},
    ]
    if (
        pre.get("type") != "Sequence"
        or len(steps) != 2
        or any({k: step.get(k) for k in want} != want for step, want in zip(steps, expected))
        or (spec.get("normalizer") or {"type": "NFC"}).get("type") != "NFC"
        or spec.get("model", {}).get("type") != "BPE"
    ):
        return None
    added = [t for t in tokenizer.added_tokens_decoder.values() if not t.special]
    return None if any(t.single_word for t in added) else [t.content for t in added]


@contextlib.contextmanager
def input_errors(name: str) -> Iterator[None]:
    """Turn any failure while reading or tokenising one input into a `GVEInputError` naming it
    (the original exception chained), so ``on_error="skip"`` can skip it. A missing package
    (`ImportError`) and `MemoryError` are about the machine, not the input: they propagate."""
    try:
        yield
    except (GVEInputError, ImportError, MemoryError):
        raise
    except Exception as err:
        lines = str(err).strip().splitlines()
        detail = f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__
        raise GVEInputError(name, f"could not be read ({detail})") from err


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
            (like the reference, frames never exceed 768*28*28 pixels whatever the upper bound, with a
            warning, unless ``cap_pixels_per_frame`` is False).
        image_min_pixels / image_max_pixels (`int`): image area bounds, 4*28*28 and 256*28*28.
        max_total_pixels (`int`): whole-video pixel budget shared by the frames (reference default).
        max_source_pixels (`int`, *optional*): refuse source frames/images larger than this.
        max_length (`int`, defaults to 8192): token cap; longer prompts are cut to ``max_length - 1``
            tokens and the embedding token appended (cutting into visual tokens is an error).
        seek_mode (`"exact"` or `"approximate"`): torchcodec seek mode.
        num_threads (`int`, defaults to 1): FFmpeg threads per video (0: FFmpeg decides).
        cap_pixels_per_frame (`bool`, defaults to True): cap video frames at 768*28*28 pixels, as the
            reference (qwen-vl-utils) does; False lifts the cap (e.g. A.12's 800 tokens per frame).
        decode_device (`str`, defaults to ``"cpu"``): ``"cuda"`` / ``"cuda:N"`` decodes videos on that GPU
            (torchcodec NVDEC); frames then differ from CPU decoding by a few levels (``docs/gpu.md``).
        image_reader (`"gve"` or `"reference"`, defaults to `"gve"`): how image files and PIL images
            (also frames of ``VideoFrames``) become RGB. ``"gve"`` applies the EXIF orientation, maps
            16-bit and float images to 8 bits by their range and composites every kind of
            transparency on white; ``"reference"`` is qwen-vl-utils' ``to_rgb`` exactly (EXIF
            ignored, ``convert("RGB")``, which clips high bit depths), for exact reproduction. The
            two agree on ordinary RGB images (see `video.to_rgb`).

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
    cap_pixels_per_frame: bool = DEFAULT_CAP_PIXELS_PER_FRAME
    decode_device: str = DEFAULT_DECODE_DEVICE
    image_reader: Literal["gve", "reference"] = DEFAULT_IMAGE_READER

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
        if not isinstance(self.cap_pixels_per_frame, bool):
            fail("cap_pixels_per_frame", "True or False")
        if not valid_decode_device(self.decode_device):
            fail("decode_device", "'cpu', 'cuda' or 'cuda:N'")
        if self.image_reader not in IMAGE_READERS:
            fail("image_reader", " or ".join(map(repr, IMAGE_READERS)))

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
        media = {}
        for key in ("image", "video"):
            value = item.get(key)
            media[key] = _as_list(value) if value is not None else []
            if value is not None and not media[key]:  # [] would silently embed the rest without it
                raise GVEInputError(
                    describe_item(item), f"{key!r} is an empty list; give at least one {key} or leave the key out"
                )
        parsed = ParsedItem(text=text, images=media["image"], videos=media["video"], name=describe_item(item))
    else:
        raise GVEInputError(
            describe(item),
            "unsupported input; pass a string (text), a PIL image, VideoFrames, a VideoDecoder, "
            'or a dict like {"text": ..., "image": ..., "video": ...}',
        )
    if parsed.text is not None and (not parsed.text or parsed.text.isspace()):
        raise GVEInputError(parsed.name, "text is empty; give non-empty text or leave the 'text' key out")
    if parsed.text is not None:
        check_text(parsed.text, parsed.name)
    if parsed.text is None and not parsed.images and not parsed.videos:
        raise GVEInputError(parsed.name, "input has no text, image or video")
    return parsed


def read_item(item: Any, sampling: SamplingConfig) -> LoadedItem:
    """Parse one input (`parse_item`) and read its media with the ``sampling`` settings: the one
    place that turns a `SamplingConfig` into `read_image` / `read_video` arguments (used by
    `GVEProcessor.load_item`, and by encoders that hand GVE's frames to another model).

    Raises:
        GVEInputError: an unsupported input or unreadable media; any other failure while reading
            it too (see `input_errors`).
    """
    with input_errors(_safe_name(item)):
        return _read_parsed(parse_item(item), sampling)


def _safe_name(item: Any) -> str:
    try:
        return describe_item(item)
    except Exception:  # an input so odd that even naming it fails (a dict with unsortable keys...)
        return f"<{type(item).__name__}>"


def _read_parsed(parsed: ParsedItem, sampling: SamplingConfig) -> LoadedItem:
    images = [
        read_image(
            image,
            min_pixels=sampling.image_min_pixels,
            max_pixels=sampling.image_max_pixels,
            max_source_pixels=sampling.max_source_pixels,
            image_reader=sampling.image_reader,
        )
        for image in parsed.images
    ]
    videos = [read_video(video, **video_options(sampling)) for video in parsed.videos]
    return LoadedItem(text=parsed.text, images=images, videos=videos, name=parsed.name)


def video_options(sampling: SamplingConfig) -> dict:
    """The keyword arguments of `read_video` (and `read_segments`) that ``sampling`` sets."""
    return {
        "fps": sampling.fps,
        "min_frames": sampling.min_frames,
        "max_frames": sampling.max_frames,
        "num_frames": sampling.num_frames,
        "min_pixels": sampling.video_min_pixels,
        "max_pixels": sampling.video_max_pixels,
        "max_total_pixels": sampling.max_total_pixels,
        "max_source_pixels": sampling.max_source_pixels,
        "seek_mode": sampling.seek_mode,
        "num_threads": sampling.num_threads,
        "cap_pixels_per_frame": sampling.cap_pixels_per_frame,
        "decode_device": sampling.decode_device,
        "image_reader": sampling.image_reader,
    }


class GVEProcessor(Qwen2_5_VLProcessor):
    r"""
    Turns GVE inputs (text, images, videos and their combinations) into [`GVEModel`] inputs, as
    the released checkpoints are known to be used: reference frame sampling and resizing (see `video.py`), the
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
        self._cut_tokens = text_cut_tokens(tokenizer)  # None: long texts are tokenised whole
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
        """One loaded item -> unpadded model inputs (``input_ids`` of shape ``(seq_len,)`` etc.).

        The template's control tokens are added by id and the text between them (role names, the
        instruction, the user's text) is tokenised with ``split_special_tokens=True``: text is
        never read as control tokens. For ordinary text the ids equal those of the whole prompt
        string tokenised at once (the tokenizer splits at special tokens first, too). Text longer
        than ``max_length`` allows is cut before tokenising (`safe_text_cut`), with the same ids.

        Raises:
            GVEInputError: invalid Unicode, visual tokens that truncation would cut, or any other
                failure while tokenising the item (see `input_errors`).
        """
        instruction = instruction if instruction is not None else self.instruction
        with input_errors(item.name):
            check_text(instruction, item.name, "instruction")
            out = self._visual_inputs(item)
            parts = prompt_parts(instruction, item.text, num_images=len(item.images), num_videos=len(item.videos))
            keep = sampling.max_length - 1
            input_ids, mm_token_type_ids, complete = self._prompt_ids(parts, out, keep)
            if len(input_ids) > keep:
                if self.vision_token_ids.intersection(input_ids[keep:]):
                    needs = f"{len(input_ids) + 1}" if complete else f"at least {len(input_ids) + 1}"
                    raise GVEInputError(
                        item.name,
                        f"needs {needs} tokens, more than max_length={sampling.max_length}, and its visual tokens "
                        "would be cut; raise max_length or lower max_frames / video_max_pixels",
                    )
                input_ids, mm_token_type_ids = input_ids[:keep], mm_token_type_ids[:keep]
        features = {
            "input_ids": torch.tensor(input_ids + [self.embed_token_id], dtype=torch.long),
            "mm_token_type_ids": torch.tensor(mm_token_type_ids + [0], dtype=torch.long),
        }
        for key in ("pixel_values", "image_grid_thw", "pixel_values_videos", "video_grid_thw", "second_per_grid_ts"):
            if key in out and out[key] is not None:
                features[key] = torch.as_tensor(out[key])
        return features

    def _visual_inputs(self, item: LoadedItem) -> dict:
        """The Qwen2.5-VL processor's outputs for the item's media, with ``input_ids`` /
        ``mm_token_type_ids`` of the visual block (videos, then images): each one
        ``<|vision_start|>``, as many placeholders as the processor's own rule gives
        (`replace_video_token` / `replace_image_token`), ``<|vision_end|>``.

        The processor is given no text, so it never calls the tokenizer: the tokenizer's
        ``split_special_tokens`` switch is shared state, and a call that flipped it back while a
        worker thread tokenised a user's text would let control tokens through."""
        if not item.images and not item.videos:
            return {}
        out = super().__call__(
            images=item.images or None,
            videos=[v.frames for v in item.videos] or None,
            video_metadata=[v.metadata for v in item.videos] or None,
            do_resize=False,  # frames and images are already resized by the reference rule
            do_sample_frames=False,
            cap_pixels_per_frame=False,  # the reference pixel budget is applied in read_video
            return_tensors="pt",
        )
        start, end = (self.tokenizer.convert_tokens_to_ids(t) for t in ("<|vision_start|>", "<|vision_end|>"))
        blocks = [(self.video_token, self.video_token_id, 2, self.replace_video_token, len(item.videos))]
        blocks += [(self.image_token, self.image_token_id, 1, self.replace_image_token, len(item.images))]
        ids, types = [], []
        for token, token_id, kind, replace, count in blocks:
            for index in range(count):
                length = replace(out, index).count(token)
                ids += [start] + [token_id] * length + [end]
                types += [0] + [kind] * length + [0]
        return {**out, "input_ids": ids, "mm_token_type_ids": types}

    def _prompt_ids(self, parts: list[tuple[str, str]], visual: dict, keep: int) -> tuple[list[int], list[int], bool]:
        """``prompt_parts`` -> (input ids, mm token types, whether nothing was left untokenised).

        Adjacent text pieces are tokenised together (as the tokenizer would between two special
        tokens); once more than ``keep`` ids are known the rest of the text is not needed."""
        ids: list[int] = []
        types: list[int] = []
        complete, pieces = True, []
        for kind, piece in [*parts, ("end", "")]:  # the sentinel flushes the last text
            if kind == "text" or (kind == "visual" and not piece):  # no media: "user\n" + text is one piece
                pieces.append(piece)
                continue
            if any(pieces) and len(ids) <= keep:
                text_ids, whole = self._text_ids(pieces, room=keep - len(ids))
                ids += text_ids
                types += [0] * len(text_ids)
                complete = complete and whole
            elif any(pieces):
                complete = False  # beyond max_length: cut anyway
            pieces = []
            if kind == "control":
                ids.append(self.tokenizer.convert_tokens_to_ids(piece))
                types.append(0)
            elif kind == "visual":
                ids += visual["input_ids"]
                types += visual["mm_token_type_ids"]
        return ids, types, complete

    def _text_ids(self, pieces: list[str], room: int) -> tuple[list[int], bool]:
        """Token ids of the plain text ``"".join(pieces)`` and whether they are all of them. When
        the ids of a prefix already exceed ``room`` (the rest would be truncated), only that prefix
        is tokenised, cut inside the last piece (the instruction or the user's text) where the ids
        are provably those of the whole text (`safe_text_cut`): a 1 MB text then costs about what
        a few times ``max_length`` characters cost, and is never copied whole."""

        def tokenize(text: str) -> list[int]:
            return self.tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"]

        head, tail = "".join(pieces[:-1]), pieces[-1]
        start = 4 * (max(room, 0) + 1)  # about 4 characters per token; doubled while too few
        while self._cut_tokens is not None and start < len(head) + len(tail):
            cut = safe_text_cut(tail, max(start - len(head), 1), self._cut_tokens)
            if cut is None:
                break
            ids = tokenize(head + tail[:cut])
            if len(ids) > room:
                return ids, False
            start = 2 * (len(head) + cut)
        return tokenize(head + tail), True

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
    "check_text",
    "input_errors",
    "prompt_parts",
    "safe_text_cut",
    "describe_item",
    "did_you_mean",
    "format_prompt",
    "parse_item",
    "read_item",
    "video_options",
    "DEFAULT_INSTRUCTION",
    "EMBED_TOKEN",
]
