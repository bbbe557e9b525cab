"""What GVE-3B costs on a CPU: seconds per video and per text query, and peak RAM, in float32 and
bfloat16, and with fewer pixels per frame (an explicit option that changes the embeddings).

Random weights with GVE-3B's shapes (``gpu_shapes.py``; no download), initialised from a seed
parameter by parameter in float32 and then cast, so the float32 and bfloat16 models hold the same
weights (up to bf16 rounding) and their embeddings can be compared. Each dtype runs in a fresh
process: its peak resident memory (VmHWM, model included) is its own.

Runs (one repetition each unless ``--repeats``: the machine may be shared, so say so with the figures):
  float32   protocol video (8 frames, 128-200 x 28 x 28 pixels each), text query, fewer-pixels video
  bfloat16  text query (cosine to float32), and the protocol video only with ``--bf16-video`` (on CPUs
            without bf16 matrix units this is far slower than float32: minutes to hours)

Usage:
    python benchmarks/bench_cpu.py                        # GVE-3B shapes, this machine's cores
    python benchmarks/bench_cpu.py --size tiny            # the tiny test model: checks the script runs
    python benchmarks/bench_cpu.py --bf16-video --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_shapes import SIZES, cpu_count, gve_config, peak_memory  # noqa: E402

FEWER_PIXELS = {"video_min_pixels": 32 * 28 * 28, "video_max_pixels": 64 * 28 * 28}
QUERY = "a dog catches a frisbee on the beach"


def seeded_init(model: torch.nn.Module, seed: int, std: float = 0.02) -> None:
    """Qwen's initialisation (normal(0, std) matrices and embeddings, unit norms, zero biases), drawn in
    float32 from a per-parameter seed in chunks and cast to the parameter's dtype: the same weights
    whatever the dtype, without a float32 copy of the whole model in memory."""
    with torch.no_grad():
        for index, (name, param) in enumerate(sorted(model.named_parameters())):
            if param.ndim == 1:
                param.fill_(1.0 if "norm" in name else 0.0)
                continue
            flat = param.view(-1)
            generator = torch.Generator().manual_seed(seed * 100_003 + index)
            for start in range(0, flat.numel(), 1 << 24):
                chunk = flat[start : start + (1 << 24)]
                chunk.copy_(torch.randn(chunk.numel(), generator=generator) * std)


def build(size: str, dtype: torch.dtype, workdir: Path):
    from transformers.initialization import no_init_weights

    from modeling_gve import GVEModel, GVEProcessor
    from modeling_gve.testing.tiny import make_tiny_checkpoint

    tiny = workdir / "tiny-gve"
    if not (tiny / "config.json").exists():
        make_tiny_checkpoint(tiny, layout="v4")
    processor = GVEProcessor.from_pretrained(tiny)
    if size == "tiny":
        config = GVEModel.from_pretrained(tiny).config
    else:
        config = gve_config(SIZES[size], processor.tokenizer)
    with no_init_weights():
        model = GVEModel._from_config(config, dtype=dtype)
    seeded_init(model, seed=0)
    model.processor = processor
    return model.eval()


def child(args) -> None:
    """One dtype: build the model, embed each input, print one JSON line per input."""
    torch.set_num_threads(cpu_count())
    dtype = getattr(torch, args.dtype)
    start = time.perf_counter()
    model = build(args.size, dtype, Path(args.workdir))
    built = time.perf_counter() - start
    inputs = {"text query": ([QUERY], {})}
    if args.dtype == "float32" or args.bf16_video:
        inputs["video (protocol)"] = ([{"video": args.video}], {})
    if args.dtype == "float32":
        inputs["video (fewer pixels)"] = ([{"video": args.video}], FEWER_PIXELS)
    for name, (items, sampling) in inputs.items():
        times = []
        for _ in range(args.repeats):
            with peak_memory("cpu") as memory:
                t = time.perf_counter()
                embedding = model.encode(items, num_workers=0, **sampling)
                times.append(time.perf_counter() - t)
        out = Path(args.workdir) / f"{args.size}-{args.dtype}-{name}.safetensors"
        save_file({"embedding": embedding.contiguous()}, out)
        rss = _status("VmRSS")
        print(json.dumps({"dtype": args.dtype, "input": name, "seconds": min(times), "repeats": args.repeats,
                          "peak_gib": (rss + memory["peak_mib"]) / 1024, "build_s": built}), flush=True)  # fmt: skip


def _status(field: str) -> float:
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(field))
    return int(line.split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="3B", choices=["tiny", "3B", "7B"])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    parser.add_argument("--video", default=None, help="a video file (default: a 10 s 1280x720 test video)")
    parser.add_argument("--bf16-video", action="store_true", help="also embed the protocol video in bfloat16")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--workdir", default="/tmp/gve-bench-cpu")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if args.child:
        args.dtype = args.child
        return child(args)
    if args.video is None:
        from modeling_gve.testing.media import make_video

        args.video = str(workdir / "testsrc2_720p_10s.mp4")
        if not Path(args.video).exists():
            make_video(args.video, seconds=10.0, fps=30, size=(1280, 720))
    for dtype in args.dtypes:
        cmd = [sys.executable, __file__, "--child", dtype, "--size", args.size, "--video", args.video,
               "--workdir", str(workdir), "--repeats", str(args.repeats)] + (["--bf16-video"] if args.bf16_video else [])  # fmt: skip
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        out = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if out.returncode != 0:
            print(f"{dtype}: failed\n{out.stderr[-2000:]}")
            continue
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        (workdir / f"results-{args.size}-{dtype}.jsonl").write_text("\n".join(lines) + "\n")
    # every dtype measured so far in this workdir (one dtype per run is fine on a busy machine)
    rows = [
        json.loads(line)
        for f in sorted(workdir.glob(f"results-{args.size}-*.jsonl"))
        for line in f.read_text().splitlines()
        if line
    ]
    reference = {
        r["input"]: load_file(workdir / f"{args.size}-float32-{r['input']}.safetensors")["embedding"]
        for r in rows
        if r["dtype"] == "float32"
    }
    print(f"\n## GVE-{args.size} (random weights) on {cpu_count()} CPU cores, best of {args.repeats}\n")
    print(
        "| dtype | input | seconds | peak RAM (GiB) | cosine to float32, same input | cosine to the protocol video |"
    )
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        mine = load_file(workdir / f"{args.size}-{r['dtype']}-{r['input']}.safetensors")["embedding"]
        same = reference.get(r["input"])
        protocol = reference.get("video (protocol)") if r["input"].startswith("video") else None
        cos = lambda other: f"{float((mine * other).sum()):.4f}" if other is not None else "–"  # noqa: E731
        print(
            f"| {r['dtype']} | {r['input']} | {r['seconds']:.1f} | {r['peak_gib']:.1f} | {cos(same)} | {cos(protocol)} |"
        )
    print(f"\nfewer pixels: {FEWER_PIXELS} (8 frames kept); it changes the embeddings, so an index built with it "
          "must be queried with it")  # fmt: skip


if __name__ == "__main__":
    main()
