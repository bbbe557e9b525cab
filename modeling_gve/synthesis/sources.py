# Copyright 2026 The GVE package authors. Apache-2.0.
"""The input of V-SynFlow: a folder (or Hub dataset repo) of captioned videos.

Layout (the `datasets` "videofolder" convention)::

    my_videos/
      metadata.jsonl          # or metadata.csv / metadata.parquet / captions.jsonl / captions.csv
      clips/0001.mp4
      clips/0002.mp4 ...

with one row per video::

    {"file_name": "clips/0001.mp4", "caption": "a man surfs a large wave", "id": "0001"}

``file_name`` is relative to the metadata file (or absolute) and must resolve, symlinks
included, inside the input folder (`modeling_gve.paths.resolve_inside`): a row naming
``../../x`` or a link to a file elsewhere is a ``file:line`` error, so nothing outside the
folder is ever linked into the dataset or published. ``caption`` is the (possibly noisy)
source caption, ``id`` is optional (default: the file path without its extension). Column
names are settings (``video_column``, ``caption_column``, ``id_column``). A Hub dataset repo in
the same layout is downloaded with ``snapshot_download``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from ..paths import jsonl_lines, media_root, read_jsonl, resolve_inside
from .config import DataArguments

METADATA_CANDIDATES = ("metadata.jsonl", "metadata.csv", "metadata.parquet", "captions.jsonl", "captions.csv")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class SourceVideo:
    """One input pair.

    Attributes:
        id (`str`): unique, file-name safe id (used in media paths and row ids).
        video (`str`): absolute path of the video file.
        caption (`str`): the source caption ("" when missing).
    """

    id: str
    video: str
    caption: str


def resolve_input_folder(input: str, revision: str | None = None) -> Path:
    """A local folder as is; otherwise ``input`` is a Hub dataset repo id, downloaded (or
    read from the cache when offline) with ``huggingface_hub.snapshot_download``."""
    folder = Path(input).expanduser()
    if folder.is_dir():
        return folder
    if folder.exists():
        raise NotADirectoryError(f"input {input}: expected a folder of videos with a metadata file, got a file")
    if input.count("/") != 1 or input.startswith((".", "/")):
        raise FileNotFoundError(f"input {input}: no such folder, and not a Hub dataset repo id (owner/name)")
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(input, repo_type="dataset", revision=revision))


def find_metadata(folder: Path, metadata_file: str | None) -> Path:
    if metadata_file:
        path = folder / metadata_file
        if not path.is_file():
            raise FileNotFoundError(f"metadata_file {metadata_file}: not found in {folder}")
        return path
    for name in METADATA_CANDIDATES:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"{folder}: no captions file; expected one of {', '.join(METADATA_CANDIDATES)} (or set metadata_file)"
    )


def numbered_rows(path: Path) -> list[tuple[int, dict]]:
    """``(line number, row)`` of a JSONL or CSV file (the row's first line), or ``(row number,
    row)`` of a parquet file. A line that is not valid UTF-8 or JSON is a ``file:line`` error."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return list(enumerate(pq.read_table(path).to_pylist(), start=1))
    if suffix not in (".jsonl", ".csv"):
        raise ValueError(f"{path}: unsupported metadata format {suffix!r}; use .jsonl, .csv or .parquet")
    if suffix == ".csv":
        reader = csv.DictReader(line for _, line in jsonl_lines(path))
        return [(reader.line_num, row) for row in reader]  # line_num: the row's last line
    return list(read_jsonl(path))


def read_rows(path: Path) -> list[dict]:
    """Rows of a JSONL, CSV or parquet file, as dicts."""
    return [row for _, row in numbered_rows(path)]


def safe_id(value: str) -> str:
    """A file-name safe id: runs of characters outside ``[A-Za-z0-9._-]`` become ``_``."""
    cleaned = _UNSAFE.sub("_", value).strip("._")
    return cleaned or "_"


def load_sources(args: DataArguments) -> list[SourceVideo]:
    """Every input video with its caption, in file order (``max_videos`` first ones).

    Raises:
        FileNotFoundError / ValueError: missing folder or metadata, missing columns (the
            message lists the columns found), duplicate ids.
    """
    folder = resolve_input_folder(args.input, args.input_revision)
    metadata = find_metadata(folder, args.metadata_file)
    rows = numbered_rows(metadata)
    if rows:
        missing = [c for c in (args.video_column, args.caption_column) if c not in rows[0][1]]
        if missing:
            raise ValueError(
                f"{metadata}: column(s) {missing} not found; columns are {sorted(rows[0][1])}. "
                "Set video_column / caption_column."
            )
    if args.max_videos is not None:
        rows = rows[: args.max_videos]
    root = media_root(folder)
    sources, seen = [], {}
    for number, row in rows:
        file_name = row.get(args.video_column)
        if not file_name or not isinstance(file_name, str):
            raise ValueError(f"{metadata}:{number}: {args.video_column!r} must be a file name, got {file_name!r}")
        path = resolve_inside(root, file_name, f"{metadata}:{number}", base=metadata.parent)
        raw_id = row.get(args.id_column) if args.id_column else None
        vid = safe_id(str(raw_id) if raw_id not in (None, "") else str(Path(file_name).with_suffix("")))
        if vid in seen:
            raise ValueError(f"{metadata}:{number}: the same id {vid!r} as line {seen[vid]}; ids must be unique")
        seen[vid] = number
        caption = row.get(args.caption_column)
        sources.append(SourceVideo(id=vid, video=str(path), caption="" if caption is None else str(caption)))
    return sources


__all__ = [
    "METADATA_CANDIDATES",
    "SourceVideo",
    "find_metadata",
    "load_sources",
    "numbered_rows",
    "read_rows",
    "resolve_input_folder",
    "safe_id",
]
