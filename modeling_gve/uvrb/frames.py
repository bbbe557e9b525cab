# Copyright 2026 The GVE package authors. Apache-2.0.
"""How a folder of extracted frames (``videos_frames/<video>/*.jpg``) becomes model input.

A frame folder carries no frame rate and no rule for which frames to use; for many UVRB tasks it
is the only media, so the choice decides the scores. Three protocols (``--frames-protocol``):

- ``video`` (default): the folder is read like the video it was extracted from
  (`VideoFrames.from_folder`): GVE's frame-count rule picks 8 frames at rounded
  ``linspace(0, n - 1, 8)`` positions (fewer, and even, for a shorter folder), each resized once by
  the video pixel bounds, the temporal positions at ``fps``. This is the paper's protocol for a
  video file applied to its frames, so a folder and its source video give nearly the same vector
  (they differ only by the JPEG round trip and the frame rate of extraction).
- ``reference``: what ``qwen_vl_utils.fetch_video`` does given the frame list, with GVE's video
  settings (``min_pixels``, ``max_pixels``, ``total_pixels``) and ``sample_fps = fps``: every frame
  (padded to an even count by repeating the last), each resized by the image rule (to multiples of
  56, as qwen-vl-utils 0.0.14 does for listed frames), then the stack by the video rule. A long
  folder then needs more tokens than ``max_length`` and is skipped.
- ``uniform``: ``N = max_frames`` (or ``num_frames``) frames at ``numpy.linspace(0, n - 1, N,
  dtype=int)`` positions, repeated in place for a shorter folder, each resized by the video pixel
  bounds, the temporal positions at the rate of the selection (``N / n * fps``): what third-party
  UVRB harnesses do.

The protocol is part of a frame folder's cache key (``video`` keeps the key that ``gve search`` and
V-SynFlow give the same folder) and is recorded in ``results.json``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..video import (
    DEFAULT_MAX_FRAMES,
    DEFAULT_MAX_TOTAL_PIXELS,
    DEFAULT_VIDEO_MAX_PIXELS,
    DEFAULT_VIDEO_MIN_PIXELS,
    FRAME_FACTOR,
    IMAGE_FACTOR,
    SampledVideo,
    VideoFrames,
    load_pil,
    smart_resize,
    to_rgb,
    video_pixel_bounds,
)
from .config import DEFAULT_FRAMES_FPS, FramesProtocol

FRAMES_PROTOCOLS: tuple[str, ...] = ("video", "reference", "uniform")


@dataclass(frozen=True)
class FramesReading:
    """One frames protocol with the settings it needs (see the module docstring).

    Args:
        protocol: ``"video"``, ``"reference"`` or ``"uniform"``.
        fps: the frame rate of the folders.
        num_frames: ``uniform``'s N (made even).
        min_pixels, max_pixels, max_total_pixels: ``reference``'s pixel settings (GVE's video ones).
    """

    protocol: FramesProtocol = "video"
    fps: float = DEFAULT_FRAMES_FPS
    num_frames: int = DEFAULT_MAX_FRAMES
    min_pixels: int = DEFAULT_VIDEO_MIN_PIXELS
    max_pixels: int = DEFAULT_VIDEO_MAX_PIXELS
    max_total_pixels: int = DEFAULT_MAX_TOTAL_PIXELS

    def __post_init__(self) -> None:
        if self.protocol not in FRAMES_PROTOCOLS:
            raise ValueError(f"frames protocol must be one of {', '.join(FRAMES_PROTOCOLS)}; got {self.protocol!r}")
        if not self.fps > 0:
            raise ValueError(f"frames fps must be positive, got {self.fps!r}")

    @classmethod
    def for_sampling(cls, protocol: FramesProtocol, fps: float, sampling: dict) -> FramesReading:
        """The protocol with an encoder's effective sampling settings (`SamplingConfig.to_dict()`)."""
        count = sampling.get("num_frames") or sampling.get("max_frames", DEFAULT_MAX_FRAMES)
        return cls(
            protocol=protocol,
            fps=fps,
            num_frames=max(FRAME_FACTOR, count - count % FRAME_FACTOR),
            min_pixels=sampling.get("video_min_pixels", DEFAULT_VIDEO_MIN_PIXELS),
            max_pixels=sampling.get("video_max_pixels", DEFAULT_VIDEO_MAX_PIXELS),
            max_total_pixels=sampling.get("max_total_pixels", DEFAULT_MAX_TOTAL_PIXELS),
        )

    def record(self) -> dict:
        """What ``results.json`` records of it."""
        out: dict[str, Any] = {"protocol": self.protocol, "fps": self.fps}
        if self.protocol == "uniform":
            out["num_frames"] = self.num_frames
        return out

    def model_input(self, folder: str | os.PathLike) -> VideoFrames | SampledVideo:
        """The video input `GVEModel.encode` takes for ``folder``."""
        frames = VideoFrames.from_folder(folder, fps=self.fps)
        if self.protocol == "video":
            return frames
        if self.protocol == "uniform":
            return uniform_frames(frames, self.num_frames)
        return reference_frames(
            frames.frames, self.fps, min_pixels=self.min_pixels, max_pixels=self.max_pixels,
            total_pixels=self.max_total_pixels, name=str(folder),
        )  # fmt: skip

    def key_input(self, folder: str | os.PathLike) -> Any:
        """What ``folder``'s cache key is computed from (`embedding_cache.item_key`): the model
        input itself where it is made of files (``video``, ``uniform``), else the frame list marked
        with the protocol (``reference``: its input is pixels, built only when it is encoded)."""
        if self.protocol != "reference":
            return self.model_input(folder)
        return {"frames": VideoFrames.from_folder(folder, fps=self.fps), "qwen_vl_utils_fetch_video": True}


