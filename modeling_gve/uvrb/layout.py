# Copyright 2026 The GVE package authors. Apache-2.0.
"""Where UVRB's task folders are: a local copy in any of the layouts the real download takes, or
the Hub repo, fetched for the chosen tasks only.

A task's folder is the folder named like the task (`UVRBTask.hub_folder`) that holds ``jsonl/``,
at any depth under the data folder: flat (``MSRVTT/jsonl``), the per-task downloads' nesting
(``MSRVTT/UVRB/MSRVTT/jsonl``), the Hub repo's own nesting, or the data folder itself. Where
there is none, a per-task archive (``MSRVTT.tar``, ``.tar.gz``, ``.zip``, split parts
``MSRVTT.tar.gz.00``...) anywhere under the data folder is extracted once beside itself
(`archives.extract`) and the folder looked for inside. None, or several, is an error listing
what was found.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..messages import first_line
from .archives import ARCHIVE_KINDS, ARCHIVE_NAME, EXTRACTED_SUFFIX, Archive, extract, group_archives
from .config import MediaSelection
from .errors import HubUnavailableError, UVRBDataError
from .tasks import HUB_REPO, UVRBTask

# Folders that hold media, never task folders: not walked into (a frame folder holds thousands of files).
MEDIA_FOLDERS = frozenset({"jsonl", "videos", "videos_frames", "images", "frames"})
MAX_DEPTH = 6
NO_FILE = "\x00"  # an allow pattern no file name matches: ask the Hub without fetching anything


@dataclass
class Listing:
    """What a data folder holds: folders with a ``jsonl/`` and archives."""

    task_folders: list[Path]
    archives: list[Archive]

    def describe(self, root: Path) -> str:
        names = [str(p.relative_to(root)) or "." for p in self.task_folders] + [a.name for a in self.archives]
        if not names:
            top = sorted(p.name for p in root.iterdir())[:10] if root.is_dir() else []
            return f"no folder holding jsonl/ and no archive (top level: {', '.join(top) or 'empty'})"
        return "found: " + ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")


def scan(root: Path, max_depth: int = MAX_DEPTH) -> Listing:
    """One walk of ``root`` (media folders, hidden folders and extraction folders are not entered)."""
    task_folders, files = [], []
    stack = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir():
                if entry.name == "jsonl":
                    task_folders.append(folder)
                skip = entry.name in MEDIA_FOLDERS or entry.name.startswith(".") or EXTRACTED_SUFFIX in entry.name
                if not skip and depth < max_depth:
                    stack.append((Path(entry.path), depth + 1))
            elif ARCHIVE_NAME.match(entry.name):
                files.append(Path(entry.path))
    return Listing(sorted(task_folders), group_archives(files))


def find_task_folders(root: str | os.PathLike, tasks: list[UVRBTask]) -> dict[str, Path]:
    """``{task name: its folder}`` under ``root`` (see the module docstring), extracting archives
    where a task has no folder.

    Raises:
        UVRBDataError: a task with no folder and no archive, or with several; the message lists
            what was found.
        archives.ArchiveError: an archive that cannot be extracted safely.
    """
    root = Path(root)
    listing = scan(root)
    return {task.name: _task_folder(root, task, listing) for task in tasks}


def _task_folder(root: Path, task: UVRBTask, listing: Listing) -> Path:
    name = task.hub_folder
    matches = [p for p in listing.task_folders if p.name == name]
    if len(matches) > 1:
        shown = ", ".join(str(p.relative_to(root)) or "." for p in matches)
        raise UVRBDataError(root, 0, f"several folders for {task.name} hold jsonl/: {shown}; keep one of them")
    if matches:
        return matches[0]
    archives = [a for a in listing.archives if a.base == name]
    if len(archives) > 1:
        shown = ", ".join(str(a.parts[0]) for a in archives)
        raise UVRBDataError(root, 0, f"several archives for {task.name}: {shown}; keep one of them")
    if not archives:
        kinds = "/".join(f".{k}" for k in ARCHIVE_KINDS)
        raise UVRBDataError(
            root,
            0,
            f"no folder for task {task.name}: looked at any depth for a folder named {name!r} holding jsonl/, and "
            f"for an archive {name}{{{kinds}}}[.00]; {listing.describe(root)}",
        )
    inside = scan(extract(archives[0]))
    matches = [p for p in inside.task_folders if p.name == name] or inside.task_folders
    if len(matches) != 1:
        found = inside.describe(archives[0].target)
        raise UVRBDataError(archives[0].parts[0], 0, f"expected one folder holding jsonl/ for {task.name}; {found}")
    return matches[0]


def hub_patterns(task: UVRBTask, media: MediaSelection | str = "all") -> tuple[list[str], list[str]]:
    """``(allow_patterns, ignore_patterns)`` fetching one task's files from the Hub repo: its folder
    at the top or nested under other folders, and its archives (``media`` cannot filter inside one).

    ``media``: ``"all"`` (the whole task folder), ``"videos"`` (without ``videos_frames/``),
    ``"frames"`` (JSONL, frame folders and images, no raw videos) or ``"none"`` (the JSONL files only).
    """
    folder = task.hub_folder
    places = [f"{folder}/", f"*/{folder}/"]  # fnmatch: "*" also matches "/", so any nesting
    names = [f"{folder}.{kind}{split}" for kind in ARCHIVE_KINDS for split in ("", ".*")]  # whole or split
    archives = [prefix + name for prefix in ("", "*/") for name in names]
    if media in ("all", "videos"):
        ignore = [f"{place}videos_frames/*" for place in places] if media == "videos" else []
        return [f"{place}*" for place in places] + archives, ignore
    if media == "frames":
        return [f"{place}{sub}/*" for place in places for sub in ("jsonl", "videos_frames", "images")] + archives, []
    if media == "none":
        return [f"{place}jsonl/*" for place in places], []
    raise ValueError(f"media must be one of 'all', 'videos', 'frames', 'none'; got {media!r}")


def resolve_data(
    tasks: list[UVRBTask],
    data: str | os.PathLike = HUB_REPO,
    *,
    revision: str | None = None,
    media: MediaSelection | str = "all",
    cache_dir: str | os.PathLike | None = None,
) -> tuple[Path, dict]:
    """The local folder holding ``tasks``, and a record of where it came from.

    ``data`` is a local folder, or a Hub dataset repo id (default ``Alibaba-NLP/UVRB``) fetched with
    `huggingface_hub.snapshot_download` restricted to the given tasks' files (`hub_patterns`) and
    pinned by ``revision``.

    Returns:
        ``(root, source)`` where ``source`` is ``{"data": ..., "revision": <commit or None>}``.

    Raises:
        FileNotFoundError: ``data`` is neither a folder nor a repo id.
        HubUnavailableError: offline or unreachable, and no cached copy: one line naming the repo
            and the fix (``--data DIR``).
    """
    local = Path(data).expanduser()
    if local.is_dir():
        return local, {"data": str(local.resolve()), "revision": None}
    _check_repo_id(data)
    allow, ignore = [], []
    for task in tasks:
        a, i = hub_patterns(task, media)
        allow += a
        ignore += i
    snapshot = fetch_snapshot(str(data), revision=revision, allow_patterns=allow, ignore_patterns=ignore or None,
                              cache_dir=cache_dir)  # fmt: skip
    # Hub snapshots live in .../snapshots/<commit>/: record the commit actually scored.
    return snapshot, {"data": str(data), "revision": snapshot.name}


def check_source(data: str | os.PathLike, revision: str | None = None) -> None:
    """Fail fast, before torch and the model are loaded: ``data`` is a folder, or a Hub repo id the
    Hub answers for (offline: one in the local cache). Fetches no file.

    Raises:
        FileNotFoundError: neither a folder nor a repo id. HubUnavailableError: see `fetch_snapshot`.
    """
    if not Path(data).expanduser().is_dir():
        _check_repo_id(data)
        fetch_snapshot(str(data), revision=revision, allow_patterns=[NO_FILE])


def _check_repo_id(data: str | os.PathLike) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][\w.-]*/[\w.-]+", str(data)):
        raise FileNotFoundError(f"data {str(data)!r}: no such folder, and not a Hub repo id like {HUB_REPO!r}")


def fetch_snapshot(repo_id: str, **kwargs) -> Path:
    """`snapshot_download` of a dataset repo; offline (``HF_HUB_OFFLINE``) it asks only the local
    cache, and a Hub that cannot be asked is one line naming the repo and the fix."""
    from huggingface_hub import is_offline_mode, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    offline = is_offline_mode()
    try:
        return Path(snapshot_download(repo_id, repo_type="dataset", local_files_only=offline, **kwargs))
    except (LocalEntryNotFoundError, OfflineModeIsEnabled) as err:
        why = "HF_HUB_OFFLINE is set and it is not in the cache" if offline else f"no answer: {_cause(err)}"
        raise HubUnavailableError(
            f"could not fetch {repo_id} from the Hugging Face Hub ({why}); pass --data DIR with a local copy "
            "(docs/uvrb.md: getting the data)"
        ) from None


def _cause(err: BaseException) -> str:
    """The first line of huggingface_hub's message (``Got: ConnectError: ...``), without ``Got:``."""
    return first_line(err).removeprefix("Got: ")[:200] or type(err).__name__


__all__ = [
    "HubUnavailableError",
    "check_source",
    "Listing",
    "fetch_snapshot",
    "find_task_folders",
    "hub_patterns",
    "resolve_data",
    "scan",
]
