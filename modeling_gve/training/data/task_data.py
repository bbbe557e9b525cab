# Copyright 2026 The GVE package authors. Apache-2.0.
"""One task's rows: opening the dataset, the seeded order, rows -> items, and bad rows.

Rows are ``(query, positive, hard negatives)`` in the training-pair format of `modeling_gve.pairs`.
Media paths are relative to the dataset root and must resolve inside it (`modeling_gve.paths`). A
row that cannot be trained on (a path outside the root, a media path that is not a string, a broken
modality pattern, a file the processor rejects) is a `BadRow` naming its task, id, field and reason.
Queries get the task's instruction; candidates get the processor's default (what the released
checkpoints are known to use; the paper does not say).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ... import pairs
from ...directions import MODALITIES, letters, parse
from ...paths import DataFileError, MediaPathError, check_relative, jsonl_lines, resolve_inside
from ...video import GVEInputError, VideoFrames
from .mixture import TaskSpec

# The key under which a planned row carries hard negatives re-mined by the prober (resolved items
# of the task's candidate pool; `modeling_gve.training.negatives`), used instead of ``negatives``.
MINED_NEGATIVES = "_mined_negatives"


@dataclass
class BadRow:
    """A row that cannot be trained on, and why."""

    task: str
    row_id: str
    field: str
    input: str
    reason: str

    def __str__(self) -> str:
        return f"task {self.task!r}, row {self.row_id!r}, {self.field}: {self.input}: {self.reason}"

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)


class BadDataError(RuntimeError):
    """A bad row stopped the run (``on_bad_row: stop``), or too many rows were skipped."""


class RowFieldError(GVEInputError):
    """A `GVEInputError` that knows which field of the row it is about (``query``, ``positive``,
    ``negatives[0]``, or ``row`` for the row as a whole)."""

    def __init__(self, field: str, input: str, reason: str):
        super().__init__(input, reason)
        self.field = field


def item_id(item: dict) -> int:
    """A 63-bit identity of an item (same text and media = same id), for duplicate masking."""
    key = json.dumps([item.get(m) if isinstance(item.get(m), str) else str(item.get(m)) for m in MODALITIES])
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") >> 1


class MediaResolver:
    """Relative media paths of a task -> what `GVEProcessor.load_item` reads.

    A local dataset resolves against its root folder, and a path must resolve (symlinks
    included) inside it (`modeling_gve.paths.resolve_inside`). A Hub dataset downloads the
    file (or, for a frame folder, the folder) from the repo on first use, into the Hugging Face
    cache; its paths must be relative and stay inside the repo (`check_relative`). A path that
    is a folder becomes ``VideoFrames.from_folder(path, fps=frames_fps)``.
    """

    def __init__(self, root: Path | None, repo_id: str | None = None, revision: str | None = None):
        self.root, self.repo_id, self.revision = root, repo_id, revision

    def local_path(self, relative: Any) -> Path:
        """The local file of ``relative``.

        Raises:
            MediaPathError: ``relative`` is not a string, or leads outside the dataset root.
        """
        if self.root is not None:
            return resolve_inside(self.root, relative)
        relative = check_relative(relative)
        from huggingface_hub import hf_hub_download, snapshot_download
        from huggingface_hub.errors import EntryNotFoundError

        try:
            return Path(hf_hub_download(self.repo_id, relative, repo_type="dataset", revision=self.revision))
        except EntryNotFoundError:  # a frame folder
            folder = snapshot_download(
                self.repo_id, repo_type="dataset", revision=self.revision, allow_patterns=[f"{relative}/*"]
            )
            return Path(folder) / relative

    def item(self, values: dict, frames_fps: float) -> dict:
        """``{"text": ..., "image": path, "video": path | VideoFrames}`` with null fields left out.

        Raises:
            GVEInputError: a media path is not a string or leads outside the dataset root.
        """
        item: dict[str, Any] = {}
        if values.get("text") is not None:
            item["text"] = values["text"]
        for modality in ("image", "video"):
            if values.get(modality) is None:
                continue
            try:
                path = self.local_path(values[modality])
            except MediaPathError as err:
                raise GVEInputError(f"{modality} {values[modality]!r}", err.reason) from None
            is_frames = modality == "video" and path.is_dir()
            item[modality] = VideoFrames.from_folder(path, fps=frames_fps) if is_frames else str(path)
        return item


@dataclass
class RowItems:
    """The raw items of one row, before media are read."""

    row_id: str
    query: dict
    positive: dict
    negatives: list[dict]


def _pattern_error(row_id: str, reason: str) -> RowFieldError:
    return RowFieldError("row", f"row {row_id!r}", reason)


def row_items(row: dict, task: TaskData, with_negatives: bool = True) -> RowItems:
    """One schema row -> query / positive / first ``num_hard_negatives`` negatives as item dicts;
    without ``with_negatives`` (probing) the negatives are left out and their media not resolved.

    A row planned with re-mined hard negatives (``MINED_NEGATIVES``) takes those instead of its
    ``negatives`` column.

    Raises:
        RowFieldError: the row breaks the task's modality pattern (a hard negative is a candidate:
            it has the positive's modalities) or has no query / positive (field ``row``), or one of
            its media paths is not a string or leads outside the dataset root (its field).
    """
    row_id = str(row.get("id"))
    direction = pairs.direction_of(row)
    if direction != task.direction:
        reason = f"has modality pattern {direction}, but task {task.spec.task!r} is {task.direction}"
        raise _pattern_error(row_id, reason)
    wanted = task.spec.num_hard_negatives if with_negatives else 0
    mined = row.get(MINED_NEGATIVES)
    raw_negatives = [] if mined is not None else (row.get("negatives") or [])[:wanted]
    target = task.direction.split("2", 1)[1]
    for j, negative in enumerate(raw_negatives):
        # Also what keeps FSDP / ZeRO-3 in step: every process's candidates then need the same
        # vision passes (an image among video candidates adds one on one process only).
        pattern = letters(m for m in MODALITIES if negative.get(m) is not None)
        if pattern != target:
            raise _pattern_error(
                row_id,
                f"hard negative {j} has modality pattern {pattern or 'none'}, but the candidates of task "
                f"{task.spec.task!r} are {target}",
            )
    sides = [("query", pairs.side(row, "query")), ("positive", pairs.side(row, "pos"))]
    sides += [(f"negatives[{j}]", negative) for j, negative in enumerate(raw_negatives)]
    items = []
    for field_name, values in sides:
        try:
            items.append(task.resolver.item(values, task.spec.frames_fps))
        except GVEInputError as err:
            raise RowFieldError(field_name, err.input, err.reason) from None
    negatives = items[2:] if mined is None else list(mined[:wanted])  # mined ones are resolved already
    return RowItems(row_id=row_id, query=items[0], positive=items[1], negatives=negatives)


def _task_seed(seed: int, task: str) -> int:
    return (seed * 1_000_003 + zlib.crc32(task.encode())) % (2**31)


def check_json_files(files: Sequence[str]) -> None:
    """Every line of local JSON / JSONL data files is valid UTF-8 (`datasets` stores invalid bytes
    and fails with a bare `UnicodeDecodeError` only when the row is read, mid-training).

    Raises:
        DataFileError: naming ``file:line``.
    """
    for file in files:
        for _ in jsonl_lines(file):
            pass


class TaskData:
    """One task's rows in a seeded order, endlessly (pass after pass).

    Attributes:
        spec: the mixture entry.
        direction: e.g. ``"T2V"`` (read from the first row, checked against ``spec.direction``).
        num_rows: rows in the dataset (``None`` for a streamed one).
        samples_per_epoch: ``spec.num_samples`` or ``num_rows``.
    """

    def __init__(self, spec: TaskSpec, dataset: Any, resolver: MediaResolver, seed: int, shuffle_buffer_size: int):
        self.spec, self.dataset, self.resolver = spec, dataset, resolver
        self.seed = _task_seed(seed, spec.task)
        self.shuffle_buffer_size = shuffle_buffer_size
        self.streaming = spec.streaming
        missing = [c for c in pairs.COLUMNS if c not in (dataset.column_names or [])]
        if missing:
            raise ValueError(f"task {spec.task!r}: the dataset lacks the schema column(s) {missing}")
        self.num_rows = None if self.streaming else len(dataset)
        if self.num_rows == 0:
            raise ValueError(f"task {spec.task!r}: the dataset is empty")
        first = next(iter(dataset)) if self.streaming else dataset[0]
        self.direction = spec.direction or pairs.direction_of(first)
        if "?" in self.direction:
            raise ValueError(f"task {spec.task!r}: the first row has no query or no positive ({first.get('id')!r})")
        if self.streaming and spec.num_samples is None:
            raise ValueError(f"task {spec.task!r} is streamed: give its num_samples (instances per epoch)")
        self.samples_per_epoch = spec.num_samples or self.num_rows
        try:
            self.instruction = spec.instruction or parse(self.direction).instruction
        except ValueError as err:  # a direction without a table entry needs the mixture's instruction
            raise ValueError(f"task {spec.task!r}: {err}") from None
        self._stream: Iterator | None = None
        self._stream_position: tuple[int, int] | None = None
        self._permutations: dict[int, torch.Tensor] = {}

    @classmethod
    def open(
        cls, spec: TaskSpec, data_root: Path, seed: int, shuffle_buffer_size: int = 10_000, cache_dir: str | None = None
    ) -> TaskData:
        """Open a task from a local folder (relative to ``data_root``) or a Hub dataset repo;
        ``cache_dir``: the `datasets` cache (default: ``HF_DATASETS_CACHE``)."""
        dataset, resolver = open_dataset(spec.path, spec, data_root, cache_dir)
        return cls(spec, dataset, resolver, seed, shuffle_buffer_size)

    def _permutation(self, pass_index: int) -> torch.Tensor:
        if pass_index not in self._permutations:
            generator = torch.Generator().manual_seed(self.seed + 7919 * pass_index)
            self._permutations = {pass_index: torch.randperm(self.num_rows, generator=generator)}
        return self._permutations[pass_index]

    def take(self, position: tuple[int, int], count: int) -> tuple[list[dict], tuple[int, int]]:
        """The ``count`` rows from ``position = (pass, offset)``, and the position after them."""
        if self.streaming:
            return self._take_streamed(position, count)
        pass_index, offset = position
        rows: list[dict] = []
        while len(rows) < count:
            perm = self._permutation(pass_index)
            indices = perm[offset : offset + count - len(rows)].tolist()
            block = self.dataset[indices]
            rows.extend({k: block[k][i] for k in block} for i in range(len(indices)))
            offset += len(indices)
            if offset >= self.num_rows:
                pass_index, offset = pass_index + 1, 0
        return rows, (pass_index, offset)

    def _take_streamed(self, position: tuple[int, int], count: int) -> tuple[list[dict], tuple[int, int]]:
        pass_index, offset = position
        if self._stream_position != (pass_index, offset):
            self._stream = self._open_stream(pass_index, offset)
        rows: list[dict] = []
        empty_passes = 0
        while len(rows) < count:
            row = next(self._stream, None)
            if row is None:
                empty_passes = empty_passes + 1 if offset == 0 else 0
                if empty_passes > 1:
                    raise ValueError(f"task {self.spec.task!r}: the streamed dataset yields no rows")
                pass_index, offset = pass_index + 1, 0
                self._stream = self._open_stream(pass_index, 0)
                continue
            rows.append(row)
            offset += 1
        self._stream_position = (pass_index, offset)
        return rows, (pass_index, offset)

    def _open_stream(self, pass_index: int, offset: int) -> Iterator[dict]:
        shuffled = self.dataset.shuffle(seed=self.seed + 7919 * pass_index, buffer_size=self.shuffle_buffer_size)
        return iter(shuffled.skip(offset) if offset else shuffled)

    def sample(self, count: int, seed: int) -> list[dict]:
        """``count`` rows drawn with ``seed`` (without replacement where possible), for probing."""
        if self.streaming:
            stream = self.dataset.shuffle(seed=seed % (2**31), buffer_size=self.shuffle_buffer_size)
            return list(stream.take(count))
        generator = torch.Generator().manual_seed(seed % (2**63))
        indices = torch.randperm(self.num_rows, generator=generator)[: min(count, self.num_rows)].tolist()
        block = self.dataset[indices]
        return [{k: block[k][i] for k in block} for i in range(len(indices))]


def open_dataset(path: str, spec: TaskSpec, data_root: Path, cache_dir: str | None) -> tuple[Any, MediaResolver]:
    """The `datasets` dataset at ``path`` (a folder relative to ``data_root``, or a Hub dataset repo
    id) with ``spec``'s config, split, revision and streaming, and the resolver of its media."""
    import datasets

    local = Path(path) if Path(path).is_absolute() else data_root / path
    if not local.exists():
        if path.count("/") != 1 or path.startswith((".", "/")):
            raise FileNotFoundError(
                f"task {spec.task!r}: no dataset folder at {str(local)!r}, and {path!r} is not a Hub repo id"
            )
        dataset = datasets.load_dataset(
            path, spec.name, split=spec.split, revision=spec.revision, streaming=spec.streaming, cache_dir=cache_dir
        )
        return dataset, MediaResolver(None, repo_id=path, revision=spec.revision)
    # datasets 5 keys the cache of a local *folder* by its name and config only: another folder
    # with the same name, or this one rewritten, would silently load stale rows. Its data files,
    # loaded by path, are keyed by path and modification time.
    builder = datasets.load_dataset_builder(str(local), spec.name, cache_dir=cache_dir)
    if builder.name not in ("parquet", "json", "csv", "arrow"):
        raise ValueError(f"task {spec.task!r}: unsupported data file format {builder.name!r} in {local}")
    data_files = {split: list(files) for split, files in builder.config.data_files.items()}
    if spec.split not in data_files:
        raise ValueError(f"task {spec.task!r}: no split {spec.split!r} in {local} (has {sorted(data_files)})")
    if builder.name == "json":
        check_json_files(data_files[spec.split])
    dataset = datasets.load_dataset(
        builder.name, data_files=data_files, split=spec.split, streaming=spec.streaming, cache_dir=cache_dir
    )
    return dataset, MediaResolver(local)


def open_tasks(
    specs: Sequence[TaskSpec], data_root: Path, seed: int, shuffle_buffer_size: int = 10_000, cache_dir: str | None = None
) -> list[TaskData]:
    return [TaskData.open(spec, data_root, seed, shuffle_buffer_size, cache_dir) for spec in specs]


__all__ = [
    "MINED_NEGATIVES",
    "BadDataError",
    "BadRow",
    "DataFileError",
    "MediaResolver",
    "RowFieldError",
    "RowItems",
    "TaskData",
    "check_json_files",
    "item_id",
    "open_dataset",
    "open_tasks",
    "row_items",
]
