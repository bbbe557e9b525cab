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
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Iterator, Literal, Union

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
DEFAULT_CAP_PIXELS_PER_FRAME = True  # the reference's per-frame cap (VIDEO_FRAME_MAX_PIXELS) applies
DEFAULT_DECODE_DEVICE = "cpu"
# How images become RGB (see `to_rgb`): "gve" fixes qwen-vl-utils' EXIF / bit-depth / transparency
# faults, "reference" is qwen-vl-utils exactly.
IMAGE_READERS = ("gve", "reference")
DEFAULT_IMAGE_READER = "gve"
# Frame rates a user may give for decoded frames: outside this, temporal positions overflow or
# collapse, and the value is almost surely a unit mistake (milliseconds, a frame interval).
MIN_FPS, MAX_FPS = 1e-3, 1e5

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


def video_pixel_bounds(
    nframes: int, min_pixels: int, max_pixels: int, max_total_pixels: int, cap_pixels_per_frame: bool = True
) -> tuple[int, int]:
    """Per-frame pixel bounds, as in the reference (``fetch_video``): ``max_pixels`` further limited
    by the per-frame cap ``VIDEO_FRAME_MAX_PIXELS`` (unless ``cap_pixels_per_frame`` is False) and by
    an even share of the whole-video budget ``max_total_pixels``, the limit floored at
    ``1.05 * min_pixels``. A ``max_pixels`` above the cap warns, as the reference does."""
    cap = VIDEO_FRAME_MAX_PIXELS if cap_pixels_per_frame else float("inf")
    if max_pixels > cap:
        warnings.warn(
            f"video max_pixels={max_pixels} is above the per-frame cap of the reference preprocessing "
            f"(qwen-vl-utils: 768*28*28 = {VIDEO_FRAME_MAX_PIXELS} pixels); frames are capped there. Set the "
            "sampling option cap_pixels_per_frame=False to lift the cap.",
            UserWarning,
            stacklevel=2,
        )
    limit = max(min(cap, max_total_pixels / nframes * FRAME_FACTOR), int(min_pixels * 1.05))
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
            1 fps, ``fps=1.0``), between ``MIN_FPS`` and ``MAX_FPS``. Needed for the temporal
            positions of Qwen2.5-VL's M-RoPE.
        layout (`"THWC"` or `"TCHW"`, *optional*): where the color channels are; by default read
            from the shape (channels are the axis of size 3), and asked for when both ends of a
            frame's shape are 3 (``(T, 3, W, 3)``: 3 rows high, or 3 columns wide?).
    """

    frames: Any
    fps: float
    layout: Literal["THWC", "TCHW"] | None = None

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
    if isinstance(source, VideoFrames) or (isinstance(source, dict) and "frames" in source):
        frames = source.frames if isinstance(source, VideoFrames) else source["frames"]
        fps = source.fps if isinstance(source, VideoFrames) else source.get("fps")
        try:
            count = f"{len(frames)} "
        except TypeError:  # not a sequence: read_video says so
            count = ""
        return f"<{count}decoded frames at {fps!r} fps>"
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


def valid_decode_device(device: Any) -> bool:
    """``"cpu"``, ``"cuda"`` or ``"cuda:N"``: the values of the ``decode_device`` option."""
    return isinstance(device, str) and (device in ("cpu", "cuda") or (device[:5] == "cuda:" and device[5:].isdigit()))


def check_decode_device(device: str) -> None:
    """Raise if frames cannot be decoded on ``device``: ``"cpu"``, or ``"cuda"`` / ``"cuda:N"`` (torchcodec's
    NVDEC decoding) when a CUDA GPU is visible. A configuration error (`ValueError` for a malformed
    value, `RuntimeError` for a missing GPU), never blamed on an input."""
    if device == "cpu":
        return
    if not valid_decode_device(device):
        raise ValueError(f"decode_device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if not torch.cuda.is_available():
        raise RuntimeError(
            f"decode_device={device!r} needs a CUDA GPU, and none is visible (torch.cuda.is_available() is "
            "False); decode on the CPU with decode_device='cpu'"
        )


def _open_decoder(source: Any, name: str, seek_mode: str, num_threads: int, device: str = DEFAULT_DECODE_DEVICE):
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
        return VideoDecoder(source, seek_mode=seek_mode, num_ffmpeg_threads=num_threads, device=device)
    except (RuntimeError, ValueError) as err:
        # FFmpeg repeats the file's path; the error names the input already, and a failure recorded
        # by content must not name where the file was when it failed.
        message = _decoder_message(err).replace(f" {source} ", " ") if isinstance(source, str) else _decoder_message(err)
        if device != "cpu" and ("CUDA" in message or "cuda" in message or "NVDEC" in message):
            # the build or the driver cannot decode on the GPU: a setup problem, not a bad input
            raise RuntimeError(
                f"decode_device={device!r}: torchcodec could not create a CUDA decoder ({message}); "
                "install a torchcodec build with CUDA support or use decode_device='cpu'"
            ) from None
        if "video stream" in message or "best video stream" in message.lower():
            raise GVEInputError(name, "has no video stream (audio-only or not a video file)") from None
        if not _cannot_seek(message):
            raise GVEInputError(
                name, f"could not be opened as a video (corrupt, truncated or not a video file): {message}"
            ) from None
    try:  # FFmpeg decodes it but cannot seek in it: read it in order
        return SequentialDecoder(source, num_threads)
    except (RuntimeError, ValueError, ImportError, AttributeError) as err:
        raise GVEInputError(
            name,
            f"FFmpeg cannot seek in this file ({message}) and reading it in order failed too "
            f"({_decoder_message(err)}); remux it, e.g. `ffmpeg -i IN -c copy OUT.mp4`",
        ) from None


def _decoder_message(err: BaseException) -> str:
    """The informative line of a torchcodec / FFmpeg error: torchcodec's ``"function,
    file.cpp:NN, "`` prefix dropped, the message kept whole (its commas included)."""
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    for line in lines:
        if match := re.match(r"\w+, \S+\.cpp:\d+, (.+)", line):
            return match.group(1)
    return lines[0] if lines else type(err).__name__