def uniform_frames(frames: VideoFrames, count: int) -> VideoFrames:
    """``count`` frames at ``numpy.linspace(0, n - 1, count, dtype=int)`` positions, as a clip at
    the rate they were picked at (``count / n * fps``)."""
    total = len(frames.frames)
    indices = np.linspace(0, total - 1, count, dtype=int).tolist()
    return VideoFrames(frames=[frames.frames[i] for i in indices], fps=count / total * frames.fps)


def reference_frames(
    files: list[str], sample_fps: float, *, min_pixels: int, max_pixels: int, total_pixels: int, name: str = ""
) -> SampledVideo:
    """``qwen_vl_utils.fetch_video({"video": files, "sample_fps": ..., "min_pixels": ...,
    "max_pixels": ..., "total_pixels": ...})``, as a `SampledVideo`: every frame opened, made RGB
    and resized by the image rule (PIL bicubic), the last repeated to an even count, then the stack
    resized by the video rule (bicubic, antialias); the clip runs at ``sample_fps``."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.functional import resize

    images = []
    for file in files:
        image = to_rgb(load_pil(file), "reference")  # qwen-vl-utils' own RGB rule
        # qwen-vl-utils passes its 28-pixel factor where fetch_image expects the 14-pixel patch size,
        # so a listed frame's sides are first rounded to multiples of 56: done here the same way.
        height, width = smart_resize(
            image.height, image.width, min_pixels=min_pixels, max_pixels=max_pixels, factor=2 * IMAGE_FACTOR
        )
        images.append(image.resize((width, height)))
    images += images[-1:] * (len(images) % FRAME_FACTOR)
    video = torch.stack([torch.from_numpy(np.array(image)).permute(2, 0, 1) for image in images])  # (T, 3, H, W)
    low, high = video_pixel_bounds(len(images), min_pixels, max_pixels, total_pixels)
    size = smart_resize(*video.shape[-2:], min_pixels=low, max_pixels=high)
    # bicubic with antialias on the uint8 stack: the reference's values, before its .float()
    video = resize(video, list(size), interpolation=InterpolationMode.BICUBIC, antialias=True).contiguous()
    count = video.shape[0]
    return SampledVideo(
        frames=video, fps=float(sample_fps), frames_indices=list(range(count)), total_num_frames=count, source=name
    )


__all__ = ["FRAMES_PROTOCOLS", "FramesReading", "reference_frames", "uniform_frames"]
