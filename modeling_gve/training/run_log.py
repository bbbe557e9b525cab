# Copyright 2026 The GVE package authors. Apache-2.0.
"""What a run logs (`RunLog`): ``output_dir/train_log.jsonl`` and accelerate's trackers.

Records: ``"event": "train"`` every ``logging_steps`` (the window's mean loss, accuracy,
positive score and hard-negative margin, learning rate, throughput, counts per task, ``sigma``)
and ``"event": "curriculum"`` at every probe (`probing.CurriculumProbe.log`).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

from accelerate import Accelerator

from .data import TrainBatch
from .loss import ContrastiveOutput

WINDOW_MEANS = ("loss", "accuracy", "positive_score", "hard_negative_margin")


class RunLog:
    """Writes records to ``train_log.jsonl`` (main process) and the trackers (numbers only).

    Args:
        accelerator: the run's accelerator (its trackers).
        output_dir: where ``train_log.jsonl`` is written.
        steps_per_epoch: to number the epoch of a record.
    """

    def __init__(self, accelerator: Accelerator, output_dir: Path, steps_per_epoch: int):
        self.accelerator, self.output_dir, self.steps_per_epoch = accelerator, Path(output_dir), steps_per_epoch

    def write(self, record: dict, step: int) -> None:
        if self.accelerator.is_main_process:
            with open(self.output_dir / "train_log.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
        numbers = {k: v for k, v in record.items() if isinstance(v, (int, float))}
        self.accelerator.log(numbers, step=step)

    @staticmethod
    def step_record(step: int, batch: TrainBatch, output: ContrastiveOutput, seconds: float) -> dict:
        """One optimizer step (``step`` counted from 1), kept until its window is written."""
        return {
            "step": step,
            "task": batch.task,
            "loss": float(output.loss),
            "accuracy": output.accuracy,
            "positive_score": output.positive_score,
            "hard_negative_margin": output.hard_negative_margin,
            "num_queries": output.num_queries,
            "num_masked": output.num_masked,
            "seconds": seconds,
        }

    def window_record(self, window: list[dict], step: int, **extra: float | None) -> dict:
        """The ``"train"`` record of the steps in ``window`` ending at ``step``; ``extra`` (learning
        rate, samples seen, bad rows, σ) is added as given, ``None`` values left out."""

        def mean(key: str) -> float:
            values = [r[key] for r in window if not math.isnan(r[key])]
            return sum(values) / len(values) if values else math.nan

        seconds = max(sum(r["seconds"] for r in window), 1e-9)
        return {
            "event": "train",
            "step": step,
            "epoch": (step - 1) // self.steps_per_epoch + 1,
            **{key: mean(key) for key in WINDOW_MEANS},
            "samples_per_second": sum(r["num_queries"] for r in window) / seconds,
            "steps_per_second": len(window) / seconds,
            **{k: v for k, v in extra.items() if v is not None},
            "steps": [(r["step"], r["task"], r["loss"]) for r in window],
            **{f"tasks/{name}": count for name, count in Counter(r["task"] for r in window).items()},
        }


__all__ = ["RunLog"]