def _cannot_seek(message: str) -> bool:
    """Whether a torchcodec message says the file cannot be seeked in (FFmpeg may still read it
    from the start: Matroska with negative or missing timestamps, some streams)."""
    return "Could not seek" in message or "maximum pts value in seconds is unknown" in message


class SequentialDecoder:
    """Frames of a video FFmpeg can decode but not seek in, read in order without seeking:
    a first pass counts the frames, then `get_frame_at` decodes forward to each (increasing)
    index, keeping only the requested frames. Twice the decoding of a seekable file.

    Uses torchcodec's core operations (``torchcodec._core``), the layer under ``VideoDecoder``.
    """

    def __init__(self, source: Any, num_threads: int = DEFAULT_NUM_THREADS):
        from torchcodec import _core as core
        from torchcodec._core._decoder_utils import create_decoder

        self._core, self._create, self._source, self._num_threads = core, create_decoder, source, num_threads
        decoder = self._open()
        container = core.get_container_metadata(decoder)
        if container.best_video_stream_index is None:
            raise ValueError("The best video stream is unknown")
        stream = container.streams[container.best_video_stream_index]
        self.metadata = SimpleNamespace(
            average_fps=stream.average_fps_from_header, duration_seconds=None, height=stream.height, width=stream.width
        )
        self._length = sum(1 for _ in self._frames(decoder))
        self._decoder, self._next = None, 0

    def _open(self) -> Any:
        if isinstance(self._source, io.IOBase):
            self._source.seek(0)
        decoder = self._create(source=self._source, seek_mode="approximate")
        self._core.ops.add_video_stream(decoder, num_threads=self._num_threads)
        return decoder

    def _frames(self, decoder: Any) -> Any:
        while True:
            try:
                yield self._core.get_next_frame(decoder)[0]
            except IndexError:  # "no more frames left to decode"
                return

    def __len__(self) -> int:
        return self._length

    def get_frame_at(self, index: int) -> Any:
        if self._decoder is None or index < self._next:
            self._decoder, self._next = self._frames(self._open()), 0
        for frame in self._decoder:
            self._next += 1
            if self._next - 1 == index:
                return SimpleNamespace(data=frame)
        raise IndexError(f"frame {index} is past the end ({self._length} frames)")


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


