# Copyright 2026 The GVE package authors. Apache-2.0.
"""How another library's error becomes part of one of ours: its first line.

Standard library only: the command line and the torch-free modules word their errors with it.
"""

from __future__ import annotations


def first_line(err: BaseException) -> str:
    """The first line of an error's message (library messages can run to many lines); empty if
    it has none."""
    return (str(err).strip().splitlines() or [""])[0]


__all__ = ["first_line"]
