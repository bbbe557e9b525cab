# Copyright 2026 The GVE package authors. Apache-2.0.
"""Per-task archives (``MSRVTT.tar``, ``.tar.gz``, ``.tgz``, ``.zip``, and split parts such as
``MSRVTT.tar.gz.00``, ``.01``...), extracted once into a folder beside them.

- Safe: every member is checked before it is written; a member that would land outside the
  target (an absolute path, ``..``, a link pointing outside, a device file) stops the extraction
  with an error naming the archive and the member (tar: Python's ``data`` filter; zip: the same
  rules). Nothing of a refused archive is ever read: the folder is only used once complete.
- Resumable: members are written under ``<name>.uvrb-extracted.partial/`` (each file through a
  temporary name, then renamed); an interrupted extraction resumes there, skipping the files
  already written whole.
- Verified: at the end every file of the archive's listing is on disk with its listed size;
  then the folder is renamed ``<name>.uvrb-extracted/`` with a record of the archive (part
  names and sizes). A changed archive is extracted again; an unchanged one never.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ARCHIVE_NAME = re.compile(r"^(?P<base>.+?)\.(?P<kind>tar|tar\.gz|tgz|tar\.bz2|tar\.xz|zip)(?:\.(?P<part>\d+))?$")
ARCHIVE_KINDS = ("tar", "tar.gz", "tgz", "tar.bz2", "tar.xz", "zip")
EXTRACTED_SUFFIX = ".uvrb-extracted"
RECORD_FILE = ".uvrb-archive.json"
COPY_BLOCK = 1 << 20


class ArchiveError(ValueError):
    """An archive that cannot be used: unreadable, unsafe, or not matching its listing."""


@dataclass(frozen=True)
class Archive:
    """One archive: its parts in order (one part for an archive that is not split)."""

    base: str
    kind: str
    parts: tuple[Path, ...]

    @property
    def name(self) -> str:
        return f"{self.base}.{self.kind}"

    @property
    def target(self) -> Path:
        """The folder it is extracted into, beside it."""
        return self.parts[0].parent / f"{self.name}{EXTRACTED_SUFFIX}"

    def identity(self) -> list[list]:
        """What says the archive is unchanged: part names and sizes."""
        return [[p.name, p.stat().st_size] for p in self.parts]


def group_archives(files: Iterable[Path]) -> list[Archive]:
    """The archives among ``files``, split parts gathered in order (``.00`` or ``.000`` ... first)."""
    found: dict[tuple[Path, str, str], list[tuple[int, Path]]] = {}
    for file in files:
        match = ARCHIVE_NAME.match(file.name)
        if match:
            part = int(match["part"]) if match["part"] is not None else -1
            found.setdefault((file.parent, match["base"], match["kind"]), []).append((part, file))
    archives = []
    for (_, base, kind), parts in sorted(found.items()):
        whole = [file for part, file in parts if part < 0]
        split = [file for _, file in sorted(p for p in parts if p[0] >= 0)]
        archives.append(Archive(base, kind, tuple(whole[:1] or split)))
    return archives


class PartsReader(io.RawIOBase):
    """The parts of a split archive read as one seekable file."""

    def __init__(self, parts: tuple[Path, ...]):
        self.parts = parts
        self.sizes = [p.stat().st_size for p in parts]
        self.total = sum(self.sizes)
        self.position = 0
        self._open: tuple[int, io.BufferedReader] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.total}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer) -> int:  # type: ignore[override]
        start, index = 0, 0
        while index < len(self.parts) and start + self.sizes[index] <= self.position:
            start += self.sizes[index]
            index += 1
        if index == len(self.parts):
            return 0
        if self._open is None or self._open[0] != index:
            if self._open is not None:
                self._open[1].close()
            self._open = (index, open(self.parts[index], "rb"))
        handle = self._open[1]
        handle.seek(self.position - start)
        read = handle.readinto(memoryview(buffer)[: min(len(buffer), start + self.sizes[index] - self.position)])
        self.position += read
        return read

    def close(self) -> None:
        if self._open is not None:
            self._open[1].close()
            self._open = None
        super().close()


def extract(archive: Archive) -> Path:
    """Extract ``archive`` into `Archive.target` once (see the module docstring); returns it.

    Raises:
        ArchiveError: a member outside the target, an unreadable or truncated archive, or files
            that do not match the listing.
    """
    target = archive.target
    record = target / RECORD_FILE
    if record.is_file() and json.loads(record.read_text()).get("parts") == archive.identity():
        return target
    partial = target.with_name(target.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    reader = io.BufferedReader(PartsReader(archive.parts), buffer_size=COPY_BLOCK)
    try:
        with reader:
            extract_members = _extract_zip if archive.kind == "zip" else _extract_tar
            listing = extract_members(reader, partial, archive)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as err:
        raise ArchiveError(f"{archive.parts[0]}: cannot be extracted ({type(err).__name__}: {err})") from None
    _verify(partial, listing, archive)
    (partial / RECORD_FILE).write_text(json.dumps({"parts": archive.identity(), "files": len(listing)}))
    if target.exists():
        shutil.rmtree(target)  # an older version of the archive
    os.replace(partial, target)
    return target


def _refuse(archive: Archive, member: str, reason: str) -> ArchiveError:
    return ArchiveError(f"{archive.parts[0]}: member {member!r} refused: {reason}; nothing of this archive is used")


def _extract_tar(reader: io.BufferedReader, partial: Path, archive: Archive) -> dict[str, int]:
    """Members checked by Python's ``data`` filter, written (files through a temporary name); the
    listing ``{relative path: size}`` of the regular files."""
    listing: dict[str, int] = {}
    with tarfile.open(fileobj=reader, mode="r:*") as tar:
        for member in tar:
            if _leaves(member.name):  # the data filter would strip a leading "/": refused here instead
                raise _refuse(archive, member.name, "its path is absolute or leaves the target folder")
            try:
                member = tarfile.data_filter(member, str(partial))
            except tarfile.FilterError as err:
                raise _refuse(archive, member.name, str(err)) from None
            destination = partial / member.name
            if member.isfile():
                listing[member.name] = member.size
                if not (destination.is_file() and destination.stat().st_size == member.size):
                    _write(tar.extractfile(member), destination)
            elif member.isdir():
                destination.mkdir(parents=True, exist_ok=True)
            elif not destination.is_symlink() and not destination.exists():  # a link inside the target
                tar.extract(member, partial, filter="data", set_attrs=False)
    return listing


def _extract_zip(reader: io.BufferedReader, partial: Path, archive: Archive) -> dict[str, int]:
    """Every member checked first (the listing is at the end of a zip), then written; a CRC error
    while reading a member is an error."""
    listing: dict[str, int] = {}
    with zipfile.ZipFile(reader) as zip_file:
        members = zip_file.infolist()
        for info in members:
            _check_zip_member(zip_file, info, archive)
        for info in members:
            destination = partial / info.filename
            if info.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            if stat.S_IFMT(info.external_attr >> 16) == stat.S_IFLNK:
                if not destination.is_symlink():
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    os.symlink(zip_file.read(info).decode(), destination)
                continue
            listing[info.filename] = info.file_size
            if not (destination.is_file() and destination.stat().st_size == info.file_size):
                with zip_file.open(info) as source:
                    _write(source, destination)
    return listing


def _leaves(name: str) -> bool:
    """Whether a member name is absolute or climbs out with ``..``."""
    return name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) is not None or ".." in Path(name).parts


def _check_zip_member(zip_file: zipfile.ZipFile, info: zipfile.ZipInfo, archive: Archive) -> None:
    """The rules of tar's ``data`` filter, for a zip member."""
    name = info.filename
    if _leaves(name):
        raise _refuse(archive, name, "its path is absolute or leaves the target folder")
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0: no Unix type recorded, a plain file or folder
    if kind == stat.S_IFLNK:
        link = zip_file.read(info).decode()
        resolved = os.path.normpath(os.path.join(os.path.dirname(name), link))
        if os.path.isabs(link) or resolved == ".." or resolved.startswith("../"):
            raise _refuse(archive, name, f"a link to {link!r}, outside the target folder")
    elif kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise _refuse(archive, name, "a special file")


def _write(source: io.IOBase | None, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(destination.name + ".uvrb-tmp")
    with open(temporary, "wb") as out:
        shutil.copyfileobj(source, out, COPY_BLOCK)
    os.replace(temporary, destination)


def _verify(partial: Path, listing: dict[str, int], archive: Archive) -> None:
    """Every listed file on disk with its listed size."""
    wrong = [
        name
        for name, size in listing.items()
        if not (partial / name).is_file() or (partial / name).stat().st_size != size
    ]
    if wrong:
        shown = ", ".join(wrong[:5]) + (f" and {len(wrong) - 5} more" if len(wrong) > 5 else "")
        raise ArchiveError(f"{archive.parts[0]}: extracted files do not match the archive's listing: {shown}")
    if not listing:
        raise ArchiveError(f"{archive.parts[0]}: the archive holds no files")


__all__ = ["ARCHIVE_KINDS", "ARCHIVE_NAME", "Archive", "ArchiveError", "PartsReader", "extract", "group_archives"]