def _frame_to_chw(
    frame: Any, name: str, layout: str | None = None, image_reader: str = DEFAULT_IMAGE_READER
) -> torch.Tensor:
    """One frame (PIL, path, HWC/CHW array) -> (3, H, W) uint8 tensor."""
    if isinstance(frame, (str, os.PathLike)):
        frame = load_pil(frame, name=str(frame))
    if isinstance(frame, Image.Image):
        frame = np.asarray(to_rgb(frame, image_reader))
        layout = "THWC"
    array = np.asarray(frame) if not isinstance(frame, (torch.Tensor, np.ndarray)) else frame
    if isinstance(array, np.ndarray) and array.dtype.kind not in "biuf":
        raise GVEInputError(name, f"frames must be uint8 arrays or images, got an array of {array.dtype}")
    tensor = array if isinstance(array, torch.Tensor) else torch.from_numpy(np.array(array))
    if tensor.ndim != 3:
        raise GVEInputError(name, f"each frame must be (H, W, 3) or (3, H, W), got shape {tuple(tensor.shape)}")
    if tensor.dtype != torch.uint8:
        raise GVEInputError(name, f"frames must be uint8 (0-255), got {tensor.dtype}")
    if layout is None and tensor.shape[0] == 3 and tensor.shape[-1] == 3:
        raise GVEInputError(
            name,
            f"frame shape {tuple(tensor.shape)} is ambiguous: (H, W, 3) with H=3 or (3, H, W) with W=3; "
            "say which with VideoFrames(frames, fps, layout='THWC') or layout='TCHW' "
            "(or a 'layout' key in the video dict)",
        )
    if layout == "THWC" or (layout is None and tensor.shape[0] != 3 and tensor.shape[-1] == 3):
        tensor = tensor.permute(2, 0, 1)
    if tensor.shape[0] != 3:
        raise GVEInputError(name, f"frames need 3 color channels, got shape {tuple(tensor.shape)}")
    return tensor.contiguous()


def _check_fps(fps: Any, name: str) -> float:
    """A user-given native frame rate as a float, or a `GVEInputError` saying what is wrong."""
    try:
        if isinstance(fps, (str, bytes, bool)):
            raise TypeError
        value = float(fps)
    except (TypeError, ValueError):
        raise GVEInputError(name, f"fps must be a number (frames per second), got {fps!r}") from None
    if value <= 0:
        raise GVEInputError(name, f"fps must be positive (frames per second), got {fps!r}")
    if not MIN_FPS <= value <= MAX_FPS:  # also NaN and inf
        raise GVEInputError(
            name, f"fps must be a finite number between {MIN_FPS:g} and {MAX_FPS:g} frames per second, got {fps!r}"
        )
    return value


def _frames_reader(source: VideoFrames, name: str, image_reader: str) -> tuple[int, float, Any]:
    """(frame count, native fps, index -> (3, H, W) uint8 frame) of decoded frames, checked."""
    native_fps = _check_fps(source.fps, name)
    if source.layout not in (None, "THWC", "TCHW"):
        raise GVEInputError(name, f"layout must be 'THWC', 'TCHW' or None, got {source.layout!r}")
    if not hasattr(source.frames, "__len__") or not hasattr(source.frames, "__getitem__"):
        raise GVEInputError(
            name, f"frames must be an array or a sequence of frames, got {type(source.frames).__name__}"
        )
    return len(source.frames), native_fps, lambda i: _frame_to_chw(source.frames[i], name, source.layout, image_reader)


def _decoder_reader(decoder: Any, name: str, total: int) -> Any:
    """index -> (3, H, W) uint8 frame of an opened decoder, failures named."""

    def get_frame(i: int) -> torch.Tensor:
        try:
            return decoder.get_frame_at(i).data
        except (RuntimeError, IndexError, ValueError) as err:
            message = _decoder_message(err)
            if _cannot_seek(message):
                raise GVEInputError(
                    name,
                    f"FFmpeg cannot seek to frame {i} of {total} ({message}); seek_mode='exact' reads such files "
                    "in order",
                ) from None
            raise GVEInputError(
                name, f"decoding frame {i} of {total} failed (truncated or corrupt file): {message}"
            ) from None

    return get_frame


