# Copyright 2026 The GVE package authors. Apache-2.0.
"""Training data: task datasets, the mixture file, and task-homogeneous batches.

A *task* is one `datasets` dataset and direction (``T2V``, ``TI2V``, ...) whose rows are
``(query, positive, hard negatives)`` in the training-pair format of `modeling_gve.pairs`.

A *mixture* file lists the tasks with their per-device batch size, hard-negative count,
instances per epoch and sampling weight (``recipes/mixtures/gve-3b.yaml`` holds the
paper's Tables 6-7). Every item goes through the one embedding protocol:
``GVEProcessor.load_item`` -> ``tokenize_item`` -> ``collate`` -> ``GVEModel.forward``; a row
the processor rejects (`GVEInputError`: missing media, empty text...) is reported with its
task, id and field, and skipped or the run stopped, as configured.

Batches are task-homogeneous: at each step every process draws the same task (seeded
by the step), the task's next ``batch_size × num_processes`` rows form the global batch,
and process r reads and embeds rows ``[r·batch_size, (r+1)·batch_size)``. Row order is a
seeded permutation per pass over the data, so the data position is two integers per task.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch
import yaml

from .. import pairs
from .._deprecation import moved_names
from ..directions import MODALITIES, letters, parse
from ..processing_gve import GVEProcessor, SamplingConfig
from ..suggest import unknown_key_error
from ..video import GVEInputError, VideoFrames

# --------------------------------------------------------------------------- mixture


@dataclass
class TaskSpec:
    """One task of a mixture file.

    Args:
        task: unique label used in logs and checkpoints (e.g. ``UVRD-T2V``).
        path: dataset root folder (relative to ``data_root``) or Hub dataset repo id.
        name: dataset config name (in this schema, the direction: ``T2V``).
        split: dataset split.
        revision: Hub revision (branch, tag or commit) of a Hub dataset.
        streaming: stream the rows instead of downloading the whole dataset.
        batch_size: rows per process per step (paper: 32 or 64).
        num_hard_negatives: hard negatives used per row (the first ones of ``negatives``).
        num_samples: instances per epoch (subsample or repeat); default: the dataset's size.
        weight: sampling prior of the task (default: see ``task_prior``).
        instruction: query instruction; default: the direction's (`modeling_gve.directions.INSTRUCTIONS`).
        direction: expected direction, checked against the data (default: read from the data).
        tier: Modality Pyramid tier 1-4 (default: from the direction).
        frames_fps: frame rate of frame folders given as videos (frames extracted at 1 fps: 1.0).
    """

    task: str
    path: str
    name: str | None = None
    split: str = "train"
    revision: str | None = None
    streaming: bool = False
    batch_size: int = 32
    num_hard_negatives: int = 0
    num_samples: int | None = None
    weight: float | None = None
    instruction: str | None = None
    direction: str | None = None
    tier: int | None = None
    frames_fps: float = 1.0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"task {self.task!r}: batch_size must be >= 1, got {self.batch_size}")
        if self.num_hard_negatives < 0:
            raise ValueError(f"task {self.task!r}: num_hard_negatives must be >= 0, got {self.num_hard_negatives}")
        if self.weight is not None and self.weight < 0:
            raise ValueError(f"task {self.task!r}: weight must be >= 0, got {self.weight}")
        if self.tier is not None and self.tier not in (1, 2, 3, 4):
            raise ValueError(f"task {self.task!r}: tier must be 1, 2, 3 or 4, got {self.tier}")


def _strict(cls: type, values: dict, where: str) -> Any:
    names = [f.name for f in dataclasses.fields(cls)]
    for key in values:
        if key not in names:
            raise unknown_key_error(key, names, where)
    try:
        return cls(**values)
    except TypeError as err:  # a missing required key
        raise ValueError(f"{where}: {err}") from None


def load_mixture(path: str | Path) -> list[TaskSpec]:
    """Read a mixture YAML: ``tasks:`` (a list of `TaskSpec` mappings) and optional
    ``defaults:`` applied to every task. Unknown keys fail with a "did you mean"."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"mixture file {str(path)!r} not found")
    data = yaml.safe_load(path.read_text()) or {}
    for key in data:
        if key not in ("tasks", "defaults"):
            raise unknown_key_error(key, ["tasks", "defaults"], str(path))
    defaults = data.get("defaults") or {}
    tasks = [_strict(TaskSpec, {**defaults, **entry}, f"{path} task #{i + 1}") for i, entry in enumerate(data.get("tasks") or [])]
    if not tasks:
        raise ValueError(f"{path}: the mixture lists no tasks")
    names = [t.task for t in tasks]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{path}: task labels must be unique, repeated: {duplicates}")
    return tasks


