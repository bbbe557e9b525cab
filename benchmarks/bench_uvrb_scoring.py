# Copyright 2026 The GVE package authors. Apache-2.0.
"""UVRB scoring and encoding benchmarks: our way next to the obvious way, in one run.

1. Top-10 retrieval on random normalised embeddings (GVE-3B size, D=2048):
   - ours: `modeling_gve.uvrb.scoring.chunked_topk` (blocks of scores, running top-k);
   - naive: the full ``Q @ C.T`` matrix, then ``argsort`` of every row.
   Sizes: PEV-K (14,427 queries x 15,000 videos), 2,000 x 100,000, and 14,427 x 100,000
   (naive skipped when its estimated peak does not fit in ``--max-naive-gb``).
   Each method runs in a fresh process; peak memory is the rise of the process's maximum
   RSS over the embeddings already in memory. Results are checked to be identical.
2. Encoding with the cross-task cache on a mini-UVRB (all 16 tasks) with a tiny random
   GVE: one run sharing the cache (each unique video once) vs one run per task with its
   own cache (what per-task evaluation does), plus the same count for the real UVRB sizes.

    PYTHONPATH=. python benchmarks/bench_uvrb_scoring.py [--threads 1] [--skip-encoding]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

DIM = 2048  # GVE-3B embedding size
K = 10


def _embeddings(num: int, seed: int) -> torch.Tensor:
    # Normalised in place: no temporary copy raises the peak-RSS baseline.
    x = torch.randn(num, DIM, generator=torch.Generator().manual_seed(seed))
    return x.div_(x.norm(dim=-1, keepdim=True))


def _maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _worker(method: str, num_queries: int, num_candidates: int, threads: int, queue) -> None:
    from modeling_gve.uvrb.scoring import chunked_topk  # imported before the baseline: not counted

    torch.set_num_threads(threads)
    queries, candidates = _embeddings(num_queries, 0), _embeddings(num_candidates, 1)
    baseline = _maxrss_bytes()
    start = time.perf_counter()
    if method == "chunked":
        _, top = chunked_topk(queries, candidates, K)
    else:
        scores = queries @ candidates.T  # (Q, C)
        top = scores.argsort(dim=1, descending=True)[:, :K]
    seconds = time.perf_counter() - start
    queue.put((seconds, max(0, _maxrss_bytes() - baseline), top[:, :K].tolist()))


def _measure(method: str, num_queries: int, num_candidates: int, threads: int) -> tuple[float, int, list]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_worker, args=(method, num_queries, num_candidates, threads, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def naive_peak_estimate(num_queries: int, num_candidates: int) -> int:
    """Bytes of the float32 score matrix plus argsort's int64 indices (and its sorted values)."""
    return num_queries * num_candidates * (4 + 8 + 4)


def bench_scoring(threads: int, max_naive_gb: float) -> None:
    print(f"## Top-{K} scoring, D={DIM}, {threads} thread(s)\n")
    print(
        "| queries x candidates | chunked: time | chunked: peak | naive: time | naive: peak | speed-up | memory ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for num_queries, num_candidates in ((14427, 15000), (2000, 100000), (14427, 100000)):
        t_ours, m_ours, top_ours = _measure("chunked", num_queries, num_candidates, threads)
        row = f"| {num_queries:,} x {num_candidates:,} | {t_ours:.2f} s | {m_ours / 2**20:,.0f} MiB"
        estimate = naive_peak_estimate(num_queries, num_candidates)
        if estimate > max_naive_gb * 2**30:
            row += (
                f" | skipped | ~{estimate / 2**30:,.1f} GiB (est.) | – | ~{estimate / max(m_ours, 1):,.0f}x (est.) |"
            )
        else:
            t_naive, m_naive, top_naive = _measure("naive", num_queries, num_candidates, threads)
            if top_ours != top_naive:
                sys.exit(f"results differ at {num_queries} x {num_candidates}")
            row += (
                f" | {t_naive:.2f} s | {m_naive / 2**20:,.0f} MiB | {t_naive / t_ours:.1f}x"
                f" | {m_naive / max(m_ours, 1):.1f}x |"
            )
        print(row, flush=True)
    print("\nidentical top-10 indices wherever both ran\n")


def _count_encodes(run) -> tuple[int, float, dict]:
    start = time.perf_counter()
    results = run()
    return results["encoding"]["encoded_this_run"], time.perf_counter() - start, results


def bench_encoding(threads: int) -> None:
    from modeling_gve.testing.tiny import make_tiny_checkpoint
    from modeling_gve.uvrb import TASKS
    from modeling_gve.uvrb.runner import UVRBRunConfig, run_uvrb
    from modeling_gve.testing.mini_uvrb import make_mini_uvrb

    torch.set_num_threads(threads)
    tmp = Path(tempfile.mkdtemp(prefix="bench-uvrb-"))
    try:
        ckpt = make_tiny_checkpoint(tmp / "tiny")
        data = make_mini_uvrb(tmp / "mini", per_task=3)

        def config(output: Path, tasks=None) -> UVRBRunConfig:
            return UVRBRunConfig(
                model=str(ckpt),
                output=str(output),
                data=str(data),
                tasks=tasks,
                num_workers=0,
                show_progress_bar=False,
            )

        run_uvrb(config(tmp / "warm-up", ["MSRVTT"]))  # imports, first decode: not part of either timing
        shared, t_shared, results = _count_encodes(lambda: run_uvrb(config(tmp / "shared")))
        per_task, t_per_task = 0, 0.0
        for name in TASKS:
            n, t, _ = _count_encodes(lambda name=name: run_uvrb(config(tmp / f"task-{name}", [name])))
            per_task, t_per_task = per_task + n, t_per_task + t
        enc = results["encoding"]
        print("## Encoding with the cross-task cache (mini-UVRB, tiny random GVE, paper sampling: 8 frames)\n")
        print("| | inputs encoded | videos encoded | wall time |")
        print("|---|---:|---:|---:|")
        print(f"| one run, shared cache | {shared} | {enc['candidates_unique']} | {t_shared:.1f} s |")
        print(
            f"| one run per task, own cache | {per_task} | {enc['candidates_per_task_total']} | {t_per_task:.1f} s |"
        )
        videos_shared, videos_per_task = enc["candidates_unique"], enc["candidates_per_task_total"]
        print(
            f"\nsaving: {videos_per_task / videos_shared:.2f}x fewer video encodes, {per_task / shared:.2f}x fewer "
            f"encodes in all (queries are never shared); wall time {t_per_task / t_shared:.2f}x "
            "(the per-task runs also load the model 16 times)"
        )
        listed = sum(t.num_corpus for t in TASKS.values() if t.ranking == "corpus")
        groups: dict[str, int] = {}  # tasks of a corpus group rank the same videos: count them once
        for t in TASKS.values():
            if t.ranking == "corpus":
                groups[t.corpus_group] = max(groups.get(t.corpus_group, 0), t.num_corpus)
        unique = sum(groups.values())
        print(
            f"full UVRB (Table 4 sizes, corpus-ranked tasks): {listed:,} corpus videos listed, "
            f"{unique:,} unique -> {listed - unique:,} video encodes saved ({listed / unique:.2f}x)\n"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--max-naive-gb", type=float, default=8.0, help="skip the naive way above this estimated peak")
    parser.add_argument("--skip-scoring", action="store_true")
    parser.add_argument("--skip-encoding", action="store_true")
    args = parser.parse_args()
    if not args.skip_scoring:
        bench_scoring(args.threads, args.max_naive_gb)
    if not args.skip_encoding:
        bench_encoding(args.threads)


if __name__ == "__main__":
    main()
