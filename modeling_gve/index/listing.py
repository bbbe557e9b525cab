# Copyright 2026 The GVE package authors. Apache-2.0.
"""What an index is built from: the videos under a folder, the paths and URLs listed in a file, or
the `Video` column of a `datasets` dataset (a Hub repo or a local one), and what cannot be read,
each with the reason.

A folder is walked without following links to folders; every entry named like a video
(`VIDEO_EXTENSIONS`) is checked before anything is decoded, and those that are not readable
regular files are skipped with a reason that says what they are: a dangling or looping symbolic
link, a FIFO or other special file, a folder named ``x.mp4``, a file without read permission or
an empty one. A subfolder that cannot be listed is skipped too, by its path. The rest is indexed.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..messages import first_line

VIDEO_EXTENSIONS = {".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts"}
INDEX_DIRNAME = ".gve_index"  # the index beside the videos
LEGACY_CACHE_DIRNAME = ".gve_cache"  # `gve search`'s cache before the index: moved into it
URL_SCHEMES = ("http://", "https://", "s3://", "gs://", "hf://")
HUB_DATASET_PREFIX = "hf://datasets/"  # a Hub dataset as SOURCE: hf://datasets/ORG/NAME[@REVISION]
MEDIA_DIRNAME = "media"  # in the index folder: the videos a dataset holds as bytes, written out once


@dataclass
class Skipped:
    """A video (or folder) that was not indexed, by its path at the time, and why."""

    path: str
    reason: str


@dataclass
class Listing:
    """The videos of a source (in order) and the entries skipped while listing it.

    Attributes:
        root: the folder the paths are relative to in the index (the folder, or the list's folder).
        videos: paths (absolute) or URLs.
        skipped: what could not be read, with the reason.
    """

    root: Path
    videos: list[str]
    skipped: list[Skipped] = field(default_factory=list)


def is_url(name: str) -> bool:
    return name.startswith(URL_SCHEMES)


def list_source(
    source: str | os.PathLike,
    *,
    column: str | None = None,
    split: str = "train",
    index_dir: str | os.PathLike | None = None,
) -> Listing:
    """A folder (`list_videos`), a text file of paths and URLs (`read_path_list`), or with
    ``column`` (or a ``hf://datasets/`` source) a dataset's video column (`list_dataset`).

    Raises:
        FileNotFoundError: ``source`` does not exist, or holds no video.
    """
    if column is not None or str(source).startswith(HUB_DATASET_PREFIX):
        return list_dataset(source, column=column, split=split, index_dir=index_dir)
    path = Path(source).expanduser()
    if path.is_dir():
        return list_videos(path)
    if path.is_file():
        return read_path_list(path)
    raise FileNotFoundError(f"{source}: not a folder of videos or a file listing them")


def list_videos(folder: str | os.PathLike) -> Listing:
    """The videos under ``folder`` (recursive, sorted), and what was skipped (see the module
    docstring). The index folder and the old cache folder are not looked into.

    Raises:
        FileNotFoundError: ``folder`` is not a folder, or holds nothing named like a video.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder")
    root = root.resolve()
    videos: list[str] = []
    skipped: list[Skipped] = []

    def unlistable(err: OSError) -> None:
        skipped.append(Skipped(str(err.filename or root), f"folder cannot be listed ({_os_reason(err)})"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=unlistable):
        dirnames[:] = sorted(d for d in dirnames if d not in (INDEX_DIRNAME, LEGACY_CACHE_DIRNAME))
        for name in sorted(dirnames + filenames):
            if Path(name).suffix.lower() not in VIDEO_EXTENSIONS:
                continue
            path = os.path.join(dirpath, name)
            reason = unreadable_reason(path)
            if reason is None:
                videos.append(os.path.abspath(path))
            else:  # a folder named x.mp4 is reported here, and still looked into
                skipped.append(Skipped(path, reason))
    if not videos and not skipped:
        raise FileNotFoundError(f"{folder}: no video files ({', '.join(sorted(VIDEO_EXTENSIONS))})")
    skipped.sort(key=lambda s: s.path)
    return Listing(root=root, videos=videos, skipped=skipped)


def unreadable_reason(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be read as a video file, or ``None`` if it is a readable, non-empty
    regular file (after links)."""
    try:
        info = os.stat(path)
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "symbolic link loop (the link points back at itself)"
        if os.path.islink(path) and err.errno == errno.ENOENT:
            return f"dangling symbolic link (its target {os.readlink(path)} does not exist)"
        return f"cannot be read ({_os_reason(err)})"
    kind = _special_kind(info.st_mode)
    if kind is not None:
        link = " (through a symbolic link)" if os.path.islink(path) else ""
        return f"is {kind}{link}, not a video file"
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied)"
    if info.st_size == 0:
        return "file is empty (0 bytes)"
    return None


def _special_kind(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _os_reason(err: OSError) -> str:
    return err.strerror.lower() if err.strerror else type(err).__name__


def list_dataset(
    source: str | os.PathLike,
    *,
    column: str | None = None,
    split: str = "train",
    index_dir: str | os.PathLike | None = None,
) -> Listing:
    """The videos of a dataset's `datasets.Video` column, one per row, in row order.

    ``source`` is a Hub dataset, ``hf://datasets/ORG/NAME`` (``@REVISION`` optional), or a local
    dataset folder; both are read with `datasets.load_dataset` (``split``). ``column`` defaults
    to the dataset's only `Video` column. A row holding a file gives that file. A row holding the
    video's bytes is written once into the index's ``media/`` folder, as
    ``<split>-<row>-<file name>``, so that every row is a file: keyed by content like any other,
    and a hit can be opened. A row without a video is skipped with its reason.

    The listing's root, beside which the index lives by default, is the local dataset folder, or
    ``./ORG--NAME`` for a Hub dataset.

    Raises:
        FileNotFoundError: the dataset cannot be loaded, or has no such video column.
    """
    from datasets import Video, load_dataset  # only for a dataset source

    name = str(source)
    revision = None
    if name.startswith(HUB_DATASET_PREFIX):
        repo, _, revision = name.removeprefix(HUB_DATASET_PREFIX).partition("@")
        root, path = Path.cwd() / repo.replace("/", "--"), repo
    else:
        root = Path(source).expanduser().resolve()
        path = str(root)
    try:
        dataset = load_dataset(path, split=split, revision=revision or None)
    except (OSError, ValueError) as err:  # not found, offline, no such split...
        why = first_line(err) or type(err).__name__
        raise FileNotFoundError(f"{name}: cannot be loaded as a dataset ({why})") from None
    column = column or _video_column(dataset.features, name)
    if column not in dataset.column_names:
        raise FileNotFoundError(f"{name}: no column {column!r} (columns: {', '.join(dataset.column_names)})")
    rows = dataset.select_columns([column]).cast_column(column, Video(decode=False))  # files and bytes, not frames
    media = (Path(index_dir).expanduser() if index_dir else root / INDEX_DIRNAME) / MEDIA_DIRNAME
    videos, skipped = [], []
    for row, record in enumerate(rows):  # one row at a time: the bytes of a large dataset are never all held
        value = record[column] or {}
        where = f"{name} ({split} row {row})"
        if value.get("bytes"):
            target = media / f"{split}-{row:06d}-{_file_name(value.get('path'))}"
            videos.append(str(_write_once(target, value["bytes"])))
        elif value.get("path"):
            reason = unreadable_reason(value["path"])
            if reason is None:
                videos.append(os.path.abspath(value["path"]))
            else:
                skipped.append(Skipped(f"{where} {value['path']}", reason))
        else:
            skipped.append(Skipped(where, f"the {column!r} column holds no video in this row"))
    if not videos and not skipped:
        raise FileNotFoundError(f"{name}: the {split!r} split has no rows")
    return Listing(root=root, videos=videos, skipped=skipped)


def _video_column(features: dict, name: str) -> str:
    from datasets import Video

    columns = [column for column, feature in features.items() if isinstance(feature, Video)]
    if len(columns) != 1:
        found = f"{len(columns)} ({', '.join(columns)})" if columns else "none"
        raise FileNotFoundError(f"{name}: name the video column with --column (Video columns: {found})")
    return columns[0]


def _file_name(path: str | None) -> str:
    """A safe file name for a video held as bytes: its own base name, else ``video.mp4``."""
    base = re.sub(r"[^\w.-]", "_", Path(path).name if path else "")[-100:].lstrip(".")
    return base if Path(base).suffix.lower() in VIDEO_EXTENSIONS else f"{base or 'video'}.mp4"


def _write_once(target: Path, data: bytes) -> Path:
    """``data`` at ``target``, written (atomically) only if it is not there already: a file left
    as it was keeps its content key without being hashed again."""
    if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, target)
    return target


def read_path_list(list_file: str | os.PathLike) -> Listing:
    """Videos named one per line in ``list_file``: paths (relative to the list's folder, or
    absolute) or URLs; blank lines and ``#`` comments are ignored. Paths are checked as in a
    folder (`unreadable_reason`); URLs are read by FFmpeg when indexed.

    Raises:
        FileNotFoundError: the list names no video.
    """
    list_file = Path(list_file)
    root = list_file.resolve().parent
    videos, skipped, seen = [], [], set()
    try:
        lines = list_file.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise FileNotFoundError(f"{list_file}: cannot be read as a list of videos ({err})") from None
    for number, line in enumerate(lines, start=1):
        entry = line.strip()
        if not entry or entry.startswith("#") or entry in seen:
            continue
        seen.add(entry)
        if is_url(entry):
            videos.append(entry)
            continue
        path = Path(entry).expanduser()
        path = path if path.is_absolute() else root / path
        reason = unreadable_reason(path)
        if reason is None:
            videos.append(os.path.abspath(path))
        else:
            skipped.append(Skipped(str(path), f"{reason} ({list_file.name}:{number})"))
    if not videos and not skipped:
        raise FileNotFoundError(f"{list_file}: lists no video (one path or URL per line)")
    return Listing(root=root, videos=videos, skipped=skipped)


__all__ = [
    "INDEX_DIRNAME",
    "VIDEO_EXTENSIONS",
    "Listing",
    "Skipped",
    "is_url",
    "list_dataset",
    "list_source",
    "list_videos",
    "read_path_list",
    "unreadable_reason",
]
