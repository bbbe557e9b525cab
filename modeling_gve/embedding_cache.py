# Copyright 2026 The GVE package authors. Apache-2.0.
"""The on-disk embedding cache and the keys that index it.

`EmbeddingCache` stores ``key -> vector`` (and ``key -> error``) in one folder per namespace: the
model, its preprocessing and the instruction, everything a vector depends on besides the input.
Every flush appends a safetensors shard and then its JSON key list, so an interrupted job loses
at most the batch in flight and several processes can fill one folder (shard names are unique
per process). Every shard carries a checksum of its rows (sha256 of its vectors and its key list,
in the safetensors metadata). A shard that fails it, is truncated or empty, has a garbled or
mismatched key list, or whose vectors are missing is reported by file name, set aside (renamed
``*.corrupt``) and never trusted: its keys are encoded again. A garbled error log or settings file
is reported and repaired the same way.

An encoder with several rows per input (the segments of a video, `segments.SegmentEncoder`) stores
each row under `segment_key` (the input's key and the row's time span) and, once its vectors are
written, the input's record (``segments-*.jsonl``: key -> spans, each line with its checksum). An
input counts as present only once its record is there, so a job killed between the two encodes
it again.

`item_key` is the one key of an encoder input: text as it is, media by a hash of their whole
content (`content_key`), memoised by `Fingerprints` like git's index, so a moved or copied file
keeps its vectors, an edited one does not, and an unchanged one is not read again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ._deprecation import moved_names
from .video import VideoFrames, describe

logger = logging.getLogger(__name__)

BLOCK = 1 << 20  # 1 MiB: the read size of `content_key`
RACY_NS = 2_000_000_000  # a file modified this close to being hashed is hashed again (git's "racy" rule)
SHARD_FORMAT = "gve-embeddings-v2"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def content_key(path: str | os.PathLike) -> str:
    """A hash of the whole content of the file at ``path``, read in 1 MiB blocks: sha256 (with
    OpenSSL's SHA extensions about twice blake2b's speed here; see benchmarks/bench_content_key.py),
    128 bits kept.

    Raises:
        OSError: the file cannot be read.
    """
    digest = hashlib.sha256()
    buffer = bytearray(BLOCK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while size := handle.readinto(buffer):
            digest.update(view[:size])
    return digest.hexdigest()[:32]


def text_fingerprint(value: str) -> str:
    return _digest(value.encode())


class Fingerprints:
    """`content_key` of files, memoised by path, size, mtime, ctime and inode (the fields git's index
    compares), so an unchanged file is read once per version, across runs when ``index_file`` is
    given (JSON, merged on save so that several processes can share one).

    Limits, as git's: an edit that keeps the size, inode, mtime *and* ctime is not seen. Restoring
    the mtime with ``os.utime`` after an edit is seen, since that sets the ctime. A file modified
    within `RACY_NS` of being hashed is hashed again on the next run. Delete ``index_file`` to
    re-hash everything.

    Args:
        index_file: the JSON memo (``None``: in memory only).
        writable: whether `save` writes it (one process of a distributed job, say).
    """

    VERSION = 2

    def __init__(self, index_file: str | os.PathLike | None = None, writable: bool = True):
        self.index_file = Path(index_file) if index_file is not None else None
        self.writable = writable
        self.problems: list[str] = []
        known = self._read()  # path -> [size, mtime_ns, ctime_ns, inode, key, hashed_ns]
        if known is None:
            self.problems.append(_report(self.index_file, "garbled; every file will be hashed again"))
        self._known = known or {}
        self._new: dict[str, list] = {}

    def _read(self) -> dict[str, list] | None:
        """The memo on disk (empty if absent or of an older format); ``None`` if garbled."""
        if self.index_file is None or not self.index_file.is_file():
            return {}
        try:
            data = json.loads(self.index_file.read_text())
            if data.get("version") != self.VERSION:
                return {}  # an older format: its keys are of another scheme
            return {str(k): list(v) for k, v in data["files"].items()}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
            return None

    def __call__(self, path: str | os.PathLike) -> str:
        """The content key of ``path``. Raises `OSError` when it cannot be read."""
        name = os.path.abspath(path)
        stat = os.stat(name)
        state = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
        entry = self._new.get(name)  # hashed by this process: trusted while the file is unchanged
        if entry is not None and entry[:4] == state:
            return entry[4]
        entry = self._known.get(name)
        if entry is not None and list(entry[:4]) == state and entry[5] - max(state[1], state[2]) > RACY_NS:
            return entry[4]
        key = content_key(name)
        self._new[name] = [*state, key, time.time_ns()]
        return key

    def save(self) -> None:
        """Write the memo (what this process hashed, merged into what is on disk)."""
        if self.index_file is None or not self.writable or not self._new:
            return
        on_disk = self._read() or {}  # what other processes saved meanwhile
        self._known = {**on_disk, **self._known, **self._new}
        self.index_file.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write_text(self.index_file, json.dumps({"version": self.VERSION, "files": self._known}))
        self._new = {}


FileKey = Callable[[str | os.PathLike], str]


def item_key(item: Any, fingerprints: FileKey | None = None) -> str:
    """The cache key of one encoder input (GVE's input format): a hash of what the encoder sees.

    Text is keyed as it is (``"a dog"`` and ``{"text": "a dog"}`` share a key); a media file by its
    content (``fingerprints``, default `content_key`), so a moved or copied file keeps its key; a
    path that cannot be read by the path, so its failure is recorded once; frames by their content
    and fps; images and arrays by their pixels.

    Raises:
        TypeError: a media object with no content to key (a file object, a ``VideoDecoder``).
    """
    file_key = fingerprints or content_key
    if isinstance(item, Mapping):
        record = {str(k): (v if k == "text" else _media_record(v, file_key)) for k, v in item.items()}
    elif isinstance(item, str):
        record = {"text": item}
    elif isinstance(item, Image.Image):
        record = {"image": _media_record(item, file_key)}
    else:  # VideoFrames, a decoder...: what `parse_item` takes for a video
        record = {"video": _media_record(item, file_key)}
    return _digest(json.dumps(record, sort_keys=True, ensure_ascii=False, default=str).encode())


def _media_record(value: Any, file_key: FileKey) -> Any:
    """A JSON-able stand-in for one media value that changes exactly when its content does."""
    if isinstance(value, (str, os.PathLike)):
        try:
            return {"file": file_key(value)}
        except OSError:  # missing or unreadable: the encoder will record why, under this key
            return {"path": os.fspath(value)}
    if isinstance(value, VideoFrames):
        frames = value.frames
        content = _array_record(frames) if hasattr(frames, "shape") else [_media_record(f, file_key) for f in frames]
        return {"frames": content, "fps": value.fps}
    if isinstance(value, Image.Image):
        return {"pixels": _digest(value.tobytes()), "mode": value.mode, "size": list(value.size)}
    if isinstance(value, (list, tuple)):
        return [_media_record(v, file_key) for v in value]
    if isinstance(value, Mapping):  # a video dict such as {"array": ..., "video_metadata": {...}}
        return {str(k): _media_record(v, file_key) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": _digest(bytes(value))}
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return _array_record(value)
    raise TypeError(f"no content key for {describe(value)}: give media as file paths, frames, images or arrays")


def _array_record(value: Any) -> dict:
    array = np.ascontiguousarray(value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value)
    return {"array": _digest(array.tobytes()), "shape": list(array.shape), "dtype": str(array.dtype)}


def segment_key(key: str, span: Sequence[float]) -> str:
    """The key of one row (time span ``(start, end)`` in seconds) of the input keyed ``key``."""
    return _digest(json.dumps([key, round(float(span[0]), 6), round(float(span[1]), 6)]).encode())


def model_fingerprint(model: Any) -> dict:
    """What identifies a model's weights: name, Hub commit, or a digest of a local folder's
    config and weight files (names, sizes, mtimes)."""
    config = getattr(model, "config", None)
    name = str(getattr(config, "_name_or_path", "") or getattr(model, "name_or_path", "") or type(model).__name__)
    record = {"model": name, "commit": getattr(config, "_commit_hash", None)}
    folder = Path(name)
    if folder.is_dir():
        digest = hashlib.blake2b(digest_size=16)
        for file in sorted(folder.glob("*")):
            if file.suffix in (".json", ".safetensors"):
                stat = file.stat()
                digest.update(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
                if file.name == "config.json":
                    digest.update(file.read_bytes())
        record["local_digest"] = digest.hexdigest()
    return record


def json_digest(value: Any, length: int = 16) -> str:
    """A short stable hash of a JSON-able ``value`` (keys sorted, other objects as ``str``): the
    name of a folder whose contents depend on exactly those settings."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:length]


def namespace_for(settings: dict) -> str:
    """A folder name for a model + settings record (stable JSON -> short hash)."""
    return json_digest(settings)


class BadShard(ValueError):
    """A cache shard that cannot be trusted; the message says why."""


def shard_checksum(vectors: torch.Tensor, keys: Sequence[str]) -> str:
    """sha256 of a shard's float32 vectors and its key list (in order)."""
    digest = hashlib.sha256(vectors.float().contiguous().numpy().tobytes())
    digest.update(json.dumps(list(keys)).encode())
    return digest.hexdigest()


def read_shard_keys(keys_file: Path) -> list[str]:
    """The keys of the shard listed by ``keys_file``, once its vectors match its checksum.

    Raises:
        BadShard: the key list is garbled, the vectors are missing, empty, truncated or corrupt, or
            they or the key list changed after writing.
    """
    try:
        keys = json.loads(keys_file.read_text())["keys"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as err:
        raise BadShard(f"its key list {keys_file.name} is garbled ({type(err).__name__})") from None
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise BadShard(f"its key list {keys_file.name} is garbled (not a list of strings)")
    vectors_file = keys_file.with_suffix(".safetensors")
    if not vectors_file.is_file():
        raise BadShard(f"missing (its key list {keys_file.name} remains)")
    if vectors_file.stat().st_size == 0:
        raise BadShard("empty")
    try:
        with safe_open(str(vectors_file), framework="pt") as handle:
            checksum = (handle.metadata() or {}).get("sha256")
            vectors = handle.get_tensor("embeddings")
    except (SafetensorError, OSError, RuntimeError, ValueError) as err:
        raise BadShard(f"truncated or corrupt ({err})") from None
    if checksum is None:
        raise BadShard("no checksum (written by an older version)")
    if vectors.ndim != 2 or vectors.shape[0] != len(keys):
        raise BadShard(f"{len(keys)} keys in {keys_file.name} for {tuple(vectors.shape)} vectors")
    if shard_checksum(vectors, keys) != checksum:
        raise BadShard("checksum mismatch: its vectors or its key list changed after they were written")
    return keys


class EmbeddingCache:
    """Append-only store of ``key -> embedding`` (and ``key -> error``) in one folder.

    Args:
        folder: root folder; entries live under ``folder / namespace_for(settings)``.
        settings: everything the embeddings depend on besides the media (model record,
            sampling settings, instruction). Saved as ``settings.json`` for people to read.

    Attributes:
        problems: what was found broken and set aside (file name and reason), oldest first.
    """

    def __init__(self, folder: str | os.PathLike, settings: dict):
        self.root = Path(folder) / namespace_for(settings)
        self.root.mkdir(parents=True, exist_ok=True)
        self.problems: list[str] = []
        self._where: dict[str, tuple[str, int]] = {}
        self._errors: dict[str, str] = {}
        self._spans: dict[str, list[tuple[float, float]]] = {}
        self._read: set[str] = set()  # files already taken in (verified or set aside)
        self._check_settings(settings)
        self.refresh()

    def _check_settings(self, settings: dict) -> None:
        settings_file = self.root / "settings.json"
        text = json.dumps(settings, indent=2, sort_keys=True, default=str)
        if settings_file.exists():
            try:
                if json.loads(settings_file.read_text()) == json.loads(text):
                    return
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                pass
            self._problem(settings_file, "garbled, or not this folder's settings; written again")
        _atomic_write_text(settings_file, text)

    def refresh(self) -> None:
        """Take in the shards and error logs written since (by this or other processes)."""
        for keys_file in sorted(self.root.glob("shard-*.json")):
            if keys_file.name not in self._read:
                self._read.add(keys_file.name)
                try:
                    keys = read_shard_keys(keys_file)
                except BadShard as err:  # reported by the shard's vectors file
                    self._set_aside(keys_file.with_suffix(".safetensors"), keys_file, reason=str(err))
                    continue
                shard = keys_file.with_suffix(".safetensors").name
                self._where.update((key, (shard, row)) for row, key in enumerate(keys))
        for errors_file in sorted(self.root.glob("errors-*.jsonl")):
            if errors_file.name not in self._read:
                self._read.add(errors_file.name)
                self._read_errors(errors_file)
        for spans_file in sorted(self.root.glob("segments-*.jsonl")):
            if spans_file.name not in self._read:
                self._read.add(spans_file.name)
                self._read_spans(spans_file)

    def _read_spans(self, spans_file: Path) -> None:
        good, bad = {}, []
        try:
            lines = spans_file.read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            lines, bad = [], ["the file"]
        for number, line in enumerate(lines, start=1):
            try:
                entry = json.loads(line) if line.strip() else None
                if entry is None:
                    continue
                key, spans = str(entry["key"]), [(float(s), float(e)) for s, e in entry["spans"]]
                if entry["sha256"] != _spans_checksum(key, spans) or not all(k in self._where for k in self._row_keys(key, spans)):
                    raise ValueError
                good[key] = spans
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                bad.append(f"line {number}")
        self._spans.update(good)
        if bad:  # keep the good records in a new file; the others' inputs are encoded again
            self._set_aside(spans_file, reason=f"garbled, or naming vectors that are not there ({', '.join(bad)})")
            self.put_spans(good)

    @staticmethod
    def _row_keys(key: str, spans: Sequence[tuple[float, float]]) -> list[str]:
        return [segment_key(key, span) for span in spans]

    def _read_errors(self, errors_file: Path) -> None:
        good, bad = {}, []
        try:
            lines = errors_file.read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            lines, bad = [], ["the file"]
        for number, line in enumerate(lines, start=1):
            try:
                entry = json.loads(line) if line.strip() else None
                if entry is not None:
                    good[str(entry["key"])] = str(entry["reason"])
            except (json.JSONDecodeError, KeyError, TypeError):
                bad.append(f"line {number}")
        self._errors.update(good)
        if bad:  # keep the good records in a new log; the garbled ones' inputs are tried again
            self._set_aside(errors_file, reason=f"garbled ({', '.join(bad)})")
            self.put_errors(good)

    def _set_aside(self, *files: Path, reason: str) -> None:
        self._problem(files[0], f"{reason}; set aside as *.corrupt, its entries will be encoded again")
        for file in files:
            try:
                os.replace(file, file.with_name(file.name + ".corrupt"))
            except OSError:  # already gone (another process set it aside), or a read-only folder
                pass

    def _problem(self, file: Path, reason: str) -> None:
        self.problems.append(_report(file, reason))

    def __contains__(self, key: str) -> bool:
        return key in self._where or key in self._spans

    def __len__(self) -> int:
        return len(self._where)

    @property
    def errors(self) -> dict[str, str]:
        """Keys recorded as failed, with the reason (not retried until their content changes)."""
        return dict(self._errors)

    @property
    def spans(self) -> dict[str, list[tuple[float, float]]]:
        """Inputs stored as several rows (segments): key -> the ``(start, end)`` of each row."""
        return dict(self._spans)

    def get_rows(self, key: str) -> tuple[list[tuple[float, float]], torch.Tensor]:
        """The spans and the ``(num_rows, dim)`` vectors of an input stored with `put_spans`."""
        spans = self._spans[key]
        return spans, self.get(self._row_keys(key, spans))

    def missing(self, keys: Iterable[str]) -> list[str]:
        """Keys with neither an embedding (or rows) nor a recorded error, in order, without duplicates."""
        seen, out = set(), []
        for key in keys:
            if key not in self._where and key not in self._spans and key not in self._errors and key not in seen:
                seen.add(key)
                out.append(key)
        return out

    def get(self, keys: Sequence[str]) -> torch.Tensor:
        """Embeddings for ``keys`` as a ``(len(keys), dim)`` float32 tensor (all must be present)."""
        absent = [k for k in keys if k not in self._where]
        if absent:
            raise KeyError(f"{len(absent)} key(s) not in the cache, e.g. {absent[0]!r}")
        by_shard: dict[str, list[tuple[int, int]]] = {}
        for position, key in enumerate(keys):
            shard, row = self._where[key]
            by_shard.setdefault(shard, []).append((position, row))
        out: torch.Tensor | None = None
        for shard, pairs in by_shard.items():
            with safe_open(str(self.root / shard), framework="pt") as handle:
                rows = handle.get_tensor("embeddings")[[row for _, row in pairs]]
            if out is None:
                out = torch.empty(len(keys), rows.shape[1], dtype=torch.float32)
            out[[position for position, _ in pairs]] = rows.float()
        return out if out is not None else torch.empty(0, 0)

    def put(self, keys: Sequence[str], embeddings: torch.Tensor) -> None:
        """Append one shard holding ``embeddings`` (``(len(keys), dim)``) under ``keys``."""
        if len(keys) != embeddings.shape[0]:
            raise ValueError(f"{len(keys)} keys for {embeddings.shape[0]} embeddings")
        if not keys:
            return
        vectors = embeddings.detach().float().cpu().contiguous()
        stem = f"shard-{_unique()}"
        tensor_tmp = self.root / f".{stem}.safetensors.tmp"
        metadata = {"format": SHARD_FORMAT, "sha256": shard_checksum(vectors, keys)}
        save_file({"embeddings": vectors}, str(tensor_tmp), metadata=metadata)
        os.replace(tensor_tmp, self.root / f"{stem}.safetensors")
        # The key list last: a shard is read only once both files are complete.
        _atomic_write_text(self.root / f"{stem}.json", json.dumps({"keys": list(keys)}))
        self._read.add(f"{stem}.json")
        self._where.update((key, (f"{stem}.safetensors", row)) for row, key in enumerate(keys))

    def put_spans(self, spans: Mapping[str, Sequence[tuple[float, float]]]) -> None:
        """Record inputs stored as several rows: key -> the ``(start, end)`` of each row, whose
        vectors must already be in the cache (`put` under `segment_key`)."""
        if not spans:
            return
        lines = "".join(
            json.dumps({"key": k, "spans": [list(x) for x in v], "sha256": _spans_checksum(k, v)}) + "\n"
            for k, v in spans.items()
        )
        name = f"segments-{_unique()}.jsonl"
        _atomic_write_text(self.root / name, lines)
        self._read.add(name)
        self._spans.update({k: [(float(s), float(e)) for s, e in v] for k, v in spans.items()})

    def put_errors(self, errors: dict[str, str]) -> None:
        """Record failed keys with their reason."""
        if not errors:
            return
        name = f"errors-{_unique()}.jsonl"
        lines = "".join(json.dumps({"key": k, "reason": r}) + "\n" for k, r in errors.items())
        _atomic_write_text(self.root / name, lines)
        self._read.add(name)
        self._errors.update(errors)


def _spans_checksum(key: str, spans: Sequence[Sequence[float]]) -> str:
    return _digest(json.dumps([key, [[float(s), float(e)] for s, e in spans]]).encode())


def _report(file: Path, reason: str) -> str:
    """Log one problem found in a cache file and return it as a line for reports."""
    line = f"{file}: {reason}"
    logger.warning("embedding cache: %s", line)
    return line


def _unique() -> str:
    return f"{os.getpid()}-{uuid.uuid4().hex[:12]}"


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


__getattr__ = moved_names(__name__, {"file_fingerprint": "modeling_gve.embedding_cache:content_key"})

__all__ = [
    "BadShard",
    "EmbeddingCache",
    "Fingerprints",
    "content_key",
    "item_key",
    "json_digest",
    "model_fingerprint",
    "namespace_for",
    "read_shard_keys",
    "segment_key",
    "shard_checksum",
    "text_fingerprint",
]
