# Copyright 2026 The GVE package authors. Apache-2.0.
"""The index as a table: parquet shards a ``datasets.load_dataset`` reads, a FAISS index beside
them, and the record of how the vectors were made.

One folder per model, settings and segment length::

    <table>/
      README.md               dataset card (``configs: data/*.parquet``): ``load_dataset("<table>")`` works
      data/train-*.parquet    path, content_key, start, end, embedding, model, sampling (one row per vector)
      index.faiss             the FAISS index of the embeddings, row i = vector i of the shards in order
      index-binary.faiss      optional: binary codes (`QUANTIZED`), searched with rescoring
      index-int8.usearch      optional: int8 codes (usearch), with int8-ranges.safetensors
      rescore.npy             with quantized codes: the float32 vectors, memory-mapped to rescore candidates
      gve_index.json          model, settings, counts, the FAISS kind and its search parameters

``path`` is relative to the indexed folder (POSIX), or the entry of the list file as written;
``start`` / ``end`` are seconds (null for a whole-video row). Search is exact (``IndexFlatIP``)
up to `EXACT_MAX_ROWS` rows and HNSW beyond (`build_faiss`; benchmarks/bench_index.py measured
the threshold, the recall and the speed-up).
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

TABLE_FORMAT = "gve-index-v1"
RECORD_FILE = "gve_index.json"
DATA_DIR = "data"
FAISS_FILE = "index.faiss"
ROWS_PER_SHARD = 100_000
# Exact search up to here; beyond, HNSW (see benchmarks/bench_index.py for the measurements).
EXACT_MAX_ROWS = 100_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
FaissKind = Literal["auto", "flat", "hnsw", "ivf"]
Precision = Literal["float32", "int8", "binary"]
PRECISIONS = ("float32", "int8", "binary")
QUANTIZED = {"binary": "index-binary.faiss", "int8": "index-int8.usearch"}
INT8_RANGES = "int8-ranges.safetensors"
RESCORE_FILE = "rescore.npy"
# Candidates rescored per hit wanted. sentence-transformers rescores with the corpus's own codes,
# which caps binary recall@10 near 0.43 on clustered vectors whatever the multiplier; rescoring with
# the float vectors (memory-mapped: only the candidates' pages are read) reaches 0.99 with 10
# binary or 4 int8 candidates per hit (benchmarks/bench_index.py).
RESCORE_MULTIPLIER = {"binary": 10, "int8": 4}


@dataclass
class Hit:
    """One search result: a video (its best segment's times, if segmented) or a moment."""

    rank: int
    score: float
    path: str
    start: float | None = None
    end: float | None = None

    def to_dict(self) -> dict:
        out = {"rank": self.rank, "score": self.score, "path": self.path}
        if self.start is not None:
            out.update(start=self.start, end=self.end)
        return out


@dataclass
class TableRows:
    """The rows of a table, in order: one per vector.

    Attributes:
        embeddings (`np.ndarray` of shape `(num_rows, dim)`, float32, L2-normalised).
    """

    paths: list[str]
    content_keys: list[str]
    starts: list[float | None]
    ends: list[float | None]
    embeddings: np.ndarray


# --------------------------------------------------------------------------- FAISS


def build_faiss(embeddings: np.ndarray, kind: FaissKind = "auto") -> tuple[Any, dict]:
    """A FAISS inner-product index over ``embeddings`` (``(n, d)`` float32, normalised: inner
    product is cosine) and the record of its kind and search parameters. ``"auto"``: exact up to
    `EXACT_MAX_ROWS` rows, HNSW beyond."""
    import faiss

    n, dim = embeddings.shape
    if kind == "auto":
        kind = "flat" if n <= EXACT_MAX_ROWS else "hnsw"
    if kind == "flat":
        index, record = faiss.IndexFlatIP(dim), {"kind": "flat"}
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
        record = {"kind": "hnsw", "M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH}
    elif kind == "ivf":
        nlist = max(1, min(int(4 * np.sqrt(n)), n // 39))  # FAISS wants >= 39 training points per list
        nprobe = max(1, nlist // 16)
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(embeddings)
        index.nprobe = nprobe
        record = {"kind": "ivf", "nlist": nlist, "nprobe": nprobe}
    else:
        raise ValueError(f"FAISS kind must be 'auto', 'flat', 'hnsw' or 'ivf', got {kind!r}")
    index.add(embeddings)
    return index, record


def _build_quantized(folder: Path, embeddings: np.ndarray, precision: str) -> dict:
    """Write the ``precision`` codes of ``embeddings`` with sentence-transformers' quantizer:
    binary into a FAISS binary index, int8 into a usearch index (with its value ranges)."""
    from sentence_transformers.util.quantization import quantize_embeddings

    if precision == "binary":
        import faiss

        codes = quantize_embeddings(embeddings, precision="ubinary")
        index = faiss.IndexBinaryFlat(codes.shape[1] * 8)
        index.add(codes)
        faiss.write_index_binary(index, str(folder / QUANTIZED["binary"]))
        return {"bytes": int(codes.nbytes)}
    if precision == "int8":
        from safetensors.numpy import save_file
        from usearch.index import Index

        ranges = np.vstack([embeddings.min(axis=0), embeddings.max(axis=0)]).astype(np.float32)
        codes = quantize_embeddings(embeddings, precision="int8", ranges=ranges)
        index = Index(ndim=codes.shape[1], metric="ip", dtype="i8")
        index.add(np.arange(len(codes)), codes)
        index.save(str(folder / QUANTIZED["int8"]))
        save_file({"ranges": ranges}, str(folder / INT8_RANGES))
        return {"bytes": int(codes.nbytes)}
    raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")


# --------------------------------------------------------------------------- writing


def write_table(
    folder: str | os.PathLike,
    rows: TableRows,
    record: dict,
    *,
    faiss_kind: FaissKind = "auto",
    precisions: tuple[str, ...] = (),
) -> dict:
    """Write (or replace) the table in ``folder``: parquet shards, the FAISS index, the optional
    quantized indexes, the card and ``gve_index.json`` (``record`` plus counts), last, so that a
    folder with a record is complete. Returns the record written."""
    import faiss

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    generation = uuid.uuid4().hex[:8]
    shards = _write_shards(folder, rows, record, generation)
    index, faiss_record = build_faiss(rows.embeddings, faiss_kind)
    faiss.write_index(index, str(folder / f".{FAISS_FILE}.tmp"))
    os.replace(folder / f".{FAISS_FILE}.tmp", folder / FAISS_FILE)
    quantized = {p: _build_quantized(folder, rows.embeddings, p) for p in precisions if p != "float32"}
    for precision, name in QUANTIZED.items():  # an older run's codes are not this table's
        if precision not in quantized:
            (folder / name).unlink(missing_ok=True)
    if quantized:
        np.save(folder / f".{RESCORE_FILE}", np.ascontiguousarray(rows.embeddings, dtype=np.float32))
        os.replace(folder / f".{RESCORE_FILE}", folder / RESCORE_FILE)
    else:
        (folder / RESCORE_FILE).unlink(missing_ok=True)
    record = {
        **record,
        "format": TABLE_FORMAT,
        "rows": len(rows.paths),
        "videos": len(set(rows.paths)),
        "dimension": int(rows.embeddings.shape[1]) if len(rows.paths) else None,
        "files": shards,
        "faiss": faiss_record,
        "quantized": quantized,
    }
    write_card(folder, record)
    tmp = folder / f".{RECORD_FILE}.tmp"
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True))
    os.replace(tmp, folder / RECORD_FILE)
    for stale in (folder / DATA_DIR).glob("*.parquet"):  # an earlier generation's shards
        if stale.relative_to(folder).as_posix() not in shards:
            stale.unlink()
    return record


def _write_shards(folder: Path, rows: TableRows, record: dict, generation: str) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = folder / DATA_DIR
    data.mkdir(exist_ok=True)
    count = max(1, -(-len(rows.paths) // ROWS_PER_SHARD))
    dim = rows.embeddings.shape[1] if rows.embeddings.ndim == 2 else 0
    model, sampling = (
        json.dumps(record.get("model"), sort_keys=True),
        json.dumps(record.get("sampling"), sort_keys=True),
    )
    names = []
    for shard in range(count):
        lo, hi = shard * ROWS_PER_SHARD, min(len(rows.paths), (shard + 1) * ROWS_PER_SHARD)
        flat = pa.array(np.ascontiguousarray(rows.embeddings[lo:hi], dtype=np.float32).reshape(-1))
        table = pa.table(
            {
                "path": pa.array(rows.paths[lo:hi], pa.string()),
                "content_key": pa.array(rows.content_keys[lo:hi], pa.string()),
                "start": pa.array(rows.starts[lo:hi], pa.float64()),
                "end": pa.array(rows.ends[lo:hi], pa.float64()),
                "embedding": pa.FixedSizeListArray.from_arrays(flat, dim),
                "model": pa.array([model] * (hi - lo), pa.string()).dictionary_encode(),
                "sampling": pa.array([sampling] * (hi - lo), pa.string()).dictionary_encode(),
            }
        )
        name = f"{DATA_DIR}/train-{generation}-{shard:05d}-of-{count:05d}.parquet"
        tmp = folder / f"{name}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, folder / name)
        names.append(name)
    return names


def segments_label(segments: dict | None) -> str:
    """The table folder's kind for the recorded segment settings: ``videos``, ``segments-10s``,
    ``segments-10s-every-5s`` or ``segments-shots``."""
    if not segments:
        return "videos"
    if "shots" in segments:
        return "segments-shots"
    label = f"segments-{segments['seconds']:g}s"
    return label if segments["stride"] == segments["seconds"] else f"{label}-every-{segments['stride']:g}s"


def describe_segments(segments: dict | None) -> str:
    """What the rows are, in words, for the recorded segment settings."""
    if not segments:
        return "whole videos"
    if "shots" in segments:
        return f"shots (PySceneDetect's {segments['shots']})"
    return f"{segments['seconds']:g}-second segments (a new one every {segments['stride']:g} s)"


def write_card(folder: Path, record: dict) -> None:
    """The dataset card: what the rows are and how they were made, and ``configs`` for ``datasets``
    naming this generation's shards (``datasets`` caches a local folder by its configs, so a
    pattern per generation makes it read an updated table)."""
    what = describe_segments(record.get("segments"))
    model = (record.get("model") or {}).get("model", "?")
    lines = [
        "---",
        "configs:",
        "- config_name: default",
        "  data_files:",
        "  - split: train",
        f"    path: {record['files'][0].rsplit('-', 3)[0]}-*.parquet"
        if record["files"]
        else f"    path: {DATA_DIR}/*.parquet",
        "tags:",
        "- gve",
        "- video-retrieval",
        "- embeddings",
        "---",
        "",
        "# GVE video index",
        "",
        f"Embeddings of {record['videos']} videos ({record['rows']} rows: {what}) made with `{model}` by",
        "`gve index` (GVE, the General Video Embedder). One row per vector: `path`,",
        "`content_key` (sha256 of the file, 128 bits), `start` / `end` (seconds; null for a whole video), `embedding`",
        f"({record['dimension']} float32, L2-normalised: inner product is cosine), `model` and `sampling` (JSON).",
        "",
        f"`{FAISS_FILE}` is a FAISS index of the embeddings in row order ({record['faiss']['kind']}).",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        'rows = load_dataset("path/to/this/folder", split="train")',
        "```",
        "",
    ]
    (folder / "README.md").write_text("\n".join(lines))


# --------------------------------------------------------------------------- reading and searching


class VideoIndex:
    """A table opened for search (`open`): the row metadata in memory, the vectors in FAISS.

    Attributes:
        folder: the table folder.
        record: its ``gve_index.json``.
        paths, starts, ends: per row.
    """

    def __init__(self, folder: Path, record: dict, paths: list[str], starts: list, ends: list, index: Any):
        self.folder, self.record = folder, record
        self.paths, self.starts, self.ends = paths, starts, ends
        self.index = index
        self._quantized: dict[str, Any] = {}

    @classmethod
    def open(cls, folder: str | os.PathLike) -> VideoIndex:
        """Open the table in ``folder``.

        Raises:
            FileNotFoundError: no table there (no ``gve_index.json``), or its files are missing.
        """
        import faiss
        import pyarrow.parquet as pq

        folder = Path(folder)
        record = read_record(folder)
        paths, starts, ends = [], [], []
        for name in record["files"]:
            try:
                table = pq.read_table(folder / name, columns=["path", "start", "end"])
            except (OSError, ValueError) as err:
                raise FileNotFoundError(f"{folder / name}: cannot be read ({err}); rebuild with gve index") from None
            paths += table.column("path").to_pylist()
            starts += table.column("start").to_pylist()
            ends += table.column("end").to_pylist()
        index = faiss.read_index(str(folder / FAISS_FILE)) if paths else None
        if index is not None and index.ntotal != len(paths):
            raise FileNotFoundError(
                f"{folder / FAISS_FILE}: {index.ntotal} vectors for {len(paths)} rows; rebuild with gve index"
            )
        return cls(folder, record, paths, starts, ends, index)

    @property
    def segmented(self) -> bool:
        return bool(self.record.get("segments"))

    def embeddings(self) -> np.ndarray:
        """All vectors, ``(num_rows, dim)`` float32, read from the parquet shards."""
        import pyarrow.parquet as pq

        chunks = []
        for name in self.record["files"]:
            column = pq.read_table(self.folder / name, columns=["embedding"]).column("embedding").combine_chunks()
            chunks.append(column.values.to_numpy(zero_copy_only=False).reshape(len(column), -1))
        return np.concatenate(chunks).astype(np.float32, copy=False)

    def search(
        self,
        queries: Any,
        top_k: int = 5,
        *,
        moments: bool = False,
        precision: Precision = "float32",
        rescore: bool = True,
    ) -> list[list[Hit]]:
        """The best ``top_k`` videos (each scored by its best row) or moments (rows) per query.

        Args:
            queries: ``(num_queries, dim)`` normalised vectors (tensor or array).
            moments: rank segments, not videos (the index must hold segments).
            precision: search the float32 FAISS index, or the ``int8`` / ``binary`` codes written by
                ``gve index --precision`` (sentence-transformers' quantized search).
            rescore: with int8 / binary, re-rank ``RESCORE_MULTIPLIER[precision] * k`` candidates by
                their float32 vectors (memory-mapped); without, the quantized scores.
        """
        if moments and not self.segmented:
            raise ValueError(
                f"{self.folder}: holds whole-video vectors, not moments; index with --segment-seconds S to search moments"
            )
        queries = np.ascontiguousarray(np.asarray(queries, dtype=np.float32))
        if not self.paths:
            return [[] for _ in queries]
        out = []
        for query in queries:
            k = top_k if moments else min(len(self.paths), top_k * 4)
            while True:
                scores, rows = self._search_rows(query[None], k, precision, rescore)
                hits = self._hits(scores, rows, top_k, moments)
                if moments or len(hits) == top_k or k >= len(self.paths):
                    break
                k = min(len(self.paths), k * 4)  # fewer distinct videos than asked: look further
            out.append(hits)
        return out

    def _hits(self, scores: list[float], rows: list[int], top_k: int, moments: bool) -> list[Hit]:
        hits, seen = [], set()
        for score, row in zip(scores, rows):
            if row < 0:
                continue
            if not moments:
                if self.paths[row] in seen:
                    continue
                seen.add(self.paths[row])
            hits.append(
                Hit(len(hits) + 1, float(score), self.resolve(self.paths[row]), self.starts[row], self.ends[row])
            )
            if len(hits) == top_k:
                break
        return hits

    def _search_rows(self, query: np.ndarray, k: int, precision: str, rescore: bool) -> tuple[list[float], list[int]]:
        k = min(k, len(self.paths))
        if precision == "float32":
            scores, rows = self.index.search(query, k)
            return scores[0].tolist(), rows[0].tolist()
        candidates = k * RESCORE_MULTIPLIER[precision] if rescore else k
        results = _quantized_search(
            self._quantized_index(precision), query, min(candidates, len(self.paths)), precision, self
        )
        rows = np.array([r["corpus_id"] for r in results], dtype=np.int64)
        if not rescore:
            return [r["score"] for r in results], rows.tolist()
        if "rescore" not in self._quantized:
            self._quantized["rescore"] = np.load(self.folder / RESCORE_FILE, mmap_mode="r")
        scores = self._quantized["rescore"][np.sort(rows)] @ query[0]  # sorted: the pages in file order
        order = np.argsort(-scores, kind="stable")[:k]
        return scores[order].tolist(), np.sort(rows)[order].tolist()

    def _quantized_index(self, precision: str) -> Any:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        if precision not in self.record.get("quantized", {}):
            raise FileNotFoundError(
                f"{self.folder}: has no {precision} codes; write them with gve index ... --precision {precision}"
            )
        if precision not in self._quantized:
            if precision == "binary":
                import faiss

                self._quantized[precision] = faiss.read_index_binary(str(self.folder / QUANTIZED["binary"]))
            else:
                from usearch.index import Index

                self._quantized[precision] = Index.restore(str(self.folder / QUANTIZED["int8"]), view=True)
        return self._quantized[precision]

    def resolve(self, path: str) -> str:
        """A row's path as a file to open: joined to the indexed folder when it is there."""
        root = self.record.get("root")
        if root is None or Path(path).is_absolute() or "://" in path:
            return path
        base = (self.folder / root).resolve()
        return str(base / path) if base.is_dir() else path


def _quantized_search(index: Any, query: np.ndarray, k: int, precision: str, table: VideoIndex) -> list:
    """sentence-transformers' quantized search of one query over ``index``: the ``k`` best rows by
    their codes (`VideoIndex._search_rows` rescores them)."""
    from sentence_transformers.util.quantization import semantic_search_faiss, semantic_search_usearch

    options = {"top_k": k, "rescore": False}
    if precision == "binary":
        results, _ = semantic_search_faiss(query, corpus_index=index, corpus_precision="ubinary", **options)
    else:
        from safetensors.numpy import load_file

        ranges = load_file(str(table.folder / INT8_RANGES))["ranges"]
        results, _ = semantic_search_usearch(
            query, corpus_index=index, corpus_precision="int8", ranges=ranges, **options
        )
    return results[0]


def read_record(folder: str | os.PathLike) -> dict:
    """A table's ``gve_index.json``.

    Raises:
        FileNotFoundError: ``folder`` holds no table, or its record is garbled.
    """
    path = Path(folder) / RECORD_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{folder}: not a GVE index (no {RECORD_FILE}); build one with gve index")
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise FileNotFoundError(f"{path}: garbled ({type(err).__name__}); rebuild with gve index") from None
    if not isinstance(record, dict) or record.get("format") != TABLE_FORMAT or "files" not in record:
        raise FileNotFoundError(f"{path}: not a {TABLE_FORMAT} record; rebuild with gve index")
    return record


__all__ = [
    "EXACT_MAX_ROWS",
    "PRECISIONS",
    "Hit",
    "TableRows",
    "VideoIndex",
    "build_faiss",
    "read_record",
    "write_table",
]