# --------------------------------------------------------------------------- rows -> items


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


def item_id(item: dict) -> int:
    """A 63-bit identity of an item (same text and media = same id), for duplicate masking."""
    key = json.dumps([item.get(m) if isinstance(item.get(m), str) else str(item.get(m)) for m in MODALITIES])
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") >> 1


class MediaResolver:
    """Relative media paths of a task -> what `GVEProcessor.load_item` reads.

    A local dataset resolves against its root folder; a Hub dataset downloads the file (or,
    for a frame folder, the folder) from the repo on first use, into the Hugging Face cache.
    A path that is a folder becomes ``VideoFrames.from_folder(path, fps=frames_fps)``.
    """

    def __init__(self, root: Path | None, repo_id: str | None = None, revision: str | None = None):
        self.root, self.repo_id, self.revision = root, repo_id, revision

    def local_path(self, relative: str) -> Path:
        path = Path(relative)
        if path.is_absolute():
            return path
        if self.root is not None:
            return self.root / path
        from huggingface_hub import hf_hub_download, snapshot_download
        from huggingface_hub.errors import EntryNotFoundError

        try:
            return Path(hf_hub_download(self.repo_id, relative, repo_type="dataset", revision=self.revision))
        except EntryNotFoundError:  # a frame folder
            folder = snapshot_download(
                self.repo_id, repo_type="dataset", revision=self.revision, allow_patterns=[f"{relative.rstrip('/')}/*"]
            )
            return Path(folder) / relative

    def item(self, values: dict, frames_fps: float) -> dict:
        """``{"text": ..., "image": path, "video": path | VideoFrames}`` with null fields left out."""
        item: dict[str, Any] = {}
        if values.get("text") is not None:
            item["text"] = values["text"]
        if values.get("image") is not None:
            item["image"] = str(self.local_path(values["image"]))
        if values.get("video") is not None:
            path = self.local_path(values["video"])
            item["video"] = VideoFrames.from_folder(path, fps=frames_fps) if path.is_dir() else str(path)
        return item


@dataclass
class RowItems:
    """The raw items of one row, before media are read."""

    row_id: str
    query: dict
    positive: dict
    negatives: list[dict]


def row_items(row: dict, task: "TaskData", with_negatives: bool = True) -> RowItems:
    """One schema row -> query / positive / first ``num_hard_negatives`` negatives as item dicts;
    without ``with_negatives`` (probing) the negatives are left out and their media not resolved.

    Raises:
        GVEInputError: the row breaks the task's modality pattern (a hard negative is a candidate:
            it has the positive's modalities) or has no query / positive.
    """
    row_id = str(row.get("id"))
    direction = pairs.direction_of(row)
    if direction != task.direction:
        raise GVEInputError(
            f"row {row_id!r}", f"has modality pattern {direction}, but task {task.spec.task!r} is {task.direction}"
        )
    wanted = task.spec.num_hard_negatives if with_negatives else 0
    raw_negatives = (row.get("negatives") or [])[:wanted]
    target = task.direction.split("2", 1)[1]
    for j, negative in enumerate(raw_negatives):
        # Also what keeps FSDP / ZeRO-3 in step: every process's candidates then need the same
        # vision passes (an image among video candidates adds one on one process only).
        pattern = letters(m for m in MODALITIES if negative.get(m) is not None)
        if pattern != target:
            raise GVEInputError(
                f"row {row_id!r}",
                f"hard negative {j} has modality pattern {pattern or 'none'}, but the candidates of task "
                f"{task.spec.task!r} are {target}",
            )
    resolve = task.resolver.item
    fps = task.spec.frames_fps
    query = resolve(pairs.side(row, "query"), fps)
    positive = resolve(pairs.side(row, "pos"), fps)
    negatives = [resolve(n, fps) for n in raw_negatives]
    return RowItems(row_id=row_id, query=query, positive=positive, negatives=negatives)


