"""Decoding that keeps up: GVE's frame reading inline, in threads, in processes and on the GPU, the
indexing throughput per core, and how many CPU cores one GPU needs.

The video set is synthetic 720p H.264 at 30 fps with x264's default GOP (a keyframe every 250
frames, ``-g 250``): to reach one of the 8 sampled frames the decoder decodes from the previous
keyframe, up to 249 frames, so a video costs far more than 8 frame decodes.

Sections (one run):
  1. read cost    ``read_video`` per video on one core (seconds, CPU seconds).
  2. readers      `prefetch` of GVE's per-item work (read, resize, patchify: `prepare_item`) inline,
                  with N threads and with N processes: videos/s and CPU seconds per video.
  3. GPU decoding ``decode_device="cuda"`` when a CUDA GPU is visible: seconds per video and the
                  difference of its frames to CPU decoding (max / mean absolute, uint8 levels).
  4. indexing     ``GVEModel.encode`` end to end with a tiny random checkpoint (so reading is what is
                  measured) against the reference path (qwen-vl-utils ``fetch_video`` + the
                  transformers processor + the stock model, one video at a time): videos/s,
                  video-seconds/s and both per core, for ``num_workers`` 0, the default, threads and
                  processes.
  5. cores per GPU  CPU seconds per video (section 2, the best reader) x the GPU's FLOP-bound
                  videos/s for GVE-3B and GVE-7B (see ``gpu_shapes.py``): a computed estimate.

Usage:
    python benchmarks/bench_decode.py                     # 8 videos of 10-20 s, 720p, GOP 250, best of 3
    python benchmarks/bench_decode.py --tiny              # 3 small videos: checks the script runs
    python benchmarks/bench_decode.py --workers 1 2 4 --videos 16
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_shapes import GPU_PEAK_TFLOPS, SIZES, cpu_count, gve_flops  # noqa: E402


def cpu_seconds() -> float:
    """CPU time of this process (all threads) and of its finished children (reader processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def make_video_set(workdir: Path, count: int, seconds: float, size: str, gop: int) -> list[tuple[Path, float]]:
    """``count`` H.264 videos (``size``, 30 fps, keyframe every ``gop`` frames), durations spread
    between ``seconds`` and twice that so the sampled frames fall at different GOP offsets."""
    workdir.mkdir(parents=True, exist_ok=True)
    videos = []
    for i in range(count):
        duration = round(seconds * (1 + i / max(count - 1, 1)), 1)
        path = workdir / f"testsrc2_{size}_g{gop}_{duration}s_{i}.mp4"
        if not path.exists():
            cmd = [
                "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30",
                "-t", str(duration), "-c:v", "libx264", "-preset", "veryfast", "-g", str(gop),
                "-pix_fmt", "yuv420p", str(path),
            ]  # fmt: skip
            subprocess.run(cmd, check=True)
        videos.append((path, duration))
    return videos


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``fn()``."""
    cpu, wall = cpu_seconds(), time.perf_counter()
    fn()
    return time.perf_counter() - wall, cpu_seconds() - cpu


def best_of(runs: dict, repeats: int) -> dict:
    """Each of ``runs`` (name -> callable) ``repeats`` times, interleaved (round after round, so a load
    spike from other work on the machine hits every method alike): the fastest wall time of each and
    the CPU time of that run."""
    best = {name: (float("inf"), 0.0) for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            wall, cpu = timed(run)
            if wall < best[name][0]:
                best[name] = (wall, cpu)
    return best


def read_cost(videos: list[tuple[Path, float]]) -> dict:
    from modeling_gve.video import read_video

    walls, cpus = [], []
    for path, _ in videos:
        wall, cpu = timed(lambda p=path: read_video(str(p)))
        walls.append(wall)
        cpus.append(cpu)
    return {"mean": sum(walls) / len(walls), "min": min(walls), "max": max(walls), "cpu": sum(cpus) / len(cpus)}


def reader_runs(processor, videos: list[tuple[Path, float]], workers: list[int], repeats: int) -> list[dict]:
    from modeling_gve.modeling_gve import prefetch, prepare_item

    config = processor.sampling_config()
    prepare = functools.partial(prepare_item, processor, instruction=None, sampling=config)
    items = [{"video": str(p)} for p, _ in videos]
    kinds = [("inline", 0)] + [(reader, n) for reader in ("threads", "processes") for n in workers]
    runs = {
        (reader, n): functools.partial(
            lambda r, k: list(prefetch(prepare, items, num_workers=k, ahead=16, reader=r)),
            "threads" if reader == "inline" else reader,
            n,
        )
        for reader, n in kinds
    }
    best = best_of(runs, repeats)
    return [
        {"reader": reader, "workers": n, "videos_per_s": len(items) / wall, "cpu_per_video": cpu / len(items)}
        for (reader, n), (wall, cpu) in best.items()
    ]


def gpu_decoding(videos: list[tuple[Path, float]]) -> dict | None:
    if not torch.cuda.is_available():
        return None
    from modeling_gve.video import read_video

    read_video(str(videos[0][0]), decode_device="cuda")  # warm-up: CUDA context, NVDEC
    walls, max_diff, mean_diff = [], 0.0, []
    for path, _ in videos:
        torch.cuda.synchronize()
        start = time.perf_counter()
        gpu = read_video(str(path), decode_device="cuda").frames
        walls.append(time.perf_counter() - start)
        cpu = read_video(str(path)).frames
        diff = (gpu.int() - cpu.int()).abs()
        max_diff = max(max_diff, float(diff.max()))
        mean_diff.append(float(diff.float().mean()))
    return {"seconds": sum(walls) / len(walls), "max_diff": max_diff, "mean_diff": sum(mean_diff) / len(mean_diff)}


def reference_encode(model_path: Path, videos: list[tuple[Path, float]]) -> None:
    """The obvious way: qwen-vl-utils reads each video, the stock processor and model embed it."""
    import torch.nn.functional as F
    from qwen_vl_utils import fetch_video
    from transformers import Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor

    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(model_path).eval()
    processor = Qwen2_5_VLProcessor.from_pretrained(model_path)
    settings = {"fps": 1.0, "min_frames": 32, "max_frames": 8, "min_pixels": 128 * 784, "max_pixels": 200 * 784}
    prompt = (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
        "<|vision_start|><|video_pad|><|vision_end|><|im_end|>\n<|im_start|>assistant\n<|endoftext|>"
    )
    for path, _ in videos:
        (frames, meta), _ = fetch_video(
            {"video": str(path), **settings}, return_video_sample_fps=True, return_video_metadata=True
        )
        inputs = processor(
            text=[prompt], videos=[frames], video_metadata=[meta], do_sample_frames=False, return_tensors="pt"
        )
        with torch.no_grad():
            out = model(**inputs, output_hidden_states=True, use_cache=False)
        F.normalize(out.hidden_states[-1][0, -1].float(), dim=-1)


def indexing_runs(model_path: Path, videos: list[tuple[Path, float]], workers: int, repeats: int) -> list[dict]:
    from modeling_gve import GVEModel

    model = GVEModel.from_pretrained(model_path).eval()
    items = [{"video": str(p)} for p, _ in videos]
    footage = sum(d for _, d in videos)
    runs = {
        "reference (qwen-vl-utils + stock model)": lambda: reference_encode(model_path, videos),
        "encode, num_workers=0": lambda: model.encode(items, batch_size=4, num_workers=0),
        "encode, default": lambda: model.encode(items, batch_size=4),
        f"encode, {workers} threads": lambda: model.encode(items, batch_size=4, num_workers=workers),
        f"encode, {workers} processes": lambda: model.encode(
            items, batch_size=4, num_workers=workers, reader="processes"
        ),
    }
    model.encode(items[:1], num_workers=0)  # warm-up: imports, first-call allocations
    best = best_of(runs, repeats)
    return [
        {"path": name, "wall": wall, "cpu": cpu, "videos": len(items), "footage": footage}
        for name, (wall, cpu) in best.items()
    ]


def print_tables(args, cores, cost, readers, gpu, indexing) -> None:
    print(f"\n## Reading 8 frames per video ({args.size}, GOP {args.gop}, {len(args._videos)} videos), {cores} cores, "
          f"best of {args.repeats} interleaved rounds\n")  # fmt: skip
    print(f"read_video on one core: mean {cost['mean']:.2f} s (min {cost['min']:.2f}, max {cost['max']:.2f}), "
          f"{cost['cpu']:.2f} CPU s per video")  # fmt: skip
    print("\n| reader | workers | videos/s | CPU s per video |")
    print("|---|---:|---:|---:|")
    for r in readers:
        print(f"| {r['reader']} | {r['workers']} | {r['videos_per_s']:.2f} | {r['cpu_per_video']:.2f} |")
    if gpu is None:
        print("\nGPU decoding (decode_device='cuda'): not measured, no CUDA GPU visible.")
    else:
        print(f"\nGPU decoding: {gpu['seconds']:.3f} s per video; frames vs CPU decoding: max |diff| "
              f"{gpu['max_diff']:.0f}, mean |diff| {gpu['mean_diff']:.2f} (uint8 levels)")  # fmt: skip

    print(f"\n## Indexing throughput (tiny random checkpoint, batch 4, {cores} cores)\n")
    print("Per core: videos and video-seconds per CPU-second (the work a busy core does; unlike wall time it does not")
    print("depend on what else the machine runs).\n")
    print(
        "| path | videos/s | video-seconds/s | CPU s per video | videos/s per core | video-seconds/s per core | vs reference |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    reference = indexing[0]["wall"]
    for r in indexing:
        print(f"| {r['path']} | {r['videos'] / r['wall']:.2f} | {r['footage'] / r['wall']:.1f} | "
              f"{r['cpu'] / r['videos']:.2f} | {r['videos'] / r['cpu']:.2f} | {r['footage'] / r['cpu']:.1f} | "
              f"{reference / r['wall']:.2f}x |")  # fmt: skip

    best = min(readers, key=lambda r: r["cpu_per_video"])
    print("\n## CPU cores one GPU needs to keep up (computed estimate)\n")
    print(f"CPU seconds per video: {best['cpu_per_video']:.2f} (reader {best['reader']}, {best['workers']} workers, "
          "this machine's cores); GPU bound: FLOP per video / peak bf16 FLOP/s (gpu_shapes.py)\n")  # fmt: skip
    print("| model | GPU | peak bf16 TFLOP/s | TFLOP per video | bound videos/s | cores needed |")
    print("|---|---|---:|---:|---:|---:|")
    for size in ("3B", "7B"):
        tflop = gve_flops(SIZES[size], kind="video") / 1e12
        for gpu_name, peak in GPU_PEAK_TFLOPS.items():
            bound = peak / tflop
            print(f"| GVE-{size} | {gpu_name} | {peak:.0f} | {tflop:.1f} | {bound:.0f} | "
                  f"{bound * best['cpu_per_video']:.0f} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="shortest video; the longest is twice this")
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--gop", type=int, default=250)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds; the best of each is reported")
    parser.add_argument("--workdir", default="/tmp/gve-bench-decode")
    parser.add_argument("--tiny", action="store_true", help="3 short 320x180 videos, workers 1 2: a smoke run")
    args = parser.parse_args()
    if args.tiny:
        args.videos, args.seconds, args.size, args.workers, args.repeats = 3, 2.0, "320x180", [1, 2], 1
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(1)  # the model runs on one core; readers take the others

    from modeling_gve import GVEModel
    from modeling_gve.testing.tiny import make_tiny_checkpoint

    workdir = Path(args.workdir)
    videos = args._videos = make_video_set(workdir, args.videos, args.seconds, args.size, args.gop)
    ckpt = workdir / "tiny-gve"
    if not (ckpt / "config.json").exists():
        make_tiny_checkpoint(ckpt, layout="v4")
    processor = GVEModel.from_pretrained(ckpt).processor
    cores = cpu_count()
    cost = read_cost(videos)
    readers = reader_runs(processor, videos, args.workers, args.repeats)
    gpu = gpu_decoding(videos)
    indexing = indexing_runs(ckpt, videos, workers=min(2, max(args.workers)), repeats=args.repeats)
    print_tables(args, cores, cost, readers, gpu, indexing)


if __name__ == "__main__":
    main()
