# Copyright 2026 The GVE package authors. Apache-2.0.
"""The one place where GVE reads videos and decides frames and sizes.

GVE was trained and evaluated with the Qwen2.5-VL reference preprocessing of
``qwen-vl-utils`` (``smart_nframes`` + ``smart_resize`` + bicubic/antialias resize).
This module re-implements those rules on torchcodec so that only the sampled frames
are decoded (seek, then decode), never the whole file: time and memory stay flat as
videos get longer. Each frame is resized as soon as it is decoded, so at most one
full-resolution frame is held at a time.

References:
    https://github.com/QwenLM/Qwen2.5-VL/blob/main/qwen-vl-utils/src/qwen_vl_utils/vision_process.py
    https://github.com/meta-pytorch/torchcodec
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np
import torch
from PIL import Image

IMAGE_FACTOR = 28  # patch_size (14) * spatial_merge_size (2): sides are multiples of this
FRAME_FACTOR = 2  # temporal_patch_size: frame counts are multiples of this
MAX_ASPECT_RATIO = 200  # the reference rejects anything more elongated
# The reference caps every video frame at this many visual tokens (VIDEO_MAX_TOKEN_NUM), whatever
# max_pixels asks for: frames never exceed 768 * 28 * 28 pixels.
VIDEO_FRAME_MAX_PIXELS = 768 * IMAGE_FACTOR * IMAGE_FACTOR

# GVE's inference protocol (paper §4.1, §A.8; the authors' indexing code): the single copy of the
# preprocessing defaults. `read_video` / `read_image` and `processing_gve.SamplingConfig` take
# their defaults from here.
DEFAULT_FPS = 1.0
DEFAULT_MIN_FRAMES = 32  # clamped before max_frames: with max_frames=8, exactly 8 frames
DEFAULT_MAX_FRAMES = 8
DEFAULT_VIDEO_MIN_PIXELS = 128 * IMAGE_FACTOR * IMAGE_FACTOR
DEFAULT_VIDEO_MAX_PIXELS = 200 * IMAGE_FACTOR * IMAGE_FACTOR
DEFAULT_IMAGE_MIN_PIXELS = 4 * IMAGE_FACTOR * IMAGE_FACTOR
DEFAULT_IMAGE_MAX_PIXELS = 256 * IMAGE_FACTOR * IMAGE_FACTOR
DEFAULT_MAX_TOTAL_PIXELS = int(128000 * IMAGE_FACTOR * IMAGE_FACTOR * 0.9)  # the reference's MODEL_SEQ_LEN budget
DEFAULT_MAX_SOURCE_PIXELS = 8192 * 8192
DEFAULT_SEEK_MODE = "exact"
DEFAULT_NUM_THREADS = 1

# Image files a folder of extracted frames may hold (`VideoFrames.from_folder`).
FRAME_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})


class GVEInputError(ValueError):
    """A user input that cannot be embedded.

    Attributes:
        input (`str`): a short description of the offending input (path, type, size).
        reason (`str`): why it was rejected and, where possible, what to do.
    """

    def __init__(self, input: str, reason: str):
        self.input = input
        self.reason = reason
        super().__init__(f"{input}: {reason}")


# --------------------------------------------------------------------------- rules


def round_by_factor(number: float, factor: int) -> int:
    return round(number / factor) * factor


def ceil_by_factor(number: float, factor: int) -> int:
    return math.ceil(number / factor) * factor


def floor_by_factor(number: float, factor: int) -> int:
    return math.floor(number / factor) * factor


def smart_resize(
    height: int, width: int, *, min_pixels: int, max_pixels: int, factor: int = IMAGE_FACTOR
) -> tuple[int, int]:
    """Target ``(height, width)``: multiples of ``factor``, aspect ratio kept, area in
    ``[min_pixels, max_pixels]`` (the Qwen2.5-VL reference rule).

    Raises:
        ValueError: if the aspect ratio exceeds ``MAX_ASPECT_RATIO`` or the bounds are inverted.
    """
    if max_pixels < min_pixels:
        raise ValueError(f"max_pixels ({max_pixels}) must be >= min_pixels ({min_pixels}).")
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    ratio = max(height, width) / min(height, width)
    if ratio > MAX_ASPECT_RATIO:
        raise ValueError(f"aspect ratio {ratio:.1f}:1 of a {width}x{height} frame exceeds {MAX_ASPECT_RATIO}:1")
    h_bar = max(factor, round_by_factor(height, factor))
    w_bar = max(factor, round_by_factor(width, factor))
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = floor_by_factor(height / beta, factor)
        w_bar = floor_by_factor(width / beta, factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = ceil_by_factor(height * beta, factor)
        w_bar = ceil_by_factor(width * beta, factor)
    return h_bar, w_bar


def smart_nframes(
    total_frames: int,
    video_fps: float,
    *,
    fps: float,
    min_frames: int,
    max_frames: int,
    num_frames: int | None = None,
) -> int:
    """Number of frames to sample (the reference rule).

    With ``num_frames`` set, that count rounded to an even number. Otherwise
    ``duration * fps`` clamped to ``[min_frames, max_frames]`` (in that order, so GVE's
    ``min_frames=32, max_frames=8`` means "exactly 8"), capped by ``total_frames`` and
    floored to an even number.

    Raises:
        ValueError: if fewer than ``FRAME_FACTOR`` frames would remain.
    """
    if num_frames is not None:
        nframes = round_by_factor(num_frames, FRAME_FACTOR)
    else:
        min_f = ceil_by_factor(min_frames, FRAME_FACTOR)
        max_f = floor_by_factor(max_frames, FRAME_FACTOR)
        nframes = total_frames / video_fps * fps
        nframes = min(min(max(nframes, min_f), max_f), total_frames)
        nframes = floor_by_factor(nframes, FRAME_FACTOR)
    if not FRAME_FACTOR <= nframes <= total_frames:
        raise ValueError(
            f"{total_frames} frame(s) cannot give {nframes} sampled frames; a video needs at least "
            f"{FRAME_FACTOR} frames (embed a single frame as an image instead)"
        )
    return nframes


def sample_indices(total_frames: int, nframes: int) -> list[int]:
    """``nframes`` indices spread uniformly over the whole video, ends included."""
    return torch.linspace(0, total_frames - 1, nframes).round().long().tolist()


def video_pixel_bounds(nframes: int, min_pixels: int, max_pixels: int, max_total_pixels: int) -> tuple[int, int]:
    """Per-frame pixel bounds, as in the reference (``fetch_video``): ``max_pixels`` further limited
    by the per-frame cap ``VIDEO_FRAME_MAX_PIXELS`` and by an even share of the whole-video budget
    ``max_total_pixels``, the limit floored at ``1.05 * min_pixels``."""
    limit = max(min(VIDEO_FRAME_MAX_PIXELS, max_total_pixels / nframes * FRAME_FACTOR), int(min_pixels * 1.05))
    return min_pixels, int(min(max_pixels, limit))


# --------------------------------------------------------------------------- inputs


@dataclass
class VideoFrames:
    """Already decoded (or extracted) frames of one video, with the video's native fps.

    Args:
        frames: a ``(T, H, W, 3)`` or ``(T, 3, H, W)`` uint8 tensor/array, or a sequence of
            frames (PIL images, ``(H, W, 3)`` uint8 arrays, or image file paths, read lazily:
            only the sampled ones are opened).
        fps (`float`): frames per second of ``frames`` (for a folder of frames extracted at
            1 fps, ``fps=1.0``). Needed for the temporal positions of Qwen2.5-VL's M-RoPE.
    """

    frames: Any
    fps: float

    @classmethod
    def from_folder(cls, folder: str | os.PathLike, fps: float) -> "VideoFrames":
        """Frames from a folder of images (``*.jpg``, ``*.png``...), in natural sort order."""
        folder = Path(folder)
        if not folder.is_dir():
            raise GVEInputError(str(folder), "frame folder not found")
        files = sorted((p for p in folder.iterdir() if p.suffix.lower() in FRAME_EXTENSIONS), key=_natural_key)
        if not files:
            raise GVEInputError(
                str(folder), f"frame folder holds no image files ({', '.join(sorted(FRAME_EXTENSIONS))})"
            )
        return cls(frames=[str(p) for p in files], fps=fps)

    def __len__(self) -> int:
        return len(self.frames)


def _natural_key(path: Path) -> list:
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


VideoInput = Union[str, os.PathLike, bytes, io.IOBase, "VideoDecoder", VideoFrames, dict]  # noqa: F821


@dataclass
class SampledVideo:
    """The frames GVE sees for one video, plus what the processor needs for M-RoPE.

    Attributes:
        frames (`torch.Tensor` of shape `(num_sampled, 3, height, width)`, uint8): resized frames,
            ``height`` and ``width`` multiples of 28.
        fps (`float`): native frame rate of the source.
        frames_indices (`list[int]`): which source frames were taken.
        total_num_frames (`int`): frame count of the source.
    """

    frames: torch.Tensor
    fps: float
    frames_indices: list[int]
    total_num_frames: int
    source: str = field(default="", repr=False)

    @property
    def sampled_fps(self) -> float:
        return len(self.frames_indices) / self.total_num_frames * self.fps

    @property
    def metadata(self) -> dict:
        """``video_metadata`` for the transformers video processor (fps, indices, count)."""
        return {
            "fps": self.fps,
            "frames_indices": list(self.frames_indices),
            "total_num_frames": self.total_num_frames,
            "width": int(self.frames.shape[-1]),
            "height": int(self.frames.shape[-2]),
        }


def describe(source: Any) -> str:
    """A short, human-readable name for an input, used in every error message."""
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<video bytes, {len(source)} bytes>"
    if isinstance(source, VideoFrames):
        return f"<{len(source.frames)} decoded frames at {source.fps} fps>"
    if isinstance(source, SampledVideo):
        return source.source or f"<{len(source.frames_indices)} sampled frames>"
    if isinstance(source, io.IOBase):
        return f"<file object {getattr(source, 'name', type(source).__name__)}>"
    if isinstance(source, Image.Image):
        return f"<PIL image {source.width}x{source.height}>"
    if type(source).__name__ == "VideoDecoder":
        return "<torchcodec VideoDecoder>"
    return f"<{type(source).__name__}>"


def _check_file(source: str | os.PathLike, name: str, directory_hint: str) -> Path:
    """A readable, non-empty file, or a `GVEInputError` saying what is wrong."""
    path = Path(source)
    if not path.exists():
        raise GVEInputError(name, "file not found")
    if path.is_dir():
        raise GVEInputError(name, f"is a directory; {directory_hint}")
    if path.stat().st_size == 0:
        raise GVEInputError(name, "file is empty (0 bytes)")
    return path


def _open_decoder(source: Any, name: str, seek_mode: str, num_threads: int):
    from torchcodec.decoders import VideoDecoder

    if isinstance(source, VideoDecoder):
        return source
    if isinstance(source, (str, os.PathLike)):
        source = str(_check_file(source, name, "for a folder of frames pass VideoFrames.from_folder(path, fps=...)"))
    elif isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise GVEInputError(name, "video bytes are empty")
        source = bytes(source)
    elif not isinstance(source, io.IOBase):
        raise GVEInputError(
            name,
            "unsupported video type; pass a path, bytes, a file object, a torchcodec VideoDecoder "
            "or VideoFrames(frames, fps)",
        )
    try:
        return VideoDecoder(source, seek_mode=seek_mode, num_ffmpeg_threads=num_threads)
    except (RuntimeError, ValueError) as err:
        message = str(err)
        if "video stream" in message or "best video stream" in message.lower():
            raise GVEInputError(name, "has no video stream (audio-only or not a video file)") from None
        raise GVEInputError(
            name, f"could not be opened as a video (corrupt, truncated or not a video file): {_first_line(err)}"
        ) from None


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    line = text[-1] if text else type(err).__name__
    # torchcodec prefixes "Function, file.cpp:NN, message": keep the message
    return line.split(", ")[-1] if ".cpp:" in line else line


def _check_source_size(name: str, height: int, width: int, max_source_pixels: int | None) -> None:
    if height <= 0 or width <= 0:
        raise GVEInputError(name, f"has invalid frame size {width}x{height}")
    ratio = max(height, width) / min(height, width)
    if ratio > MAX_ASPECT_RATIO:
        raise GVEInputError(
            name, f"aspect ratio {ratio:.1f}:1 ({width}x{height}) exceeds the supported {MAX_ASPECT_RATIO}:1"
        )
    if max_source_pixels is not None and height * width > max_source_pixels:
        raise GVEInputError(
            name,
            f"resolution {width}x{height} ({height * width} pixels) exceeds max_source_pixels={max_source_pixels}; "
            "downscale the file or raise the limit",
        )


def _resize(frame: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(3, H, W) or (T, 3, H, W) uint8 -> resized uint8, bicubic with antialias like the reference."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.functional import resize

    return resize(frame, list(size), interpolation=InterpolationMode.BICUBIC, antialias=True)


def _frame_to_chw(frame: Any, name: str) -> torch.Tensor:
    """One frame (PIL, path, HWC/CHW array) -> (3, H, W) uint8 tensor."""
    if isinstance(frame, (str, os.PathLike)):
        frame = load_pil(frame, name=str(frame))
    if isinstance(frame, Image.Image):
        frame = np.asarray(to_rgb(frame))
    tensor = frame if isinstance(frame, torch.Tensor) else torch.from_numpy(np.array(frame))
    if tensor.ndim != 3:
        raise GVEInputError(name, f"each frame must be (H, W, 3) or (3, H, W), got shape {tuple(tensor.shape)}")
    if tensor.dtype != torch.uint8:
        raise GVEInputError(name, f"frames must be uint8 (0-255), got {tensor.dtype}")
    if tensor.shape[0] != 3 and tensor.shape[-1] == 3:
        tensor = tensor.permute(2, 0, 1)
    if tensor.shape[0] != 3:
        raise GVEInputError(name, f"frames need 3 color channels, got shape {tuple(tensor.shape)}")
    return tensor.contiguous()


def read_video(
    source: VideoInput,
    *,
    fps: float = DEFAULT_FPS,
    min_frames: int = DEFAULT_MIN_FRAMES,
    max_frames: int = DEFAULT_MAX_FRAMES,
    num_frames: int | None = None,
    min_pixels: int = DEFAULT_VIDEO_MIN_PIXELS,
    max_pixels: int = DEFAULT_VIDEO_MAX_PIXELS,
    max_total_pixels: int = DEFAULT_MAX_TOTAL_PIXELS,
    max_source_pixels: int | None = DEFAULT_MAX_SOURCE_PIXELS,
    seek_mode: str = DEFAULT_SEEK_MODE,
    num_threads: int = DEFAULT_NUM_THREADS,
    name: str | None = None,
) -> SampledVideo:
    """Sample and resize the frames GVE embeds for one video.

    Args:
        source: a path, ``bytes``, a binary file object, a torchcodec ``VideoDecoder``,
            ``VideoFrames(frames, fps)`` or a mapping ``{"frames": ..., "fps": ...}``; or a
            `SampledVideo` whose frames were already chosen and resized by another protocol
            (`modeling_gve.uvrb.frames`), used as given.
        fps, min_frames, max_frames, num_frames: the frame-count rule (see `smart_nframes`).
        min_pixels, max_pixels: per-frame area bounds for `smart_resize`; like the reference, a frame
            never exceeds ``VIDEO_FRAME_MAX_PIXELS`` (768*28*28) whatever ``max_pixels`` asks.
        max_total_pixels: whole-video pixel budget shared by the frames (reference default).
        max_source_pixels: refuse sources larger than this many pixels per frame (``None``: no limit).
        seek_mode: torchcodec ``"exact"`` (scans the index, exact frame count, the reference)
            or ``"approximate"`` (trusts the header; faster on long files).
        num_threads: FFmpeg decoding threads per video.
        name: how to call this input in errors (defaults to `describe(source)`).

    Returns:
        `SampledVideo` with ``frames`` of shape ``(nframes, 3, H, W)`` uint8.

    Raises:
        GVEInputError: missing/empty/corrupt/audio-only files, one-frame videos, absurd aspect
            ratios, oversized frames; the message names the input and the reason.
    """
    name = name or describe(source)
    if isinstance(source, SampledVideo):
        return _check_sampled(source, name)
    if isinstance(source, dict):
        if "frames" not in source or "fps" not in source:
            raise GVEInputError(name, "a video dict needs 'frames' and 'fps' keys")
        source = VideoFrames(frames=source["frames"], fps=source["fps"])

    if isinstance(source, VideoFrames):
        total, native_fps = len(source.frames), float(source.fps)
        if native_fps <= 0:
            raise GVEInputError(name, f"fps must be positive, got {source.fps}")
        get_frame = lambda i: _frame_to_chw(source.frames[i], name)  # noqa: E731
    else:
        decoder = _open_decoder(source, name, seek_mode, num_threads)
        meta = decoder.metadata
        total = len(decoder)
        native_fps = float(meta.average_fps or 0.0)
        if native_fps <= 0 and meta.duration_seconds:
            native_fps = total / meta.duration_seconds
        if native_fps <= 0:
            raise GVEInputError(name, "has no usable frame rate in its metadata")
        if meta.height is not None and meta.width is not None:
            _check_source_size(name, meta.height, meta.width, max_source_pixels)

        def get_frame(i: int) -> torch.Tensor:
            try:
                return decoder.get_frame_at(i).data
            except (RuntimeError, IndexError, ValueError) as err:
                raise GVEInputError(
                    name, f"decoding frame {i} of {total} failed (truncated or corrupt file): {_first_line(err)}"
                ) from None

    if total == 0:
        raise GVEInputError(name, "has no frames")
    if total < FRAME_FACTOR:
        raise GVEInputError(
            name, f"has only {total} frame; a video needs at least {FRAME_FACTOR} (embed the frame as an image)"
        )
    try:
        nframes = smart_nframes(
            total, native_fps, fps=fps, min_frames=min_frames, max_frames=max_frames, num_frames=num_frames
        )
    except ValueError as err:
        raise GVEInputError(name, str(err)) from None
    indices = sample_indices(total, nframes)
    lo, hi = video_pixel_bounds(nframes, min_pixels, max_pixels, max_total_pixels)

    frames, size, source_shape = [], None, None
    for i in indices:
        frame = get_frame(i)  # (3, H, W) uint8 at source resolution
        if size is None:
            source_shape = tuple(frame.shape[-2:])
            _check_source_size(name, *source_shape, max_source_pixels)
            try:
                size = smart_resize(*source_shape, min_pixels=lo, max_pixels=hi)
            except ValueError as err:
                raise GVEInputError(name, str(err)) from None
        elif tuple(frame.shape[-2:]) != source_shape:
            raise GVEInputError(name, f"frame {i} is {tuple(frame.shape[-2:])}, unlike the first frame {source_shape}")
        frames.append(_resize(frame, size))
    return SampledVideo(
        frames=torch.stack(frames), fps=native_fps, frames_indices=indices, total_num_frames=total, source=name
    )


def _check_sampled(video: SampledVideo, name: str) -> SampledVideo:
    """A `SampledVideo` given as input: ``(T, 3, H, W)`` uint8 frames, T even, sides multiples of 28."""
    frames = video.frames
    if not isinstance(frames, torch.Tensor) or frames.dtype != torch.uint8 or frames.ndim != 4 or frames.shape[1] != 3:
        raise GVEInputError(name, "a SampledVideo needs (T, 3, H, W) uint8 frames")
    if frames.shape[0] % FRAME_FACTOR or len(video.frames_indices) != frames.shape[0]:
        raise GVEInputError(name, "a SampledVideo needs an even frame count and one index per frame")
    if frames.shape[-1] % IMAGE_FACTOR or frames.shape[-2] % IMAGE_FACTOR:
        raise GVEInputError(name, f"a SampledVideo's frame sides must be multiples of {IMAGE_FACTOR}")
    return video


# --------------------------------------------------------------------------- images


def to_rgb(image: Image.Image) -> Image.Image:
    """RGBA is composited on white (as the reference does); everything else converted to RGB."""
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.split()[3])
        return background
    return image.convert("RGB")


def load_pil(source: Any, name: str | None = None, max_source_pixels: int | None = None) -> Image.Image:
    """Open an image from a path, bytes, a file object or a PIL image, with clear errors.

    The size is checked from the header, before the pixels are decoded."""
    name = name or describe(source)
    if isinstance(source, Image.Image):
        _check_source_size(name, source.height, source.width, max_source_pixels)
        return source
    if isinstance(source, (str, os.PathLike)):
        _check_file(source, name, "not an image file")
    elif isinstance(source, (bytes, bytearray)):
        if not source:
            raise GVEInputError(name, "image bytes are empty")
        source = io.BytesIO(source)
    elif not isinstance(source, io.IOBase):
        raise GVEInputError(name, "unsupported image type; pass a path, bytes, a file object or a PIL image")
    try:
        image = Image.open(source)
        _check_source_size(name, image.height, image.width, max_source_pixels)
        image.load()
    except GVEInputError:
        raise
    except Image.DecompressionBombError as err:
        raise GVEInputError(name, f"resolution too large: {err}") from None
    except (OSError, SyntaxError, ValueError) as err:  # PIL's UnidentifiedImageError is an OSError
        raise GVEInputError(name, f"could not be read as an image (corrupt or not an image): {err}") from None
    return image


def read_image(
    source: Any,
    *,
    min_pixels: int = DEFAULT_IMAGE_MIN_PIXELS,
    max_pixels: int = DEFAULT_IMAGE_MAX_PIXELS,
    max_source_pixels: int | None = DEFAULT_MAX_SOURCE_PIXELS,
    name: str | None = None,
) -> Image.Image:
    """Load one image and resize it by the reference rule (PIL bicubic).

    Returns:
        RGB `PIL.Image.Image` whose sides are multiples of 28.
    """
    name = name or describe(source)
    image = to_rgb(load_pil(source, name, max_source_pixels))
    try:
        height, width = smart_resize(image.height, image.width, min_pixels=min_pixels, max_pixels=max_pixels)
    except ValueError as err:
        raise GVEInputError(name, str(err)) from None
    return image.resize((width, height), resample=Image.Resampling.BICUBIC)


__all__ = [
    "FRAME_EXTENSIONS",
    "VIDEO_FRAME_MAX_PIXELS",
    "GVEInputError",
    "SampledVideo",
    "VideoFrames",
    "read_image",
    "read_video",
    "sample_indices",
    "smart_nframes",
    "smart_resize",
]
