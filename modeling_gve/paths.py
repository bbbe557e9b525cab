# Copyright 2026 The GVE package authors. Apache-2.0.
"""The one rule for file names found in data files: a media path must resolve, symlinks
included, inside the root of the data it belongs to (a UVRB task folder, a training-pair
dataset, a V-SynFlow input folder, a folder being published). ``../../x``, an absolute path
elsewhere, or a link whose target lies outside are refused with the place that named them.
"""

from __future__ import annotations

import os
from pathlib import Path


class PathOutsideRootError(ValueError):
    """A path named by a data file (or found in a folder) that resolves outside its root."""


def is_inside(root: str | os.PathLike, path: str | os.PathLike) -> bool:
    """Whether ``path``, with every symlink resolved, lies inside ``root`` (resolved too)."""
    return Path(path).resolve().is_relative_to(Path(root).resolve())


def resolve_inside(
    root: str | os.PathLike,
    relpath: str | os.PathLike,
    source: str | None = None,
    *,
    base: str | os.PathLike | None = None,
) -> Path:
    """``base / relpath`` (``base`` defaults to ``root``) with every symlink resolved, when that
    lies inside ``root``. The file need not exist: whether it does is the caller's question.

    Args:
        root: the folder the path must stay in.
        relpath: the path as the data file gives it (relative to ``base``, or absolute).
        source: where the path was read, for the message (``"metadata.jsonl:12"``).
        base: the folder a relative ``relpath`` is relative to (inside ``root``).

    Raises:
        PathOutsideRootError: naming ``source``, the path, where it leads and the rule.
    """
    root = Path(root)
    target = (Path(base) if base is not None else root).joinpath(relpath).resolve()
    if not target.is_relative_to(root.resolve()):
        where = f"{source}: " if source else ""
        raise PathOutsideRootError(
            f"{where}{str(relpath)!r} resolves to {target}, outside {root}: media paths must resolve "
            f"(symlinks included) inside {root}"
        )
    return target


__all__ = ["PathOutsideRootError", "is_inside", "resolve_inside"]
