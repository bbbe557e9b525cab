# Copyright 2026 The GVE package authors. Apache-2.0.
"""Frames and clips cut from each kept video into the asset pool (V-SynFlow stage 1).

Frames: torchcodec seeks to the centres of ``count`` equal segments of the video and decodes
only those frames (one decoder per video), saved as JPEG. Clips: ONE ffmpeg process per video
writes all its clips (input-side seeking per clip), re-encoded with libx264 for
frame-accurate cuts, or stream-copied (``codec="copy"``, fast, cuts snap to keyframes).
Every file is written under a temporary name and renamed, so a kill never leaves a
truncated file behind a finished record.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..video import GVEInputError, _decoder_message, _open_decoder

FFMPEG = ("ffmpeg", "-nostdin", "-v", "error", "-y")  # no prompts, errors only, overwrite
# libx264 settings of re-encoded clips: frame-accurate cuts, widely playable output
LIBX264_CLIP_ARGS = ("-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p")
# Seconds one ffmpeg call may take to cut a video's clips: a few seconds of 4K re-encoded per clip
# take far less; a call still running then is stuck (a broken file, a hung network mount).
CLIP_TIMEOUT = 600.0


@dataclass
class VideoInfo:
    duration: float
    fps: float
    num_frames: int
    width: int
    height: int


def probe(path: str) -> VideoInfo:
    """Duration, fps, frame count and size from the container header (torchcodec)."""
    decoder = _open_decoder(path, path, "approximate", 1)
    meta = decoder.metadata
    fps = float(meta.average_fps or 0.0)
    duration = float(meta.duration_seconds or 0.0)
    if duration <= 0 and fps > 0:
        duration = len(decoder) / fps
    if duration <= 0:
        raise GVEInputError(path, "has no usable duration in its metadata")
    return VideoInfo(
        duration=duration, fps=fps, num_frames=len(decoder), width=meta.width or 0, height=meta.height or 0
    )


def segment_centres(duration: float, count: int) -> list[float]:
    """Times (s) at the centres of ``count`` equal segments of ``[0, duration)``."""
    return [(k + 0.5) * duration / count for k in range(count)]


def extract_frames(
    path: str, out_dir: str | os.PathLike, count: int, *, max_side: int | None = 1280, quality: int = 90
) -> list[Path]:
    """Save ``count`` frames of ``path`` as ``out_dir/frame-000.jpg``...

    Raises:
        GVEInputError: unreadable video, or decoding failed.
    """
    from torchvision.io import encode_jpeg
    from torchvision.transforms.functional import resize

    if count <= 0:
        return []
    decoder = _open_decoder(path, path, "approximate", 1)
    meta = decoder.metadata
    duration = float(meta.duration_seconds or 0.0) or (len(decoder) / float(meta.average_fps or 1.0))
    # stay clear of the last frame's end: played_at must be < the end of the stream
    times = [min(t, max(0.0, duration - 1e-3)) for t in segment_centres(duration, count)]
    try:
        frames = decoder.get_frames_played_at(seconds=times).data  # (count, 3, H, W) uint8
    except (RuntimeError, IndexError, ValueError) as err:
        raise GVEInputError(path, f"decoding frames at {times} failed: {_decoder_message(err)}") from None
    height, width = frames.shape[-2:]
    if max_side is not None and max(height, width) > max_side:
        scale = max_side / max(height, width)
        frames = resize(frames, [max(1, round(height * scale)), max(1, round(width * scale))], antialias=True)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for k, frame in enumerate(frames):
        target = out_dir / f"frame-{k:03d}.jpg"
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(encode_jpeg(frame.contiguous(), quality=quality).numpy().tobytes())
        os.replace(tmp, target)
        written.append(target)
    return written


def clip_windows(duration: float, count: int, seconds: float) -> list[tuple[float, float]]:
    """``(start, length)`` of ``count`` clips centred on equal segments; a clip is at most
    half the video long (a V2V query must be a part of its target)."""
    length = min(seconds, duration / 2)
    return [
        (min(max(0.0, c - length / 2), max(0.0, duration - length)), length) for c in segment_centres(duration, count)
    ]


def cut_clips(
    path: str,
    out_dir: str | os.PathLike,
    count: int,
    *,
    seconds: float = 3.0,
    codec: Literal["libx264", "copy"] = "libx264",
    duration: float | None = None,
    timeout: float = CLIP_TIMEOUT,
) -> list[Path]:
    """Write ``count`` clips of ``path`` as ``out_dir/clip-000.mp4``... with one ffmpeg call,
    killed after ``timeout`` seconds.

    Raises:
        GVEInputError: unreadable video, ffmpeg failure (its last error line is quoted) or
            ffmpeg still running after ``timeout`` seconds.
    """
    if count <= 0:
        return []
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("cutting clips needs the ffmpeg command line (apt-get install -y ffmpeg)")
    duration = duration if duration is not None else probe(path).duration
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    windows = clip_windows(duration, count, seconds)
    cmd = list(FFMPEG)
    for start, length in windows:
        cmd += ["-ss", f"{start:.3f}", "-t", f"{length:.3f}", "-i", str(path)]
    targets, tmps = [], []
    for k in range(len(windows)):
        target = out_dir / f"clip-{k:03d}.mp4"
        tmp = target.with_name(f".{target.stem}.tmp.mp4")
        cmd += ["-map", f"{k}:v:0", "-an", "-sn", "-dn"]
        if codec == "copy":
            cmd += ["-c:v", "copy"]
        else:
            cmd += LIBX264_CLIP_ARGS
        cmd += ["-movflags", "+faststart", str(tmp)]
        targets.append(target)
        tmps.append(tmp)
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:  # ffmpeg was killed; its partial files must not stay
        result = None
    if result is None or result.returncode != 0:
        for tmp in tmps:
            tmp.unlink(missing_ok=True)
        if result is None:
            raise GVEInputError(path, f"ffmpeg did not finish cutting {count} clip(s) within {timeout:g} s")
        last = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise GVEInputError(path, f"ffmpeg could not cut clips: {last}")
    for tmp, target in zip(tmps, targets):
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise GVEInputError(path, f"ffmpeg wrote an empty clip {target.name}")
        os.replace(tmp, target)
    return targets


def link_file(
    source: str | os.PathLike, target: str | os.PathLike, mode: Literal["hardlink", "copy", "symlink"]
) -> Path:
    """Put ``source`` at ``target`` (hard link, falling back to a copy across file systems)."""
    source, target = Path(source), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.unlink(missing_ok=True)
    if mode == "symlink":
        tmp.symlink_to(source.resolve())
    elif mode == "hardlink":
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copy2(source, tmp)
    else:
        shutil.copy2(source, tmp)
    os.replace(tmp, target)
    return target


__all__ = [
    "CLIP_TIMEOUT",
    "FFMPEG",
    "LIBX264_CLIP_ARGS",
    "VideoInfo",
    "clip_windows",
    "cut_clips",
    "extract_frames",
    "link_file",
    "probe",
    "segment_centres",
]
