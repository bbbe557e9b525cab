"""Per-task archives: members that would land outside the target are refused (tar-slip,
zip-slip, links pointing out), an interrupted extraction resumes, what is on disk is checked
against the archive's listing, and a changed archive is extracted again."""

import io
import os
import tarfile
import zipfile

import pytest

from modeling_gve.uvrb import archives
from modeling_gve.uvrb.archives import ArchiveError, extract, group_archives


def _tar(path, members: dict, links: dict | None = None):
    """A .tar.gz of ``{name: bytes}`` plus symlinks ``{name: target}``."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return path


def _zip(path, members: dict, links: dict | None = None):
    with zipfile.ZipFile(path, "w") as zip_file:
        for name, data in members.items():
            zip_file.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)  # a symlink
            zip_file.writestr(info, target)
    return path


GOOD = {"MSRVTT/jsonl/corpus.jsonl": b'{"id": "v0"}\n', "MSRVTT/videos/v0.mp4": b"x" * 5000}


def _only(folder):
    (archive,) = group_archives(folder.iterdir())
    return archive


@pytest.mark.parametrize(
    "make, members, links, reason",
    [
        (_tar, {"../evil.txt": b"x"}, None, "absolute or leaves"),
        (_tar, {"/tmp/evil.txt": b"x"}, None, "absolute or leaves"),
        (_tar, GOOD, {"MSRVTT/link": "../../../etc/passwd"}, "outside"),
        (_zip, {"../evil.txt": b"x"}, None, "absolute or leaves"),
        (_zip, {"/evil.txt": b"x"}, None, "absolute or leaves"),
        (_zip, GOOD, {"MSRVTT/link": "../../../etc/passwd"}, "outside the target folder"),
    ],
    ids=["tar-dotdot", "tar-absolute", "tar-symlink-out", "zip-dotdot", "zip-absolute", "zip-symlink-out"],
)
def test_members_landing_outside_are_refused(tmp_path, make, members, links, reason):
    folder = tmp_path / "data"
    folder.mkdir()
    archive = make(folder / ("MSRVTT.tar.gz" if make is _tar else "MSRVTT.zip"), members, links)
    with pytest.raises(ArchiveError, match=f"refused: .*{reason}") as info:
        extract(_only(folder))
    assert str(archive) in str(info.value) and "nothing of this archive is used" in str(info.value)
    assert not (folder / f"{archive.name}.uvrb-extracted").exists()  # never a folder that would be read
    assert not (tmp_path / "evil.txt").exists() and not any(tmp_path.glob("**/evil.txt"))


def test_links_inside_the_archive_are_kept(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    _tar(folder / "T.tar.gz", GOOD, {"MSRVTT/videos/alias.mp4": "v0.mp4"})
    target = extract(_only(folder))
    assert (target / "MSRVTT/videos/alias.mp4").read_bytes() == GOOD["MSRVTT/videos/v0.mp4"]


def test_split_parts_are_one_archive(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    whole = _tar(tmp_path / "MSRVTT.tar.gz", GOOD).read_bytes()
    for i, start in enumerate(range(0, len(whole), 40)):
        (folder / f"MSRVTT.tar.gz.{i:03d}").write_bytes(whole[start : start + 40])
    archive = _only(folder)
    assert archive.name == "MSRVTT.tar.gz" and len(archive.parts) == len(range(0, len(whole), 40)) > 3
    assert [p.name for p in archive.parts] == sorted(p.name for p in archive.parts)
    target = extract(archive)
    assert (target / "MSRVTT/videos/v0.mp4").read_bytes() == GOOD["MSRVTT/videos/v0.mp4"]


@pytest.mark.parametrize("make", [_tar, _zip])
def test_an_interrupted_extraction_resumes(tmp_path, monkeypatch, make):
    folder = tmp_path / "data"
    folder.mkdir()
    members = {f"T/videos/v{i}.mp4": bytes([i]) * (1000 + i) for i in range(6)}
    make(folder / ("T.tar.gz" if make is _tar else "T.zip"), members)
    archive = _only(folder)
    written = []
    real_write = archives._write

    def dying_write(source, destination):
        if len(written) == 3:
            raise KeyboardInterrupt("killed")
        written.append(destination.name)
        real_write(source, destination)

    with monkeypatch.context() as patch:
        patch.setattr(archives, "_write", dying_write)
        with pytest.raises(KeyboardInterrupt):
            extract(archive)
    assert not archive.target.exists()
    partial = archive.target.with_name(archive.target.name + ".partial")
    (partial / "T/videos" / written[0]).write_bytes(b"cut")  # a file cut short by the kill is written again
    again = []
    monkeypatch.setattr(archives, "_write", lambda s, d: again.append(d.name) or real_write(s, d))
    target = extract(archive)
    assert sorted(again) == sorted({f"v{i}.mp4" for i in range(6)} - set(written[1:]))
    assert {p.name: p.read_bytes() for p in (target / "T/videos").iterdir()} == {
        name.split("/")[-1]: data for name, data in members.items()
    }


def test_files_that_do_not_match_the_listing_are_an_error(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    _tar(folder / "T.tar.gz", GOOD)
    real_write = archives._write

    def short_write(source, destination):
        real_write(source, destination)
        if destination.name == "v0.mp4":
            with open(destination, "r+b") as handle:
                handle.truncate(10)

    monkeypatch.setattr(archives, "_write", short_write)
    with pytest.raises(ArchiveError, match="do not match the archive's listing: MSRVTT/videos/v0.mp4"):
        extract(_only(folder))


def test_a_truncated_archive_is_an_error(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    whole = _tar(tmp_path / "T.tar.gz", GOOD).read_bytes()
    (folder / "T.tar.gz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ArchiveError, match="T.tar.gz: cannot be extracted"):
        extract(_only(folder))


def test_a_changed_archive_is_extracted_again(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    _tar(folder / "T.tar.gz", GOOD)
    target = extract(_only(folder))
    stamp = os.stat(target / ".uvrb-archive.json").st_mtime_ns
    assert extract(_only(folder)) == target and os.stat(target / ".uvrb-archive.json").st_mtime_ns == stamp
    _tar(folder / "T.tar.gz", {**GOOD, "MSRVTT/videos/v1.mp4": b"new video"})
    target = extract(_only(folder))
    assert (target / "MSRVTT/videos/v1.mp4").read_bytes() == b"new video"
