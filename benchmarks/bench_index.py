# Copyright 2026 The GVE package authors. Apache-2.0.
"""Searching an index: exact search next to the approximate and quantized indexes ``gve index``
can write, side by side in one run, on the same vectors.

The corpus is ``--rows`` L2-normalised vectors of ``--dim`` dimensions (2048: GVE-3B's), either
  - clustered: ``--clusters`` centres, each row a centre plus noise (videos and their segments
    cluster by source and topic; this is the case ANN indexes are built for), or
  - uniform: random directions (no structure: the worst case for every approximate index).
The queries are ``--queries`` new rows drawn the same way (not in the corpus).

Methods (each with the parameters `modeling_gve.index.table` uses):
  - exact: ``faiss.IndexFlatIP`` (the reference: recall 1 by definition);
  - hnsw: ``IndexHNSWFlat`` (M, efConstruction, efSearch of `table.py`), what ``--faiss auto``
    picks beyond `EXACT_MAX_ROWS`;
  - ivf: ``IndexIVFFlat`` (nlist = 4 sqrt(n), nprobe = nlist / 16);
  - binary+rescore, int8+rescore: what ``gve search --precision`` runs: sentence-transformers'
    quantizer and quantized search (``semantic_search_faiss`` over ubinary codes,
    ``semantic_search_usearch`` over int8 codes) for ``RESCORE_MULTIPLIER`` x 10 candidates,
    rescored with the float32 vectors (memory-mapped; the index size is the codes');
  - binary+st-rescore: sentence-transformers' own rescoring, with the unpacked codes (for
    comparison: why we rescore with the float vectors).
For each: build time, index size (the serialized index: what it holds in memory), the time per
query, the speed-up over exact, and recall@10 against exact search.

    PYTHONPATH=. python benchmarks/bench_index.py [--rows 200000] [--dim 2048] [--data clustered uniform]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from modeling_gve.index.table import RESCORE_FILE, RESCORE_MULTIPLIER, VideoIndex, _build_quantized, build_faiss

K = 10


def normalised(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def make_data(kind: str, rows: int, queries: int, dim: int, clusters: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(corpus, queries)``, normalised; clustered rows are a centre plus noise of about the same
    norm (a row's cosine to its centre is about 0.7)."""
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return normalised(rng.standard_normal((rows, dim))), normalised(rng.standard_normal((queries, dim)))
    centres = normalised(rng.standard_normal((clusters, dim)))

    def draw(n: int) -> np.ndarray:
        out = np.empty((n, dim), np.float32)
        for lo in range(0, n, 20_000):  # in chunks: float64 noise for 200k x 2048 would be 3 GiB
            hi = min(n, lo + 20_000)
            noise = rng.standard_normal((hi - lo, dim)).astype(np.float32) / np.sqrt(dim)
            out[lo:hi] = normalised(centres[rng.integers(0, clusters, hi - lo)] + noise)
        return out

    return draw(rows), draw(queries)


def timed(run: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    out = run()
    return out, time.perf_counter() - start


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(e)) / K for f, e in zip(found, exact)]))


def faiss_method(kind: str) -> Callable:
    def run(corpus: np.ndarray, queries: np.ndarray) -> tuple[float, int, np.ndarray, float]:
        import faiss

        (index, _), build = timed(lambda: build_faiss(corpus, kind))
        size = len(faiss.serialize_index(index))
        (_, ids), search = timed(lambda: index.search(queries, K))
        return build, size, ids, search

    return run


def quantized(precision: str, ours: bool = True) -> Callable:
    """``precision`` codes written and searched as `VideoIndex` does (candidates by their codes,
    rescored with the memory-mapped float32 vectors); with ``ours=False``, sentence-transformers'
    own rescoring (with the codes) for comparison."""

    def run(corpus: np.ndarray, queries: np.ndarray) -> tuple[float, int, np.ndarray, float]:
        from sentence_transformers.util.quantization import semantic_search_faiss

        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            record, build = timed(lambda: {precision: _build_quantized(folder, corpus, precision)})
            np.save(folder / RESCORE_FILE, corpus)
            table = VideoIndex(folder, {"quantized": record}, list(range(len(corpus))), [], [], None)
            index = table._quantized_index(precision)
            size = record[precision]["bytes"]
            if ours:
                ids, search = timed(
                    lambda: np.array([table._search_rows(q[None], K, precision, True)[1] for q in queries])
                )
            else:
                options = {"corpus_precision": "ubinary", "rescore_multiplier": RESCORE_MULTIPLIER[precision]}
                (results, _), search = timed(
                    lambda: semantic_search_faiss(queries, corpus_index=index, top_k=K, **options)
                )
                ids = ids_of(results)
        return build, size, ids, search

    return run


def ids_of(results: list) -> np.ndarray:
    return np.array([[hit["corpus_id"] for hit in hits] + [-1] * (K - len(hits)) for hits in results])


METHODS = {
    "exact": faiss_method("flat"),
    "hnsw": faiss_method("hnsw"),
    "ivf": faiss_method("ivf"),
    "binary+rescore": quantized("binary"),
    "binary+st-rescore": quantized("binary", ours=False),
    "int8+rescore": quantized("int8"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--clusters", type=int, default=2000)
    parser.add_argument("--data", nargs="+", default=["clustered", "uniform"], choices=["clustered", "uniform"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--threads", type=int, default=1, help="FAISS threads (build and search)")
    args = parser.parse_args()
    import faiss

    faiss.omp_set_num_threads(args.threads)
    print(f"{args.rows} rows x {args.dim} dims, {args.queries} queries, k={K}, {args.threads} threads")
    print("| data | method | build (s) | index size (MiB) | ms / query | speed-up vs exact | recall@10 |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for kind in args.data:
        corpus, queries = make_data(kind, args.rows, args.queries, args.dim, args.clusters, seed=0)
        exact_ids, exact_time = None, None
        for name in ["exact"] + [m for m in args.methods if m != "exact"]:
            build, size, ids, search = METHODS[name](corpus, queries)
            if name == "exact":
                exact_ids, exact_time = ids, search
            print(
                f"| {kind} | {name} | {build:.1f} | {size / 2**20:.0f} | {1000 * search / len(queries):.2f} | "
                f"{exact_time / search:.1f}x | {recall_at_k(ids, exact_ids):.3f} |",
                flush=True,
            )
        del corpus, queries


if __name__ == "__main__":
    main()
