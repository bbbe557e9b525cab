# Copyright 2026 The GVE package authors. Apache-2.0.
"""Reading the segments of a long video: our reader next to the obvious ways, side by side.

For synthetic H.264 videos of 10 s to 2 h (``--size`` pixels, ``--fps``), each method produces
the frames GVE embeds for every ``--segment-seconds`` segment (8 per segment, resized by GVE's
rule). Every (method, video) runs in a fresh process, so peak RSS is its own. Printed: wall time,
peak RSS growth, segments, and the ratios to our reader.

Methods:
  gve          `modeling_gve.video.read_segments`: one decoder for the video, each needed frame
               decoded once in increasing order, resized as read, a segment yielded (and dropped
               here) as soon as its 8 frames are read
  reopen       per segment, open a new decoder (torchcodec, exact seek) and read the segment's 8
               frames: what cutting the video into clips, or calling `read_video` per window, does
  decode-all   decode the whole video into memory, then take each segment's 8 frames

decode-all is not run where its frames would not fit in half this machine's memory; its
estimated need is printed instead. `GVEModel.encode_segments` reads through `read_segments` and
embeds ``batch_size`` segments at a time, so its memory is this reader's plus one batch.

    PYTHONPATH=. python benchmarks/bench_segments.py [--durations 10 60 600 7200] [--segment-seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

METHODS = ["gve", "reopen", "decode-all"]

CHILD = textwrap.dedent(
    """
    import json, sys, time
    import torch
    from torchcodec.decoders import VideoDecoder
    from modeling_gve.video import (
        DEFAULT_MAX_TOTAL_PIXELS, DEFAULT_VIDEO_MAX_PIXELS, DEFAULT_VIDEO_MIN_PIXELS, _resize, read_segments,
        sample_indices, segment_windows, smart_resize, video_pixel_bounds,
    )
    method, path, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    torch.set_num_threads(1)

    def rss_kib(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1])

    def plan(decoder):
        meta = decoder.metadata
        windows = segment_windows(meta.num_frames, meta.average_fps, seconds)
        lo, hi = video_pixel_bounds(8, DEFAULT_VIDEO_MIN_PIXELS, DEFAULT_VIDEO_MAX_PIXELS, DEFAULT_MAX_TOTAL_PIXELS)
        size = smart_resize(meta.height, meta.width, min_pixels=lo, max_pixels=hi)
        return [[first + i for i in sample_indices(stop - first, 8)] for first, stop in windows], size

    base = rss_kib("VmRSS")
    start = time.perf_counter()
    count = 0
    if method == "gve":
        for segment in read_segments(path, segment_seconds=seconds, num_frames=8):
            count += 1
    elif method == "reopen":
        segments, size = plan(VideoDecoder(path))
        for indices in segments:
            frames = VideoDecoder(path).get_frames_at(indices).data
            torch.stack([_resize(f, size) for f in frames])
            count += 1
    elif method == "decode-all":
        decoder = VideoDecoder(path)
        segments, size = plan(decoder)
        everything = decoder[:]
        for indices in segments:
            torch.stack([_resize(f, size) for f in everything[indices]])
            count += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"seconds": elapsed, "peak_mib": (rss_kib("VmHWM") - base) / 1024, "segments": count}))
    """
)


def make_video(path: Path, seconds: int, size: str, fps: int) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}", "-t", str(seconds),
             "-c:v", "libx264", "-preset", "ultrafast", "-g", str(2 * fps), "-pix_fmt", "yuv420p", str(path)],
            check=True,
        )  # fmt: skip
    return path


def label(seconds: int) -> str:
    return f"{seconds // 3600} h" if seconds >= 3600 else f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--durations", type=int, nargs="+", default=[10, 60, 600, 7200])
    parser.add_argument("--segment-seconds", type=float, default=10.0)
    parser.add_argument("--size", default="480x270")
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gve-bench-segments"))
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    budget = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    print(f"{args.size} H.264 at {args.fps} fps, {args.segment_seconds:g} s segments of 8 frames")
    print("| video | method | segments | wall time (s) | peak RSS growth (MiB) | time vs gve | memory vs gve |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for seconds in args.durations:
        video = make_video(args.workdir / f"{seconds}s-{args.size}-{args.fps}.mp4", seconds, args.size, args.fps)
        ours = None
        for method in args.methods:
            need = seconds * args.fps * width * height * 3
            if method == "decode-all" and need > budget:
                print(f"| {label(seconds)} | {method} | – | – | – | needs ~{need / 2**30:.0f} GiB for all frames | |")
                continue
            out = subprocess.run(
                [sys.executable, "-c", CHILD, method, str(video), str(args.segment_seconds)],
                env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            row = json.loads(out.stdout.strip().splitlines()[-1])
            ours = ours or row
            print(
                f"| {label(seconds)} | {method} | {row['segments']} | {row['seconds']:.2f} | {row['peak_mib']:.0f} | "
                f"{row['seconds'] / ours['seconds']:.1f}x | {max(row['peak_mib'], 1) / max(ours['peak_mib'], 1):.1f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
