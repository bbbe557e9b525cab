# Copyright 2026 The GVE package authors. Apache-2.0.
"""The bad-row policy of a run, the same for training steps and probes (`BadRowPolicy`).

A row that cannot be trained on (`data.BadRow`: unreadable media, empty text, a broken modality
pattern, a media path outside the dataset root) is reported once to ``output_dir/bad_rows.jsonl``
and the log by the process that read it; the count over all processes then skips it
(``on_bad_row: skip``), stops the run (``stop``) or stops it past ``max_bad_rows``.
"""

from __future__ import annotations

from pathlib import Path

from accelerate.logging import get_logger

from .config import DataArguments
from .data import BadDataError, BadRow

logger = get_logger(__name__)


class BadRowPolicy:
    """Reports bad rows and applies ``on_bad_row`` / ``max_bad_rows`` to their count.

    Args:
        data_args: the run's data arguments (``on_bad_row``, ``max_bad_rows``).
        output_dir: where ``bad_rows.jsonl`` is written.
    """

    def __init__(self, data_args: DataArguments, output_dir: Path):
        self.data_args, self.output_dir = data_args, Path(output_dir)
        self._reported: set[tuple[str, str, str]] = set()

    def report(self, bad: BadRow) -> None:
        """A bad row is reported once (by the process that read it), with its task, id, field
        and reason; every later draw of it is skipped again and counted."""
        key = (bad.task, bad.row_id, bad.field)
        if key in self._reported:
            return
        self._reported.add(key)
        logger.warning("Bad training row, skipped: %s", bad, main_process_only=False)
        with open(self.output_dir / "bad_rows.jsonl", "a") as f:  # O_APPEND: whole lines from every process
            f.write(bad.to_json() + "\n")

    def apply(self, local_bad: list[BadRow], num_bad: int, total_before: int, where: str) -> int:
        """Count the ``num_bad`` rows skipped by all processes (``local_bad``: this process's,
        already reported) on top of ``total_before``; returns the new total.

        Raises:
            BadDataError: ``on_bad_row: stop`` and a bad row, or more than ``max_bad_rows`` skipped.
        """
        total = total_before + num_bad
        if num_bad and self.data_args.on_bad_row == "stop":
            detail = "; ".join(str(b) for b in local_bad) or "reported by another process (see bad_rows.jsonl)"
            raise BadDataError(f"bad training row(s) {where} (on_bad_row: stop): {detail}")
        if self.data_args.max_bad_rows is not None and total > self.data_args.max_bad_rows:
            raise BadDataError(
                f"{total} bad rows skipped, more than max_bad_rows={self.data_args.max_bad_rows}; see "
                f"{self.output_dir / 'bad_rows.jsonl'}"
            )
        return total


__all__ = ["BadRowPolicy"]
