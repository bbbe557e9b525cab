# Copyright 2026 The GVE package authors. Apache-2.0.
"""V-SynFlow I/O throughput, our way vs the obvious way, side by side.

1. Frames: `extract_frames` (one torchcodec decoder per video, seek + decode only the chosen
   frames) vs one ``ffmpeg -ss T -i video -frames:v 1 out.jpg`` process per frame.
2. Clips: `cut_clips` (one ffmpeg process per video writing all its clips) vs one ffmpeg
   process per clip (same encoder settings).
3. Captioner: requests/s of `OpenAICompatibleCaptioner` at several concurrency levels against
   the loopback OpenAI-compatible server (simulated generation latency; a short clip sent as a
   video_url data URL) vs a sequential ``httpx.Client`` loop building and posting the same
   requests one after the other.

    python benchmarks/bench_synthesis_io.py                     # defaults: 6 videos of 10 s, 640x360
    python benchmarks/bench_synthesis_io.py --videos 12 --latency 0.1 --requests 400
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from modeling_gve.synthesis.captioners import Job, OpenAICompatibleCaptioner
from modeling_gve.synthesis.extract import (
    FFMPEG,
    LIBX264_CLIP_ARGS,
    clip_windows,
    cut_clips,
    extract_frames,
    probe,
    segment_centres,
)
from modeling_gve.testing.loopback import LoopbackChatServer
from modeling_gve.synthesis.prompts import PromptLibrary
from modeling_gve.testing.media import make_video


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def ffmpeg(*args: str) -> None:
    subprocess.run([*FFMPEG, *args], check=True)


def ffmpeg_frame(video: Path, seconds: float, out: Path) -> None:
    ffmpeg("-ss", f"{seconds:.3f}", "-i", str(video), "-frames:v", "1", "-q:v", "3", str(out))


def ffmpeg_clip(video: Path, start: float, length: float, out: Path) -> None:
    """One clip per process, with the encoder settings of `cut_clips`."""
    ffmpeg(
        "-ss", f"{start:.3f}", "-t", f"{length:.3f}", "-i", str(video),
        "-map", "0:v:0", "-an", *LIBX264_CLIP_ARGS, "-movflags", "+faststart", str(out),
    )  # fmt: skip


def bench_frames(videos: list[Path], per_video: int, tmp: Path) -> None:
    count = len(videos) * per_video
    ours = timed(lambda: [extract_frames(str(v), tmp / "ours" / v.stem, per_video) for v in videos])

    def reference():
        for v in videos:
            duration = probe(str(v)).duration
            for k, t in enumerate(segment_centres(duration, per_video)):
                (tmp / "ref" / v.stem).mkdir(parents=True, exist_ok=True)
                ffmpeg_frame(v, t, tmp / "ref" / v.stem / f"frame-{k:03d}.jpg")

    ref = timed(reference)
    print(
        f"frames ({count}, {per_video}/video)   ours {count / ours:8.1f}/s   ffmpeg CLI per frame "
        f"{count / ref:8.1f}/s   ratio {ref / ours:5.2f}x"
    )


def bench_clips(videos: list[Path], per_video: int, seconds: float, tmp: Path) -> None:
    count = len(videos) * per_video
    ours = timed(lambda: [cut_clips(str(v), tmp / "ours-clips" / v.stem, per_video, seconds=seconds) for v in videos])

    def reference():
        for v in videos:
            for k, (start, length) in enumerate(clip_windows(probe(str(v)).duration, per_video, seconds)):
                (tmp / "ref-clips" / v.stem).mkdir(parents=True, exist_ok=True)
                ffmpeg_clip(v, start, length, tmp / "ref-clips" / v.stem / f"clip-{k:03d}.mp4")

    ref = timed(reference)
    print(
        f"clips  ({count}, {per_video}/video, {seconds:g} s, libx264)   ours {count / ours:6.2f}/s   "
        f"ffmpeg CLI per clip {count / ref:6.2f}/s   ratio {ref / ours:5.2f}x"
    )


def bench_captioner(video: Path, requests: int, latency: float, levels: list[int]) -> None:
    import httpx

    library = PromptLibrary()
    reqs = [
        library.request("video_captions", f"video_captions/v{i}", {"video_input": str(video)}, raw_caption="x", seed=i)
        for i in range(requests)
    ]
    size_kb = video.stat().st_size / 1024
    with LoopbackChatServer(latency=latency) as server:
        # the obvious way: build a request, post it, wait for the answer, next
        client = OpenAICompatibleCaptioner("m", server.url)
        with httpx.Client(base_url=server.url, timeout=60) as http:
            start = time.perf_counter()
            for r in reqs:
                body = client.body(Job(r))
                http.post("/chat/completions", json=body, headers={"X-VSynFlow-Key": r.key}).raise_for_status()
            sequential = requests / (time.perf_counter() - start)
        print(
            f"captioner ({requests} requests, {latency * 1000:g} ms server latency, "
            f"{size_kb:.0f} KB video as data URL)"
        )
        print(f"  sequential httpx loop        {sequential:8.1f} req/s")
        for level in levels:
            captioner = OpenAICompatibleCaptioner("m", server.url, concurrency=level)
            start = time.perf_counter()
            done = list(captioner.complete([Job(r) for r in reqs]))
            rate = requests / (time.perf_counter() - start)
            assert all(d.text for d in done)
            print(f"  ours, concurrency {level:<3}        {rate:8.1f} req/s   ratio {rate / sequential:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--frames-per-video", type=int, default=4)
    parser.add_argument("--clips-per-video", type=int, default=2)
    parser.add_argument("--clip-seconds", type=float, default=2.0)
    parser.add_argument("--requests", type=int, default=120)
    parser.add_argument("--latency", type=float, default=0.05, help="simulated generation time per request (s)")
    parser.add_argument("--concurrency", default="1,4,16,64")
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        videos = [
            make_video(tmp / "src" / f"v{i}.mp4", seconds=args.seconds, fps=30, size=(width, height))
            for i in range(args.videos)
        ]
        print(f"{args.videos} videos, {args.seconds:g} s, {args.size}, 30 fps, h264")
        bench_frames(videos, args.frames_per_video, tmp)
        bench_clips(videos, args.clips_per_video, args.clip_seconds, tmp)
        clip = make_video(tmp / "src" / "short.mp4", seconds=2.0, fps=10, size=(160, 120))
        bench_captioner(clip, args.requests, args.latency, [int(c) for c in args.concurrency.split(",")])


if __name__ == "__main__":
    main()
