# Copyright 2026 The GVE package authors. Apache-2.0.
"""Paths and lines in data files: the one rule for media paths, and JSONL read line by line.

Every data file that names media (UVRB JSONL, training-pair datasets, V-SynFlow ``metadata.jsonl``)
names them relative to a root folder (the task, dataset or input folder). The rule, the same
everywhere: **a media path must resolve, symlinks included, inside its root** (`MEDIA_PATH_RULE`).
``../../x.mp4``, an absolute path elsewhere and a link leading out of the root are refused, so a
data file cannot make a job read, embed or publish a file outside the folder it came with.

- `resolve_inside(root, name)`: the path of ``name`` under ``root``, or `MediaPathError`.
- `check_relative(name)`: the same rule without a local root (a Hub repo's file before download).
- `read_jsonl(path)`: ``(line number, record)`` pairs; invalid UTF-8, invalid JSON or a line that is
  not an object is a `DataFileError` naming ``file:line`` (`jsonl_lines`: the UTF-8 check alone).
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MEDIA_PATH_RULE = "media paths must resolve, symlinks included, inside the root folder of their data file"


class MediaPathError(ValueError):
    """A media path that breaks `MEDIA_PATH_RULE` (or is not a path at all).

    Attributes:
        name: the path as the data file wrote it (``repr`` of a non-string value).
        reason: what is wrong with it, ending with the rule.
    """

    def __init__(self, name: Any, reason: str):
        self.name = name if isinstance(name, str) else repr(name)
        self.reason = reason
        super().__init__(f"{self.name!r}: {reason}")


class DataFileError(ValueError):
    """A malformed data file; ``file`` and ``line`` (1-based, 0 for the whole file) say where."""

    def __init__(self, file: str | os.PathLike, line: int, reason: str):
        self.file, self.line, self.reason = str(file), line, reason
        super().__init__(f"{file}{f':{line}' if line else ''}: {reason}")


def _checked_name(name: Any) -> str:
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str):
        raise MediaPathError(name, f"a media path must be a string, got {type(name).__name__}")
    if not name.strip():
        raise MediaPathError(name, "a media path must not be empty")
    if "\x00" in name:
        raise MediaPathError(name, "a media path must not contain a NUL character")
    return name


def resolve_inside(root: str | os.PathLike, name: Any) -> Path:
    """``root / name`` if it resolves (symlinks followed, missing parts kept as written) inside
    ``root``; an absolute ``name`` is accepted only if it lies inside ``root`` too.

    Returns:
        ``root / name`` as written (not resolved), so messages show the user's path.

    Raises:
        MediaPathError: ``name`` is not a non-empty string, or it resolves outside ``root``.
    """
    name = _checked_name(name)
    root = Path(root)
    path = root / name
    real_root, real = root.resolve(), path.resolve()
    if real != real_root and not real.is_relative_to(real_root):
        raise MediaPathError(name, f"resolves to {real}, outside {real_root}: {MEDIA_PATH_RULE}")
    return path


def check_relative(name: Any) -> str:
    """``name`` normalised (``a/./b`` -> ``a/b``) if it is a relative path that stays inside its
    root without looking at any file (for files of a Hub repo, before they are downloaded).

    Raises:
        MediaPathError: ``name`` is empty, absolute, or climbs out with ``..``.
    """
    name = _checked_name(name)
    posix = name.replace("\\", "/")
    normal = posixpath.normpath(posix)
    if posixpath.isabs(posix) or Path(name).is_absolute() or normal == ".." or normal.startswith("../"):
        raise MediaPathError(name, f"is not a relative path inside the repository: {MEDIA_PATH_RULE}")
    return normal


def jsonl_lines(path: str | os.PathLike) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` for each line of a text file read as UTF-8.

    Raises:
        DataFileError: the file is missing, or a line is not valid UTF-8 (``file:line``).
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, 0, "file not found")
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataFileError(
                    path, number, f"invalid UTF-8 (byte {raw[err.start]:#04x} at column {err.start + 1})"
                ) from None


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """``(line number, record)`` for each non-blank line of a JSONL file.

    Raises:
        DataFileError: the file is missing, or a line is not valid UTF-8, not valid JSON or not a
            JSON object; the error names ``file:line``.
    """
    for number, line in jsonl_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataFileError(path, number, f"invalid JSON ({err.msg} at column {err.colno})") from None
        if not isinstance(record, dict):
            raise DataFileError(path, number, f"expected a JSON object, got {type(record).__name__}")
        yield number, record


__all__ = [
    "MEDIA_PATH_RULE",
    "DataFileError",
    "MediaPathError",
    "check_relative",
    "jsonl_lines",
    "read_jsonl",
    "resolve_inside",
]
