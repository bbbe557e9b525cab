# Copyright 2026 The GVE package authors. Apache-2.0.
"""Training-step cost of the recipe, side by side in one run.

1. One optimizer step of a tiny GVE with LoRA (the tiny-cpu recipe's model) on a T2V batch
   (text queries, 2-frame video positives, one video hard negative each): samples/s and
   peak memory with and without GradCache chunking. Each setting runs in its own fresh
   process so that peak memory is its own (CUDA: ``max_memory_allocated``; CPU: growth of
   the process's peak RSS over its level before the first step).
2. The contrastive loss (forward + backward) of `InfoNCELoss` against the obvious per-pair
   Python loop that writes Eq. (1) term by term, on the same embeddings; values checked equal.

    python benchmarks/bench_train_step.py                      # tiny-cpu sizes
    python benchmarks/bench_train_step.py --hidden-size 256 --layers 4 --batch-size 64 --chunk-size 8
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def worker(args: argparse.Namespace) -> dict:
    """One setting in this (fresh) process: warm-up step, then timed steps."""
    sys.path.insert(0, str(REPO))
    from modeling_gve.testing.media import make_video
    from modeling_gve.testing.tiny import make_tiny_checkpoint
    from modeling_gve.training.config import ModelArguments
    from modeling_gve.training.data import LoadedRow, TrainBatch, item_id
    from modeling_gve.training.loop import contrastive_backward, make_embed
    from modeling_gve.training.loss import InfoNCELoss
    from modeling_gve.training.model import build_training_model, load_processor

    work = Path(args.workdir)
    checkpoint = work / f"ckpt-{args.hidden_size}-{args.layers}"
    if not (checkpoint / "config.json").exists():
        make_tiny_checkpoint(checkpoint, hidden_size=args.hidden_size, num_layers=args.layers)
    sampling = dict(max_frames=2, video_min_pixels=112 * 112, video_max_pixels=112 * 112)
    margs = ModelArguments(model_name_or_path=str(checkpoint), torch_dtype="float32", attn_implementation="sdpa",
                           gradient_checkpointing=args.gradient_checkpointing, **sampling)  # fmt: skip
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    model = build_training_model(margs).to(device).train()
    processor = load_processor(margs)
    config = processor.sampling_config()
    videos = [make_video(work / "media" / f"v{i}.mp4", seconds=1.0, fps=2, size=(112, 112),
                         pattern=["testsrc2", "testsrc", "smptebars", "rgbtestsrc"][i % 4]) for i in range(8)]  # fmt: skip

    def features(item, instruction=None):
        return processor.tokenize_item(processor.load_item(item, config), instruction, config)

    rows = []
    for i in range(args.batch_size):
        query = {"text": f"a clip of pattern {i % 8}, seen from afar, number {i} " * 3}
        positive, negative = {"video": str(videos[i % 8])}, {"video": str(videos[(i + 1) % 8])}
        rows.append(LoadedRow(str(i), features(query, "Find the video."), features(positive), [features(negative)],
                              item_id(query), item_id(positive), [item_id(negative)]))  # fmt: skip
    batch = TrainBatch(step=0, task_index=0, task="T2V", rows=rows, bad=[], num_hard_negatives=1)
    embed = make_embed(model, processor, device, torch.float32)
    loss_fn = InfoNCELoss(0.03, gather_across_processes=False)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)

    def step() -> float:
        out = contrastive_backward(embed, batch, loss_fn, backward=lambda loss: loss.backward(),
                                   chunk_size=args.chunk_size or None)  # fmt: skip
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(out.loss)

    before = peak_rss_mb()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    step()  # warm-up (allocator, optimizer state)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else peak_rss_mb() - before
    return {"samples_per_second": args.batch_size * args.steps / seconds, "peak_memory_mb": peak,
            "memory_kind": "cuda max_memory_allocated" if device.type == "cuda" else "CPU peak-RSS growth"}  # fmt: skip


def naive_infonce(q: torch.Tensor, p: torch.Tensor, negs: torch.Tensor, tau: float) -> torch.Tensor:
    """Eq. (1), one pair at a time: the obvious way to write it."""
    n, h = q.shape[0], negs.shape[1]
    total = q.new_zeros(())
    for i in range(n):
        den = q.new_zeros(())
        for j in range(n):
            den = den + torch.exp(torch.dot(q[i], p[j]) / tau)
        for k in range(h):
            den = den + torch.exp(torch.dot(q[i], negs[i, k]) / tau)
        forward = -(torch.dot(q[i], p[i]) / tau - torch.log(den))
        den_r = q.new_zeros(())
        for j in range(n):
            den_r = den_r + torch.exp(torch.dot(p[i], q[j]) / tau)
        total = total + 0.5 * (forward - (torch.dot(p[i], q[i]) / tau - torch.log(den_r)))
    return total / n


def bench_loss(n: int, dim: int, h: int, repeats: int) -> dict:
    sys.path.insert(0, str(REPO))
    from modeling_gve.training.loss import InfoNCELoss

    g = torch.Generator().manual_seed(0)
    unit = lambda *s: torch.nn.functional.normalize(torch.randn(*s, generator=g, dtype=torch.float64), dim=-1)  # noqa: E731
    q, p, negs = unit(n, dim), unit(n, dim), unit(n, h, dim)
    # τ = 0.03 overflows nothing in float64 for cosines <= 1 (exp(33) ~ 2e14)
    ours_fn = InfoNCELoss(0.03, mask_duplicates=False, gather_across_processes=False)

    def timed(fn):
        best, value = math.inf, None
        for _ in range(repeats):
            qq = q.clone().requires_grad_(True)
            start = time.perf_counter()
            loss = fn(qq)
            loss.backward()
            best = min(best, time.perf_counter() - start)
            value = float(loss.detach())
        return best, value

    ours_s, ours_v = timed(lambda qq: ours_fn(qq, p, negs).loss)
    naive_s, naive_v = timed(lambda qq: naive_infonce(qq, p, negs, 0.03))
    return {"n": n, "dim": dim, "hard_negatives": h, "ours_ms": 1e3 * ours_s, "naive_ms": 1e3 * naive_s,
            "speedup": naive_s / ours_s, "abs_diff": abs(ours_v - naive_v)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--chunk-size", type=int, default=8, help="GradCache chunk (0: off)")
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--loss-n", type=int, default=64)
    parser.add_argument("--loss-dim", type=int, default=2048)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-train-"))
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "HF_HUB_OFFLINE": "1"}  # fmt: skip
    results = {}
    for name, chunk in (("unchunked", 0), (f"gradcache(chunk={args.chunk_size})", args.chunk_size)):
        cmd = [sys.executable, __file__, "--worker", "--workdir", str(workdir), "--chunk-size", str(chunk),
               "--batch-size", str(args.batch_size), "--hidden-size", str(args.hidden_size),
               "--layers", str(args.layers), "--steps", str(args.steps)]  # fmt: skip
        if args.gradient_checkpointing:
            cmd.append("--gradient-checkpointing")
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
    device = "cuda" if torch.cuda.is_available() else f"cpu ({os.cpu_count()} cores)"
    print(f"Training step, tiny GVE (hidden {args.hidden_size}, {args.layers} layers) + LoRA, T2V batch of "
          f"{args.batch_size} (+1 hard negative each), {device}:")  # fmt: skip
    print(f"  {'setting':<22} {'samples/s':>10} {'peak MiB':>10}")
    for name, r in results.items():
        print(f"  {name:<22} {r['samples_per_second']:>10.1f} {r['peak_memory_mb']:>10.1f}")
    (a, ra), (b, rb) = results.items()
    print(f"  GradCache / unchunked: speed x{rb['samples_per_second'] / ra['samples_per_second']:.2f}, "
          f"peak memory x{rb['peak_memory_mb'] / max(ra['peak_memory_mb'], 1e-9):.2f} ({ra['memory_kind']})")  # fmt: skip

    loss = bench_loss(args.loss_n, args.loss_dim, 1, repeats=3)
    print(f"\nContrastive loss fwd+bwd, {loss['n']} pairs x {loss['dim']} dims, 1 hard negative each (float64, CPU):")
    print(f"  InfoNCELoss      {loss['ours_ms']:9.2f} ms")
    print(f"  per-pair loop    {loss['naive_ms']:9.2f} ms")
    print(f"  speed-up x{loss['speedup']:.0f}  (|loss difference| = {loss['abs_diff']:.2e})")


if __name__ == "__main__":
    main()
