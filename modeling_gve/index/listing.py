# Copyright 2026 The GVE package authors. Apache-2.0.
"""What an index is built from: the videos under a folder, or the paths and URLs listed in a file,
and what cannot be read, each with the reason.

A folder is walked without following links to folders; every entry named like a video
(`VIDEO_EXTENSIONS`) is checked before anything is decoded, and those that are not readable
regular files are skipped with a reason that says what they are: a dangling or looping symbolic
link, a FIFO or other special file, a folder named ``x.mp4``, a file without read permission or
an empty one. A subfolder that cannot be listed is skipped too, by its path. The rest is indexed.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

VIDEO_EXTENSIONS = {".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts"}
INDEX_DIRNAME = ".gve_index"  # the index beside the videos
LEGACY_CACHE_DIRNAME = ".gve_cache"  # `gve search`'s cache before the index: moved into it
URL_SCHEMES = ("http://", "https://", "s3://", "gs://", "hf://")


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


def list_source(source: str | os.PathLike) -> Listing:
    """A folder (`list_videos`) or a text file of paths and URLs (`read_path_list`).

    Raises:
        FileNotFoundError: ``source`` does not exist, or holds no video.
    """
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
    "list_source",
    "list_videos",
    "read_path_list",
    "unreadable_reason",
]