# --------------------------------------------------------------------------- task datasets


def _task_seed(seed: int, task: str) -> int:
    return (seed * 1_000_003 + zlib.crc32(task.encode())) % (2**31)


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
    ) -> "TaskData":
        """Open a task from a local folder (relative to ``data_root``) or a Hub dataset repo;
        ``cache_dir``: the `datasets` cache (default: ``HF_DATASETS_CACHE``)."""
        import datasets

        local = Path(spec.path) if Path(spec.path).is_absolute() else data_root / spec.path
        if local.exists():
            source, resolver = str(local), MediaResolver(local)
        elif spec.path.count("/") == 1 and not spec.path.startswith((".", "/")):
            source, resolver = spec.path, MediaResolver(None, repo_id=spec.path, revision=spec.revision)
        else:
            raise FileNotFoundError(
                f"task {spec.task!r}: no dataset folder at {str(local)!r}, and {spec.path!r} is not a Hub repo id"
            )
        if resolver.root is not None:
            # datasets 5 keys the cache of a local *folder* by its name and config only: another
            # folder with the same name, or this one rewritten, would silently load stale rows.
            # Its data files, loaded by path, are keyed by path and modification time.
            builder = datasets.load_dataset_builder(source, spec.name, cache_dir=cache_dir)
            if builder.name not in ("parquet", "json", "csv", "arrow"):
                raise ValueError(f"task {spec.task!r}: unsupported data file format {builder.name!r} in {source}")
            data_files = {split: list(files) for split, files in builder.config.data_files.items()}
            if spec.split not in data_files:
                raise ValueError(f"task {spec.task!r}: no split {spec.split!r} in {source} (has {sorted(data_files)})")
            dataset = datasets.load_dataset(
                builder.name, data_files=data_files, split=spec.split, streaming=spec.streaming, cache_dir=cache_dir
            )
        else:
            dataset = datasets.load_dataset(
                source, spec.name, split=spec.split, revision=spec.revision, streaming=spec.streaming,
                cache_dir=cache_dir,
            )  # fmt: skip
        return cls(spec, dataset, resolver, seed, shuffle_buffer_size)

    def _permutation(self, pass_index: int) -> torch.Tensor:
        if pass_index not in self._permutations:
            generator = torch.Generator().manual_seed(self.seed + 7919 * pass_index)
            self._permutations = {pass_index: torch.randperm(self.num_rows, generator=generator)}
        return self._permutations[pass_index]

    def take(self, position: tuple[int, int], count: int) -> tuple[list[dict], tuple[int, int]]:
        """The ``count`` rows from ``position = (pass, offset)``, and the position after them."""
        pass_index, offset = position
        rows: list[dict] = []
        if not self.streaming:
            while len(rows) < count:
                perm = self._permutation(pass_index)
                indices = perm[offset : offset + count - len(rows)].tolist()
                block = self.dataset[indices]
                rows.extend({k: block[k][i] for k in block} for i in range(len(indices)))
                offset += len(indices)
                if offset >= self.num_rows:
                    pass_index, offset = pass_index + 1, 0
            return rows, (pass_index, offset)
        if self._stream_position != (pass_index, offset):
            self._stream = self._open_stream(pass_index, offset)
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