def _open_frames(
    source: VideoInput, name: str, *, seek_mode: str, num_threads: int, max_source_pixels: int | None,
    image_reader: str, decode_device: str = DEFAULT_DECODE_DEVICE,
) -> tuple[int, float, Callable[[int], torch.Tensor]]:  # fmt: skip
    """(frame count, native fps, index -> ``(3, H, W)`` uint8 frame at source resolution) of one
    video input of any kind, checked: a usable frame rate, a frame size within the limits, at
    least `FRAME_FACTOR` frames. The one opening step of `read_video` and `read_segments`."""
    if isinstance(source, dict):
        if "frames" not in source or "fps" not in source:
            raise GVEInputError(name, "a video dict needs 'frames' and 'fps' keys")
        source = VideoFrames(frames=source["frames"], fps=source["fps"], layout=source.get("layout"))
    elif not isinstance(source, VideoFrames) and _is_webp(source):
        source = webp_frames(source, name, max_source_pixels)

    if isinstance(source, VideoFrames):
        total, native_fps, get_frame = _frames_reader(source, name, image_reader)
    else:
        check_decode_device(decode_device)
        decoder = _open_decoder(source, name, seek_mode, num_threads, decode_device)
        meta = decoder.metadata
        total = len(decoder)
        native_fps = float(meta.average_fps or 0.0)
        if not native_fps > 0 and meta.duration_seconds:
            native_fps = total / meta.duration_seconds
        if not 0 < native_fps < math.inf:
            raise GVEInputError(name, "has no usable frame rate in its metadata")
        if meta.height is not None and meta.width is not None:
            _check_source_size(name, meta.height, meta.width, max_source_pixels)
        get_frame = _decoder_reader(decoder, name, total)

    if total == 0:
        raise GVEInputError(name, "has no frames")
    if total < FRAME_FACTOR:
        raise GVEInputError(
            name, f"has only {total} frame; a video needs at least {FRAME_FACTOR} (embed the frame as an image)"
        )
    return total, native_fps, get_frame


def _frame_count(
    name: str, total: int, native_fps: float, fps: float, min_frames: int, max_frames: int, num_frames: int | None
) -> int:
    """`smart_nframes` for one video (or segment), its refusal a `GVEInputError` naming it."""
    try:
        return smart_nframes(
            total, native_fps, fps=fps, min_frames=min_frames, max_frames=max_frames, num_frames=num_frames
        )
    except ValueError as err:
        raise GVEInputError(name, str(err)) from None


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
    decode_device: str = DEFAULT_DECODE_DEVICE,
    image_reader: str = DEFAULT_IMAGE_READER,
    name: str | None = None,
    cap_pixels_per_frame: bool = DEFAULT_CAP_PIXELS_PER_FRAME,
) -> SampledVideo:
    """Sample and resize the frames GVE embeds for one video.

    Args:
        source: a path, ``bytes``, a binary file object, a torchcodec ``VideoDecoder``,
            ``VideoFrames(frames, fps)`` or a mapping ``{"frames": ..., "fps": ...}``; or a
            `SampledVideo` whose frames were already chosen and resized by another protocol
            (`modeling_gve.uvrb.frames`), used as given.
        fps, min_frames, max_frames, num_frames: the frame-count rule (see `smart_nframes`).
        min_pixels, max_pixels: per-frame area bounds for `smart_resize`; like the reference, a frame
            never exceeds ``VIDEO_FRAME_MAX_PIXELS`` (768*28*28) whatever ``max_pixels`` asks (with a
            warning), unless ``cap_pixels_per_frame`` is False.
        max_total_pixels: whole-video pixel budget shared by the frames (reference default).
        max_source_pixels: refuse sources larger than this many pixels per frame (``None``: no limit).
        seek_mode: torchcodec ``"exact"`` (scans the index, exact frame count, the reference)
            or ``"approximate"`` (trusts the header; faster on long files).
        num_threads: FFmpeg decoding threads per video.
        decode_device: ``"cpu"`` (default) or ``"cuda"`` / ``"cuda:N"``: torchcodec's GPU (NVDEC) decoding;
            frames are resized on that GPU and returned on the CPU. GPU colour conversion is not
            bit-exact: frames differ from CPU decoding by a few levels (see ``docs/gpu.md``).
            Ignored for already decoded frames (``VideoFrames``, a given ``VideoDecoder``).
        image_reader: how frames given as images (files, PIL) become RGB (see `to_rgb`).
        name: how to call this input in errors (defaults to `describe(source)`).
        cap_pixels_per_frame: apply the reference's per-frame cap (see ``min_pixels, max_pixels``).

    A file FFmpeg can decode but not seek in (e.g. Matroska with negative timestamps) is read in
    order instead (`SequentialDecoder`); an animated WebP, which FFmpeg cannot decode, is read
    with Pillow (`webp_frames`).

    Returns:
        `SampledVideo` with ``frames`` of shape ``(nframes, 3, H, W)`` uint8.

    Raises:
        GVEInputError: missing/empty/corrupt/audio-only files, one-frame videos, absurd aspect
            ratios, oversized frames; the message names the input and the reason.
    """
    name = name or describe(source)
    if isinstance(source, SampledVideo):
        return _check_sampled(source, name)
    total, native_fps, get_frame = _open_frames(
        source, name, seek_mode=seek_mode, num_threads=num_threads, decode_device=decode_device,
        max_source_pixels=max_source_pixels, image_reader=image_reader,
    )  # fmt: skip
    nframes = _frame_count(name, total, native_fps, fps, min_frames, max_frames, num_frames)
    indices = sample_indices(total, nframes)
    lo, hi = video_pixel_bounds(nframes, min_pixels, max_pixels, max_total_pixels, cap_pixels_per_frame)

    frames, size, source_shape = [], None, None
    for i in indices:
        frame = get_frame(i)  # (3, H, W) uint8 at source resolution
        if size is None:
            source_shape = tuple(frame.shape[-2:])
            _check_source_size(name, *source_shape, max_source_pixels)
            size = _target_size(name, source_shape, lo, hi)
        elif tuple(frame.shape[-2:]) != source_shape:
            raise GVEInputError(name, f"frame {i} is {tuple(frame.shape[-2:])}, unlike the first frame {source_shape}")
        frames.append(_resize(frame, size).cpu())  # a no-op for CPU frames; GPU frames come back resized
    return SampledVideo(
        frames=torch.stack(frames), fps=native_fps, frames_indices=indices, total_num_frames=total, source=name
    )


