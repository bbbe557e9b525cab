"""The one rule for media paths in data files, and JSONL read with file:line errors (`modeling_gve.paths`)."""

import os

import pytest

from modeling_gve.paths import (
    MEDIA_PATH_RULE,
    DataFileError,
    MediaPathError,
    PathOutsideRootError,
    check_relative,
    is_inside,
    read_jsonl,
    resolve_inside,
)


@pytest.fixture()
def root(tmp_path):
    (tmp_path / "root" / "media").mkdir(parents=True)
    (tmp_path / "root" / "media" / "a.mp4").write_bytes(b"x")
    (tmp_path / "outside.mp4").write_bytes(b"secret")
    return tmp_path / "root"


def test_paths_inside_the_root_resolve(root):
    real = (root / "media" / "a.mp4").resolve()
    assert resolve_inside(root, "media/a.mp4") == real
    assert resolve_inside(root, "media/../media/a.mp4") == real
    assert resolve_inside(root, str(root / "media" / "a.mp4")) == real  # absolute, inside
    assert resolve_inside(root, "media/not-yet.mp4").name == "not-yet.mp4"  # missing: the reader says so
    os.symlink(root / "media" / "a.mp4", root / "media" / "link.mp4")
    assert resolve_inside(root, "media/link.mp4") == real  # a link that stays inside


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink", "symlinked_folder"])
def test_paths_that_leave_the_root_are_refused_with_the_rule(root, kind):
    outside = root.parent / "outside.mp4"
    if kind == "dotdot":
        name = "../outside.mp4"
    elif kind == "absolute":
        name = str(outside)
    elif kind == "symlink":
        os.symlink(outside, root / "media" / "leak.mp4")
        name = "media/leak.mp4"
    else:
        os.symlink(root.parent, root / "up")
        name = "up/outside.mp4"
    with pytest.raises(MediaPathError) as err:
        resolve_inside(root, name)
    assert err.value.name == name
    assert f"resolves to {outside.resolve()}, outside {root}" in str(err.value)
    assert MEDIA_PATH_RULE in str(err.value)


@pytest.mark.parametrize("value, reason", [(5, "is int, not a string"), (None, "is NoneType, not a string"),
                                           ("", "must not be empty"), ("a\x00b", "NUL")])  # fmt: skip
def test_a_media_path_must_be_a_non_empty_string(root, value, reason):
    with pytest.raises(MediaPathError, match=reason):
        resolve_inside(root, value)


def test_repository_paths_are_checked_without_files():
    assert check_relative("media/./a.mp4") == "media/a.mp4"
    for name in ("../x.mp4", "media/../../x.mp4", "/etc/passwd", "..\\x.mp4"):
        with pytest.raises(MediaPathError, match="is not a relative path inside the repository"):
            check_relative(name)


def test_jsonl_errors_name_the_file_and_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"id": 1}\n\n{"id": 2, "text": "caf\xe9"}\n')
    records = read_jsonl(path)
    assert next(records) == (1, {"id": 1})
    with pytest.raises(DataFileError) as err:
        next(records)
    assert str(err.value) == f"{path}:3: invalid UTF-8 (byte 0xe9 at column 23)"
    path.write_text('{"id": 1}\n[1, 2]\n')
    with pytest.raises(DataFileError, match=r"rows.jsonl:2: expected a JSON object, got list"):
        list(read_jsonl(path))
    path.write_text('{"id": 1,}\n')
    with pytest.raises(DataFileError, match=r"rows.jsonl:1: invalid JSON"):
        list(read_jsonl(path))
    with pytest.raises(DataFileError, match="missing.jsonl: file not found"):
        list(read_jsonl(tmp_path / "missing.jsonl"))


def test_paths_inside_resolve_and_escapes_are_refused_with_the_rule(tmp_path):
    root = tmp_path / "data"
    (root / "clips").mkdir(parents=True)
    (root / "clips" / "a.mp4").write_bytes(b"x")
    (root / "alias.mp4").symlink_to(root / "clips" / "a.mp4")
    assert resolve_inside(root, "clips/a.mp4") == (root / "clips" / "a.mp4").resolve()
    assert resolve_inside(root, "alias.mp4") == (root / "clips" / "a.mp4").resolve()
    assert resolve_inside(root, str(root / "clips" / "a.mp4")) == (root / "clips" / "a.mp4").resolve()
    assert resolve_inside(root, "a.mp4", base=root / "clips") == (root / "clips" / "a.mp4").resolve()
    assert resolve_inside(root, "clips/missing.mp4").name == "missing.mp4"  # existence is the caller's question

    (tmp_path / "secret").write_text("x")
    (root / "leak.mp4").symlink_to(tmp_path / "secret")
    for escape in ("../secret", "/etc/passwd", "leak.mp4", "clips/../../secret"):
        with pytest.raises(PathOutsideRootError, match=r"^meta.jsonl:3: .* outside .*: media paths must resolve "
                                                       r"\(symlinks included\) inside"):  # fmt: skip
            resolve_inside(root, escape, "meta.jsonl:3")
    assert is_inside(root, root / "alias.mp4") and not is_inside(root, root / "leak.mp4")


def test_uvrb_jsonl_errors_are_file_line_errors_too(tmp_path):
    """UVRB's JSONL goes through the same reader: invalid UTF-8 is a `UVRBDataError` naming the
    file and line (a bare UnicodeDecodeError before)."""
    from modeling_gve.uvrb.data import UVRBDataError
    from modeling_gve.uvrb.data import read_jsonl as read_uvrb_jsonl

    path = tmp_path / "corpus.jsonl"
    path.write_bytes(b'{"id": "v0", "video": "v0.mp4"}\n{"id": "v1", "video": "caf\xe9.mp4"}\n')
    with pytest.raises(UVRBDataError) as err:
        list(read_uvrb_jsonl(path))
    assert (err.value.file, err.value.line) == (str(path), 2)
    assert str(err.value).startswith(f"{path}:2: invalid UTF-8")