def open_tasks(
    specs: Sequence[TaskSpec], data_root: Path, seed: int, shuffle_buffer_size: int = 10_000, cache_dir: str | None = None
) -> list[TaskData]:
    return [TaskData.open(spec, data_root, seed, shuffle_buffer_size, cache_dir) for spec in specs]


# --------------------------------------------------------------------------- batches


@dataclass
class LoadedRow:
    """One row, tokenized: unpadded model inputs per item (see `GVEProcessor.tokenize_item`)."""

    row_id: str
    query: dict
    positive: dict
    negatives: list[dict]
    query_id: int
    positive_id: int
    negative_ids: list[int]


@dataclass
class TrainBatch:
    """This process's share of one task-homogeneous global batch.

    Attributes:
        step: global step (0-based) it was planned for.
        task_index, task: which task.
        rows: the good rows, tokenized.
        bad: the rows that were rejected, with the reason.
        num_hard_negatives: h of the task (rows may carry fewer; they are masked).
        planner_state: the data position after this batch (saved with checkpoints).
    """

    step: int
    task_index: int
    task: str
    rows: list[LoadedRow]
    bad: list[BadRow]
    num_hard_negatives: int
    planner_state: dict = field(default_factory=dict)

    def groups(self) -> dict[str, list[dict]]:
        """Items by role: ``queries`` (n) and ``candidates`` (n positives, then the negatives row by row)."""
        candidates = [r.positive for r in self.rows] + [n for r in self.rows for n in r.negatives]
        return {"queries": [r.query for r in self.rows], "candidates": candidates}

    def loss_inputs(self, embeddings: dict[str, torch.Tensor]) -> dict[str, torch.Tensor | None]:
        """Embeddings by role -> the keyword arguments of `InfoNCELoss`.

        ``embeddings["candidates"]`` is ``(n + number of negatives, D)`` in `groups` order; the
        negatives are scattered into ``(n, h, D)`` with a validity mask.
        """
        queries, candidates = embeddings["queries"], embeddings["candidates"]
        n, h = len(self.rows), self.num_hard_negatives
        device = queries.device
        out: dict[str, torch.Tensor | None] = {
            "queries": queries,
            "positives": candidates[:n],
            "negatives": None,
            "query_ids": torch.tensor([r.query_id for r in self.rows], dtype=torch.long, device=device),
            "positive_ids": torch.tensor([r.positive_id for r in self.rows], dtype=torch.long, device=device),
        }
        if h:
            counts = [len(r.negatives) for r in self.rows]
            row_index = torch.tensor([i for i, c in enumerate(counts) for _ in range(c)], dtype=torch.long)
            slot_index = torch.tensor([j for c in counts for j in range(c)], dtype=torch.long)
            negatives = candidates.new_zeros(n, h, candidates.shape[-1])
            negatives = negatives.index_put((row_index.to(device), slot_index.to(device)), candidates[n:])
            valid = torch.zeros(n, h, dtype=torch.bool, device=device)
            valid[row_index, slot_index] = True
            ids = torch.full((n, h), -1, dtype=torch.long, device=device)
            ids[row_index, slot_index] = torch.tensor(
                [i for r in self.rows for i in r.negative_ids], dtype=torch.long, device=device
            )
            out.update(negatives=negatives, negative_valid=valid, negative_ids=ids)
        return out


