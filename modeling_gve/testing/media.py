# Copyright 2026 The GVE package authors. Apache-2.0.
"""Real media files made offline: encoded videos (the ffmpeg command line's test sources), an
audio-only file and smooth random images. Used by tests, docs, benchmarks and `gve samples`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None


def make_video(
    path: str | Path,
    *,
    seconds: float = 2.0,
    fps: int = 10,
    size: tuple[int, int] = (160, 120),
    pattern: str = "testsrc2",
    codec: str = "libx264",
    faststart: bool = False,
    audio: bool = False,
) -> Path:
    """Encode a real video with ffmpeg's test sources.

    Args:
        size: ``(width, height)``.
        pattern: an ffmpeg lavfi video source (``testsrc2``, ``mandelbrot``, ``smptebars``,
            ``color=c=red``...); moving patterns give dynamic videos, ``color`` a static one.
        codec: ``libx264``, ``libx265``, ``libvpx-vp9``, ``mpeg4``...
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    separator = ":" if "=" in pattern else "="  # "color=c=red" already has options
    source = f"{pattern}{separator}size={width}x{height}:rate={fps}"
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=duration={seconds}", "-c:a", "aac"]
    cmd += ["-t", str(seconds), "-c:v", codec, "-pix_fmt", "yuv420p"]
    if faststart:
        cmd += ["-movflags", "+faststart"]
    subprocess.run(cmd + [str(path)], check=True, capture_output=True, timeout=300)
    return path


def concat_videos(paths: list[str | Path], out: str | Path) -> Path:
    """One video made of ``paths`` one after another, without re-encoding (ffmpeg's concat demuxer,
    stream copy): its frames are exactly the clips' frames. The clips must share codec, size and
    frame rate (those of `make_video` with the same settings do)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    listing = out.with_suffix(".txt")
    listing.write_text("".join(f"file '{Path(p).resolve()}'\n" for p in paths))
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing)]
    subprocess.run(cmd + ["-c", "copy", str(out)], check=True, capture_output=True, timeout=300)
    listing.unlink()
    return out


def make_audio_only(path: str | Path, seconds: float = 1.0) -> Path:
    """An .mp4 holding only an AAC audio stream."""
    path = Path(path)
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=duration={seconds}", "-c:a", "aac", str(path)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    return path


def make_image(path: str | Path | None = None, *, size: tuple[int, int] = (96, 64), seed: int = 0) -> Image.Image | Path:
    """A random but smooth RGB image; saved to ``path`` if given (format from the suffix)."""
    rng = np.random.default_rng(seed)
    width, height = size
    small = rng.integers(0, 256, size=(max(2, height // 8), max(2, width // 8), 3), dtype=np.uint8)
    image = Image.fromarray(small).resize((width, height), Image.Resampling.BILINEAR)
    if path is None:
        return image
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


__all__ = ["concat_videos", "ffmpeg_available", "make_audio_only", "make_image", "make_video"]