def _target_size(name: str, shape: tuple[int, int], lo: int, hi: int) -> tuple[int, int]:
    """`smart_resize` of a ``(height, width)`` source frame, its refusal a `GVEInputError`."""
    try:
        return smart_resize(*shape, min_pixels=lo, max_pixels=hi)
    except ValueError as err:
        raise GVEInputError(name, str(err)) from None


# --------------------------------------------------------------------------- segments


def _frame_at(seconds: float, fps: float) -> int:
    """The first frame whose time ``index / fps`` is >= ``seconds`` (tolerant to float noise)."""
    return math.ceil(seconds * fps - 1e-6)


def segment_windows(
    total_frames: int, fps: float, segment_seconds: float, stride_seconds: float | None = None
) -> list[tuple[int, int]]:
    """The frame ranges ``[first, stop)`` of a video's segments: a segment starts every
    ``stride_seconds`` (default ``segment_seconds``: back to back) and holds the frames whose time
    ``index / fps`` lies in ``[start, start + segment_seconds)``. The last segment ends with the video,
    so it may be shorter (a short tail); a video shorter than one segment is one segment, the whole
    video. A tail of fewer than `FRAME_FACTOR` frames joins the segment before it.

    Raises:
        ValueError: ``segment_seconds`` or ``stride_seconds`` is not positive, or a segment would
            hold fewer than `FRAME_FACTOR` frames at this ``fps`` (the message says which length works).
    """
    stride_seconds = segment_seconds if stride_seconds is None else stride_seconds
    for option, value in (("segment_seconds", segment_seconds), ("stride_seconds", stride_seconds)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
            raise ValueError(f"{option} must be a positive number of seconds, got {value!r}")
    length = segment_seconds * fps  # frames per segment (fractional)
    if length < FRAME_FACTOR and total_frames > length:
        raise ValueError(
            f"segment_seconds={segment_seconds:g} holds {length:.2g} frame(s) of a {fps:g} fps video; a segment needs "
            f"at least {FRAME_FACTOR} frames: use segment_seconds >= {FRAME_FACTOR / fps:.3g}"
        )

    windows: list[tuple[int, int]] = []
    step = 0
    while (first := _frame_at(step * stride_seconds, fps)) < total_frames:
        stop = min(_frame_at(step * stride_seconds + segment_seconds, fps), total_frames)
        if stop - first < FRAME_FACTOR and windows:  # a tail too short to embed on its own
            windows[-1] = (windows[-1][0], total_frames)
            break
        windows.append((first, stop))
        if stop == total_frames:
            break
        step += 1
    return windows


SHOT_THRESHOLD = 27.0  # PySceneDetect's ContentDetector default
SHOT_DETECTOR = f"ContentDetector(threshold={SHOT_THRESHOLD:g})"  # how shots were cut, as recorded with their vectors


def shot_windows(
    source: Any, total_frames: int, fps: float, threshold: float = SHOT_THRESHOLD
) -> list[tuple[int, int]]:
    """The frame ranges ``[first, stop)`` of a video's shots: cuts found by PySceneDetect's
    ``ContentDetector`` (``threshold``: its default, 27), mapped to this reader's frames by time.
    A video without a cut is one shot; a piece of fewer than `FRAME_FACTOR` frames between cuts
    (a flash) joins the shot after it, at the end the shot before it. PySceneDetect reads the file
    once more, on its own (OpenCV) decoder.

    Raises:
        ValueError: ``source`` is not a path to a file (shots are detected in files only).
        ImportError: PySceneDetect is not installed (the ``scenedetect`` extra).
    """
    if not isinstance(source, (str, os.PathLike)):
        raise ValueError("segments='shots' needs a video file path (shots are detected in files)")
    from scenedetect import ContentDetector, detect

    cuts = [start.seconds for start, _ in detect(os.fspath(source), ContentDetector(threshold=threshold))[1:]]
    windows: list[tuple[int, int]] = []
    first = 0
    for stop in [min(_frame_at(t, fps), total_frames) for t in cuts] + [total_frames]:
        if stop - first < FRAME_FACTOR:  # a flash or a cut at the very end: no shot of its own
            continue
        windows.append((first, stop))
        first = stop
    if not windows:
        return [(0, total_frames)]
    windows[-1] = (windows[-1][0], total_frames)  # a short last piece joins the last shot
    return windows


def check_shot_detection() -> None:
    """Raise a clear `ImportError` now when ``segments="shots"`` cannot run (before any video is read)."""
    try:
        import scenedetect  # noqa: F401
    except ImportError as err:
        raise ImportError(
            "segments='shots' needs PySceneDetect with OpenCV: pip install -e \".[scenedetect]\""
        ) from err


def check_segment_options(segment_seconds: float, stride_seconds: float | None, segments: str) -> None:
    """Raise now (before any video is read) for a ``segments`` kind other than ``"fixed"`` or
    ``"shots"``, shots without PySceneDetect, or windows `segment_windows` refuses."""
    if segments not in ("fixed", "shots"):
        raise ValueError(f"segments must be 'fixed' or 'shots', got {segments!r}")
    if segments == "shots":
        check_shot_detection()
    segment_windows(0, 1.0, segment_seconds, stride_seconds)


@dataclass
class SampledSegment:
    """One segment of a video as GVE sees it.

    Attributes:
        start (`float`): seconds, the time of its first frame (``index / native fps``).
        end (`float`): seconds, the time just after its last frame.
        video (`SampledVideo`): its frames, sampled over the segment alone by the video rule
            (``frames_indices`` count from the segment's first frame, ``total_num_frames`` is the
            segment's frame count), so a segment embeds as the same frames cut into a file would.
        whole (`bool`): this is the whole video (``include_video=True``), not a segment.
    """

    start: float
    end: float
    video: SampledVideo
    whole: bool = False


@dataclass
class _SegmentPlan:
    """The frames one segment needs, and those already read and resized."""

    first: int
    stop: int
    indices: list[int]
    bounds: tuple[int, int]
    whole: bool
    size: tuple[int, int] | None = None
    frames: list = field(default_factory=list)


def read_segments(
    source: VideoInput,
    *,
    segment_seconds: float,
    stride_seconds: float | None = None,
    segments: Literal["fixed", "shots"] = "fixed",
    include_video: bool = False,
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
    cap_pixels_per_frame: bool = DEFAULT_CAP_PIXELS_PER_FRAME,
    decode_device: str = DEFAULT_DECODE_DEVICE,
    image_reader: str = DEFAULT_IMAGE_READER,
    name: str | None = None,
) -> Iterator[SampledSegment]:
    """The segments of one video (`segment_windows`), each sampled and resized by `read_video`'s
    rule applied to the segment alone (8 frames by default), yielded in order as soon as their
    frames are read.

    One decoder for the whole video; every frame any segment needs is decoded once, in increasing
    order (one seek each at most, none within a keyframe interval), and only the frames of
    segments not yet complete are held: memory does not grow with the video's length.

    Args:
        source, fps ... image_reader, name: as for `read_video`.
        segment_seconds, stride_seconds: the windows (see `segment_windows`).
        segments: ``"fixed"`` (windows of ``segment_seconds``) or ``"shots"`` (`shot_windows`: one
            segment per shot of a video file; ``segment_seconds`` and ``stride_seconds`` are ignored).
        include_video: also yield the whole video (``whole=True``, last), sampled as `read_video` does.

    Raises:
        GVEInputError: what `read_video` refuses, and a ``segment_seconds`` shorter than two frames
            of this video. Raised when met, possibly after some segments were yielded.
    """
    # Over 60 lines: planning every segment's frames and the one ordered pass over them are one
    # loop's state (the plans waiting for each frame); split, each half would need the other's.
    name = name or describe(source)
    total, native_fps, get_frame = _open_frames(
        source, name, seek_mode=seek_mode, num_threads=num_threads, decode_device=decode_device,
        max_source_pixels=max_source_pixels, image_reader=image_reader,
    )  # fmt: skip
    try:
        if segments == "shots":
            windows = shot_windows(source, total, native_fps)
        else:
            windows = segment_windows(total, native_fps, segment_seconds, stride_seconds)
    except ValueError as err:
        raise GVEInputError(name, str(err)) from None
    spans = [(first, stop, False) for first, stop in windows] + ([(0, total, True)] if include_video else [])
    plans, wanted = [], {}  # wanted: frame index -> the plans that take it
    for first, stop, whole in spans:
        label = name if whole else f"{name} [{first / native_fps:.3f}-{stop / native_fps:.3f} s]"
        count = _frame_count(label, stop - first, native_fps, fps, min_frames, max_frames, num_frames)
        plan = _SegmentPlan(
            first, stop, [first + i for i in sample_indices(stop - first, count)],
            video_pixel_bounds(count, min_pixels, max_pixels, max_total_pixels, cap_pixels_per_frame), whole,
        )  # fmt: skip
        plans.append(plan)
        for index in plan.indices:
            wanted.setdefault(index, []).append(plan)
    source_shape = None
    for index in sorted(wanted):
        frame = get_frame(index)  # (3, H, W) uint8 at source resolution
        if source_shape is None:
            source_shape = tuple(frame.shape[-2:])
            _check_source_size(name, *source_shape, max_source_pixels)
        elif tuple(frame.shape[-2:]) != source_shape:
            raise GVEInputError(name, f"frame {index} is {tuple(frame.shape[-2:])}, unlike the first frame {source_shape}")
        resized: dict[tuple[int, int], torch.Tensor] = {}  # one resize per target size
        for plan in wanted.pop(index):
            plan.size = plan.size or _target_size(name, source_shape, *plan.bounds)
            if plan.size not in resized:
                resized[plan.size] = _resize(frame, plan.size).cpu()  # GPU frames come back resized
            plan.frames.append(resized[plan.size])
            if index == plan.indices[-1]:
                yield SampledSegment(
                    start=plan.first / native_fps,
                    end=plan.stop / native_fps,
                    video=SampledVideo(
                        frames=torch.stack(plan.frames), fps=native_fps,
                        frames_indices=[i - plan.first for i in plan.indices], total_num_frames=plan.stop - plan.first,
                        source=name,
                    ),  # fmt: skip
                    whole=plan.whole,
                )
                plan.frames = []


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


def _is_webp(source: Any) -> bool:
    """Whether ``source`` (a path, bytes or a file object) starts like a WebP file."""
    try:
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as file:
                header = file.read(12)
        elif isinstance(source, (bytes, bytearray, memoryview)):
            header = bytes(source[:12])
        elif isinstance(source, io.IOBase) and source.seekable():
            position = source.tell()
            header = source.read(12)
            source.seek(position)
        else:
            return False
    except OSError:
        return False  # missing or unreadable: the decoder reports it
    return header[:4] == b"RIFF" and header[8:12] == b"WEBP"


class _PillowFrames:
    """The frames of an animated image, decoded one at a time when indexed."""

    def __init__(self, image: Image.Image):
        self.image = image

    def __len__(self) -> int:
        return getattr(self.image, "n_frames", 1)

    def __getitem__(self, index: int) -> Image.Image:
        self.image.seek(index)
        return self.image.copy()


def webp_frames(source: Any, name: str, max_source_pixels: int | None = DEFAULT_MAX_SOURCE_PIXELS) -> VideoFrames:
    """A WebP file as a video, read with Pillow (FFmpeg cannot decode animated WebP): its frames,
    at the rate their durations give. A still WebP is one frame (too few for a video)."""
    image = load_pil(source, name, max_source_pixels)
    count = getattr(image, "n_frames", 1)
    image.seek(count - 1)
    image.load()
    milliseconds = image.info.get("timestamp", 0) + image.info.get("duration", 0)
    image.seek(0)
    if count > 1 and milliseconds <= 0:
        raise GVEInputError(name, "animated WebP without frame durations: its frame rate is unknown")
    return VideoFrames(
        frames=_PillowFrames(image), fps=count / milliseconds * 1000 if count > 1 else 1.0, layout="THWC"
    )


EXIF_ORIENTATION = 0x0112
HIGH_DEPTH_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")


def to_rgb(image: Image.Image, image_reader: str = DEFAULT_IMAGE_READER) -> Image.Image:
    """An image as 8-bit RGB, by one of two rules (`IMAGE_READERS`):

    * ``"reference"``: qwen-vl-utils' ``to_rgb`` exactly: RGBA composited on white, every other
      mode ``convert("RGB")`` (EXIF orientation ignored; 16-bit and float values clipped at 255,
      so they come out near-white; LA/P transparency dropped, showing the hidden colors).
    * ``"gve"``: the EXIF orientation applied first (as photo viewers do); 16-bit and float
      single-channel images mapped to 8 bits by their range (`to_8bit`); every kind of
      transparency (RGBA, LA, PA, premultiplied, a palette or color key) composited on white.

    Ordinary images (RGB, L, P without transparency, RGBA; no EXIF rotation) give the same
    pixels under both rules.
    """
    if image_reader == "reference":
        if image.mode == "RGBA":
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(image, mask=image.split()[3])
            return background
        return image.convert("RGB")
    if image_reader != "gve":
        raise ValueError(f"image_reader must be one of {IMAGE_READERS}, got {image_reader!r}")
    if image.getexif().get(EXIF_ORIENTATION, 1) in range(2, 9):
        from PIL import ImageOps

        image = ImageOps.exif_transpose(image)
    if image.mode in HIGH_DEPTH_MODES:
        image = to_8bit(image)
    if image.mode in ALPHA_MODES or "transparency" in image.info:
        return to_rgb(image.convert("RGBA") if image.mode != "RGBA" else image, "reference")
    return image.convert("RGB")


def to_8bit(image: Image.Image) -> Image.Image:
    """A 16-bit, 32-bit integer or float single-channel image as 8-bit ``"L"``: 16-bit modes
    (``I;16``...) scale 0-65535 to 0-255; ``I`` and ``F`` scale by the smallest of the ranges
    0-1 (float only), 0-255 and 0-65535 that holds their values (NaN is 0; values outside clip).
    Done in bands of rows, so the extra memory is small next to the image's own."""
    array = np.asarray(image)  # (H, W)
    rows = max(1, (1 << 22) // max(1, image.width))
    top = 65535.0
    if not image.mode.startswith("I;16"):
        peak = 0.0
        for start in range(0, array.shape[0], rows):
            band = array[start : start + rows]
            band = band[np.isfinite(band)] if band.dtype.kind == "f" else band
            peak = max(peak, float(band.max(initial=0)))
        top = 1.0 if array.dtype.kind == "f" and peak <= 1.0 else 255.0 if peak <= 255 else 65535.0
    out = np.empty(array.shape, dtype=np.uint8)
    for start in range(0, array.shape[0], rows):
        band = np.nan_to_num(array[start : start + rows].astype(np.float32), nan=0.0)
        out[start : start + rows] = np.clip(np.rint(band * np.float32(255.0 / top)), 0, 255)
    return Image.fromarray(out, "L")


def load_pil(source: Any, name: str | None = None, max_source_pixels: int | None = None) -> Image.Image:
    """Open an image from a path, bytes, a file object or a PIL image, with clear errors.

    The size is checked from the header, before the pixels are decoded."""
    name = name or describe(source)
    if isinstance(source, Image.Image):
        _check_source_size(name, source.height, source.width, max_source_pixels)
        try:
            source.load()  # a lazily opened image of a broken file fails here, not later
        except (OSError, SyntaxError, ValueError) as err:
            raise GVEInputError(name, f"could not be read as an image (corrupt or truncated): {err}") from None
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
    image_reader: str = DEFAULT_IMAGE_READER,
    name: str | None = None,
) -> Image.Image:
    """Load one image, make it RGB (`to_rgb` with ``image_reader``) and resize it by the reference
    rule (PIL bicubic). An animated image (GIF, WebP, APNG) is its first frame.

    Returns:
        RGB `PIL.Image.Image` whose sides are multiples of 28.
    """
    name = name or describe(source)
    image = to_rgb(load_pil(source, name, max_source_pixels), image_reader)
    try:
        height, width = smart_resize(image.height, image.width, min_pixels=min_pixels, max_pixels=max_pixels)
    except ValueError as err:
        raise GVEInputError(name, str(err)) from None
    return image.resize((width, height), resample=Image.Resampling.BICUBIC)


__all__ = [
    "FRAME_EXTENSIONS",
    "IMAGE_READERS",
    "VIDEO_FRAME_MAX_PIXELS",
    "GVEInputError",
    "SequentialDecoder",
    "SampledSegment",
    "SampledVideo",
    "VideoFrames",
    "check_decode_device",
    "check_segment_options",
    "read_image",
    "read_segments",
    "read_video",
    "sample_indices",
    "segment_windows",
    "smart_nframes",
    "smart_resize",
    "to_rgb",
    "valid_decode_device",
    "webp_frames",
]