class BatchLoader:
    """Reads and tokenizes this process's rows of a planned batch (media I/O; runs in threads).

    Args:
        processor: the model's `GVEProcessor` (prompt, frame sampling, tokenization).
        sampling: the training `SamplingConfig`.
        process_index, num_processes: which slice of the global batch this process takes.
    """

    def __init__(self, tasks: Sequence[TaskData], processor: GVEProcessor, sampling: SamplingConfig,
                 process_index: int = 0, num_processes: int = 1):  # fmt: skip
        self.tasks, self.processor, self.sampling = tasks, processor, sampling
        self.process_index, self.num_processes = process_index, num_processes

    def _features(self, item: dict, instruction: str | None) -> dict:
        processor = self.processor
        return processor.tokenize_item(processor.load_item(item, self.sampling), instruction, self.sampling)

    def load_row(self, row: dict, task: TaskData, with_negatives: bool = True) -> LoadedRow | BadRow:
        """Tokenize one row (query with the task instruction, candidates with the default), or
        say which field of it is bad."""
        row_id = str(row.get("id"))
        field_name = "row"
        try:
            items = row_items(row, task, with_negatives)
            field_name = "query"
            query = self._features(items.query, task.instruction)
            field_name = "positive"
            positive = self._features(items.positive, None)
            negatives = []
            for j, negative in enumerate(items.negatives):
                field_name = f"negatives[{j}]"
                negatives.append(self._features(negative, None))
        except GVEInputError as err:
            return BadRow(task=task.spec.task, row_id=row_id, field=field_name, input=err.input, reason=err.reason)
        return LoadedRow(
            row_id=row_id,
            query=query,
            positive=positive,
            negatives=negatives,
            query_id=item_id(items.query),
            positive_id=item_id(items.positive),
            negative_ids=[item_id(n) for n in items.negatives],
        )

    def __call__(self, plan: "BatchPlan") -> TrainBatch:
        task = self.tasks[plan.task_index]
        size = task.spec.batch_size
        local = plan.rows[self.process_index * size : (self.process_index + 1) * size]
        rows, bad = [], []
        for row in local:
            result = self.load_row(row, task)
            (bad if isinstance(result, BadRow) else rows).append(result)
        return TrainBatch(
            step=plan.step,
            task_index=plan.task_index,
            task=task.spec.task,
            rows=rows,
            bad=bad,
            num_hard_negatives=task.spec.num_hard_negatives,
            planner_state=plan.state_after,
        )


@dataclass
class BatchPlan:
    """Which rows form the global batch of one step (the same on every process)."""

    step: int
    task_index: int
    rows: list[dict]
    state_after: dict


class BatchPlanner:
    """Plans task-homogeneous global batches: task of a step from the curriculum (seeded by
    the step), rows from that task's position. Its state is the position of every task."""

    def __init__(self, tasks: Sequence[TaskData], num_processes: int):
        self.tasks, self.num_processes = tasks, num_processes
        self.positions: dict[str, tuple[int, int]] = {t.spec.task: (0, 0) for t in tasks}

    def plan(self, step: int, task_index: int) -> BatchPlan:
        task = self.tasks[task_index]
        rows, after = task.take(self.positions[task.spec.task], task.spec.batch_size * self.num_processes)
        self.positions[task.spec.task] = after
        return BatchPlan(step=step, task_index=task_index, rows=rows, state_after=self.state_dict())

    def state_dict(self) -> dict:
        return {"positions": {k: list(v) for k, v in self.positions.items()}}

    def load_state_dict(self, state: dict) -> None:
        for name, position in state.get("positions", {}).items():
            if name not in self.positions:
                raise ValueError(f"checkpoint has data position of task {name!r}, which the mixture lacks")
            self.positions[name] = (int(position[0]), int(position[1]))


__getattr__ = moved_names(
    __name__,
    {
        "DEFAULT_INSTRUCTIONS": "modeling_gve.directions:INSTRUCTIONS",
        "LETTERS": "modeling_gve.directions:LETTERS",
        "SCHEMA_COLUMNS": "modeling_gve.pairs:COLUMNS",
        "direction_of": "modeling_gve.pairs:direction_of",
        "write_task": "modeling_gve.pairs:write_task",
        "default_instruction": "modeling_gve.directions:instruction",
    },
)

__all__ = [
    "BadDataError",
    "BadRow",
    "BatchLoader",
    "BatchPlan",
    "BatchPlanner",
    "LoadedRow",
    "MediaResolver",
    "TaskData",
    "TaskSpec",
    "TrainBatch",
    "item_id",
    "load_mixture",
    "open_tasks",
    "row_items",
]
