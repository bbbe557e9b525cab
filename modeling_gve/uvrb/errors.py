# Copyright 2026 The GVE package authors. Apache-2.0.
"""The errors of reading UVRB (standard library only: raised before torch is loaded)."""

from __future__ import annotations

import os


class UVRBDataError(ValueError):
    """A malformed or missing UVRB file; ``file`` and ``line`` (1-based, 0 for the whole file) say where."""

    def __init__(self, file: str | os.PathLike, line: int, reason: str):
        self.file, self.line, self.reason = str(file), line, reason
        super().__init__(f"{file}{f':{line}' if line else ''}: {reason}")


class HubUnavailableError(OSError):
    """The Hub could not be asked (offline, unreachable) and no cached copy answers."""


__all__ = ["HubUnavailableError", "UVRBDataError"]
