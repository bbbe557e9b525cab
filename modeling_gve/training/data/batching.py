# Copyright 2026 The GVE package authors. Apache-2.0.
"""Task-homogeneous batches: which rows form a step's global batch, and this process's share, tokenized.

At each step every process draws the same task (the curriculum, seeded by the step), the task's
next ``batch_size × num_processes`` rows form the global batch, and process r reads and embeds
rows ``[r·batch_size, (r+1)·batch_size)``. Row order is a seeded permutation per pass over the
data, so the data position is two integers per task. Every item goes through the one embedding
protocol: ``GVEProcessor.load_item`` -> ``tokenize_item`` -> ``collate`` -> ``GVEModel.forward``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..._deprecation import warn_moved
from ...processing_gve import GVEProcessor, SamplingConfig
from ...video import GVEInputError
from .task_data import MINED_NEGATIVES, BadRow, TaskData, item_id, row_items


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

    def loss_inputs(self, embeddings: dict) -> dict:
        """Deprecated: `modeling_gve.training.loss.loss_inputs(rows, num_hard_negatives, embeddings)`."""
        from dataclasses import asdict

        from ..loss import loss_inputs

        warn_moved("TrainBatch.loss_inputs", "modeling_gve.training.loss.loss_inputs")
        inputs = loss_inputs(self.rows, self.num_hard_negatives, embeddings)
        return {k: v for k, v in asdict(inputs).items() if k != "valid"}


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
            field_name = getattr(err, "field", field_name)
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

    def __call__(self, plan: BatchPlan) -> TrainBatch:
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
    the step), rows from that task's position. Its state is the position of every task.

    Attributes:
        positions: ``{task: (pass, offset)}``, where each task's next rows start.
        negatives: hard negatives re-mined by the prober (``hard_negatives: prober``), set by the
            trainer at each probe: ``{task: {row id: [resolved items]}}``; a planned row of such a
            task carries its own (``MINED_NEGATIVES``), which replace its ``negatives`` column.
    """

    def __init__(self, tasks: Sequence[TaskData], num_processes: int):
        self.tasks, self.num_processes = tasks, num_processes
        self.positions: dict[str, tuple[int, int]] = {t.spec.task: (0, 0) for t in tasks}
        self.negatives: dict[str, dict[str, list[dict]]] = {}

    def global_batch_size(self, task_index: int) -> int:
        return self.tasks[task_index].spec.batch_size * self.num_processes

    def plan(self, step: int, task_index: int) -> BatchPlan:
        task = self.tasks[task_index]
        rows, after = task.take(self.positions[task.spec.task], self.global_batch_size(task_index))
        self.positions[task.spec.task] = after
        mined = self.negatives.get(task.spec.task)
        if mined is not None:
            rows = [{**row, MINED_NEGATIVES: mined.get(str(row.get("id")), [])} for row in rows]
        return BatchPlan(step=step, task_index=task_index, rows=rows, state_after=self.state_dict())

    def state_dict(self) -> dict:
        return {"positions": {k: list(v) for k, v in self.positions.items()}}

    def load_state_dict(self, state: dict) -> None:
        for name, position in state.get("positions", {}).items():
            if name not in self.positions:
                raise ValueError(f"checkpoint has data position of task {name!r}, which the mixture lacks")
            self.positions[name] = (int(position[0]), int(position[1]))


__all__ = ["BatchLoader", "BatchPlan", "BatchPlanner", "LoadedRow", "TrainBatch"]
