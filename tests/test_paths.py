"""The one path rule for data files (`modeling_gve.paths`): a media path resolves, symlinks
included, inside its root, or it is an error naming where it was read and the rule."""

import pytest

from modeling_gve.paths import PathOutsideRootError, is_inside, resolve_inside


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
