# Copyright 2026 The GVE package authors. Apache-2.0.
"""Paths and lines in data files: the one rule for media paths, and JSONL read line by line.

Every data file that names media (UVRB JSONL, training-pair datasets, V-SynFlow ``metadata.jsonl``,
a folder being published) names them relative to a root folder (the task, dataset, input or
published folder). The rule, the same everywhere: **a media path must resolve, symlinks included,
inside its root** (`MEDIA_PATH_RULE`). ``../../x.mp4``, an absolute path elsewhere and a link
leading out of the root are refused with the place that named them, so a data file cannot make a
job read, embed or publish a file outside the folder it came with.

- `resolve_inside(root, name, source)`: the resolved path of ``name`` under ``root``, or `MediaPathError`.
- `is_inside(root, path)`: the same test as a boolean.
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

MEDIA_PATH_RULE = "media paths must resolve (symlinks included) inside the root folder of their data file"


class PathOutsideRootError(ValueError):
    """A path named by a data file (or found in a folder) that resolves outside its root."""


class MediaPathError(PathOutsideRootError):
    """A media path that breaks `MEDIA_PATH_RULE` (or is not a path at all).

    Attributes:
        name: the path as the data file wrote it (``repr`` of a non-string value).
        reason: what is wrong with it, ending with the rule.
        source: where the path was read (``"metadata.jsonl:12"``), or ``None``.
    """

    def __init__(self, name: Any, reason: str, source: str | None = None):
        self.name = name if isinstance(name, str) else repr(name)
        self.reason, self.source = reason, source
        super().__init__(f"{f'{source}: ' if source else ''}{self.name!r} {reason}")


class DataFileError(ValueError):
    """A malformed data file; ``file`` and ``line`` (1-based, 0 for the whole file) say where."""

    def __init__(self, file: str | os.PathLike, line: int, reason: str):
        self.file, self.line, self.reason = str(file), line, reason
        super().__init__(f"{file}{f':{line}' if line else ''}: {reason}")


def _checked_name(name: Any, source: str | None = None) -> str:
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str):
        raise MediaPathError(name, f"is {type(name).__name__}, not a string: a media path must be a string", source)
    if not name.strip():
        raise MediaPathError(name, "is empty: a media path must not be empty", source)
    if "\x00" in name:
        raise MediaPathError(name, "contains a NUL character: a media path must not", source)
    return name


def is_inside(root: str | os.PathLike, path: str | os.PathLike) -> bool:
    """Whether ``path``, with every symlink resolved, lies inside ``root`` (resolved too)."""
    return Path(path).resolve().is_relative_to(Path(root).resolve())


def resolve_inside(
    root: str | os.PathLike,
    name: Any,
    source: str | None = None,
    *,
    base: str | os.PathLike | None = None,
) -> Path:
    """``base / name`` (``base`` defaults to ``root``) with every symlink resolved, when that lies
    inside ``root``; an absolute ``name`` is accepted only if it lies inside ``root`` too. The file
    need not exist: whether it does is the caller's question.

    Args:
        root: the folder the path must stay in.
        name: the path as the data file gives it (relative to ``base``, or absolute).
        source: where the path was read, for the message (``"metadata.jsonl:12"``).
        base: the folder a relative ``name`` is relative to (inside ``root``).

    Raises:
        MediaPathError: ``name`` is not a non-empty string, or it resolves outside ``root``; the
            message names ``source``, the path, where it leads and the rule.
    """
    name = _checked_name(name, source)
    root = Path(root)
    target = (Path(base) if base is not None else root).joinpath(name).resolve()
    if not target.is_relative_to(root.resolve()):
        raise MediaPathError(name, f"resolves to {target}, outside {root}: {MEDIA_PATH_RULE}", source)
    return target


def media_root(folder: str | os.PathLike) -> Path:
    """What the media of a data file in ``folder`` may resolve into: ``folder`` itself, or, when
    ``folder`` lies in a snapshot of the Hugging Face cache (whose files are links to
    ``../../blobs/``), that repo's cache folder."""
    folder = Path(folder).absolute()
    for candidate in (folder, *folder.parents):
        if candidate.parent.name == "snapshots" and (candidate.parent.parent / "blobs").is_dir():
            return candidate.parent.parent
    return folder


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
    "media_root",
    "DataFileError",
    "MediaPathError",
    "PathOutsideRootError",
    "check_relative",
    "is_inside",
    "jsonl_lines",
    "read_jsonl",
    "resolve_inside",
]
