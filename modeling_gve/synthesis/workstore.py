# Copyright 2026 The GVE package authors. Apache-2.0.
"""Sharded, append-only work records: what makes every stage resumable and splittable.

Each item (a video, a caption request) belongs to one of ``num_shards`` shards by a hash of
its id, and a process owns the shards ``s`` with ``s % num_processes == process_index``, so
processes never write the same file. A stage appends one JSON line per finished item to its
shard's log (flushed as written); a rerun reads the logs and skips what is there. A kill can
leave at most one half-written last line, which is cut off when the log is reopened.

Logs live in a folder named after the settings the results depend on (`fingerprint`),
so changing such a setting starts fresh records instead of mixing old and new.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..embedding_cache import json_digest


def fingerprint(*parts: Any) -> str:
    """A short stable hash of JSON-able settings (names the work folders of a stage, so that
    changing a setting a result depends on starts a new folder instead of mixing results)."""
    return json_digest(parts, length=12)


def shard_of(key: str, num_shards: int) -> int:
    """The shard of an item id (stable across runs, machines and Python versions)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") % num_shards


def shards_for_process(num_shards: int, process_index: int, num_processes: int) -> list[int]:
    """The shards one process owns."""
    return [s for s in range(num_shards) if s % num_processes == process_index]


class RecordLog:
    """One append-only JSON-lines file of records keyed by ``record["key"]`` (last one wins).

    Opening repairs a torn last line left by a kill (it is dropped: that item is redone).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.records: dict[str, dict] = {}
        self._handle = None
        if self.path.exists():
            self._repair()
            for record in _read_lines(self.path):
                self.records[record["key"]] = record

    def _repair(self) -> None:
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with self.path.open("r+b") as handle:
                handle.truncate(data.rfind(b"\n") + 1)

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def __len__(self) -> int:
        return len(self.records)

    def get(self, key: str) -> dict | None:
        return self.records.get(key)

    def append(self, record: dict) -> None:
        """Write one record (must hold ``"key"``) and flush it to the OS."""
        if "key" not in record:
            raise ValueError("a work record needs a 'key'")
        if self._handle is None:
            self._handle = self.path.open("a", encoding="utf-8")
        self._handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        self._handle.flush()
        self.records[record["key"]] = record

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __del__(self):  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass


def _read_lines(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.endswith("\n") and line.strip():
                yield json.loads(line)


class ShardedLog:
    """The logs of one stage step: ``folder/shard-00012.jsonl``, one per shard."""

    def __init__(self, folder: str | os.PathLike, num_shards: int):
        self.folder = Path(folder)
        self.num_shards = num_shards
        self._logs: dict[int, RecordLog] = {}

    def shard(self, shard: int) -> RecordLog:
        if shard not in self._logs:
            self._logs[shard] = RecordLog(self.folder / f"shard-{shard:05d}.jsonl")
        return self._logs[shard]

    def for_key(self, key: str, shard_key: str | None = None) -> RecordLog:
        """The log holding ``key`` (sharded by ``shard_key``, default the key itself)."""
        return self.shard(shard_of(shard_key or key, self.num_shards))

    def read_all(self, shards: Iterable[int] | None = None) -> dict[str, dict]:
        """All records (of ``shards``, default every shard), read fresh from disk."""
        out: dict[str, dict] = {}
        wanted = set(shards) if shards is not None else None
        if not self.folder.is_dir():
            return out
        for path in sorted(self.folder.glob("shard-*.jsonl")):
            if wanted is not None and int(path.stem.split("-")[1]) not in wanted:
                continue
            for record in _read_lines(path):
                out[record["key"]] = record
        return out

    def close(self) -> None:
        for log in self._logs.values():
            log.close()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def atomic_write_json(path: Path, value) -> None:
    atomic_write_bytes(path, (json.dumps(value, indent=2, sort_keys=True, default=str) + "\n").encode())


__all__ = [
    "RecordLog",
    "ShardedLog",
    "atomic_write_bytes",
    "atomic_write_json",
    "fingerprint",
    "shard_of",
    "shards_for_process",
]
