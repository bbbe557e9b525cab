"""V-SynFlow at its edges: every media path of ``metadata.jsonl`` resolves (symlinks included)
inside the input folder, else a ``file:line`` error stating that rule (nothing outside is ever
linked into ``media/`` and published); a line that is not valid UTF-8 is a ``file:line`` error;
the sentence-transformers embedder runs a model repo's own code only when told to. These fail on
the code of before, which linked `/etc/passwd`, raised a bare UnicodeDecodeError and always
trusted remote code."""

import json

import pytest

from modeling_gve.synthesis.config import DataArguments, SynthesisConfig
from modeling_gve.synthesis.sources import load_sources


def write_metadata(folder, rows, raw_tail=b""):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metadata.jsonl").write_bytes("".join(json.dumps(r) + "\n" for r in rows).encode() + raw_tail)


@pytest.mark.parametrize("name", ["../outside.mp4", "/etc/passwd", "clips/link.mp4", "clips/../../outside.mp4"])
def test_media_paths_must_resolve_inside_the_input_folder(tmp_path, name):
    (tmp_path / "outside.mp4").write_bytes(b"not yours")
    folder = tmp_path / "in"
    (folder / "clips").mkdir(parents=True)
    (folder / "clips" / "ok.mp4").write_bytes(b"x")
    (folder / "clips" / "link.mp4").symlink_to(tmp_path / "outside.mp4")
    write_metadata(folder, [{"file_name": "clips/ok.mp4", "caption": "fine"}, {"file_name": name, "caption": "no"}])
    with pytest.raises(ValueError, match=rf"metadata.jsonl:2: '{name}' resolves to .*, outside {folder}: media paths "
                                         r"must resolve \(symlinks included\) inside"):  # fmt: skip
        load_sources(DataArguments(input=str(folder)))


def test_links_inside_and_hub_snapshots_are_fine(tmp_path):
    folder = tmp_path / "in"
    (folder / "clips").mkdir(parents=True)
    (folder / "clips" / "a.mp4").write_bytes(b"x")
    (folder / "b.mp4").symlink_to(folder / "clips" / "a.mp4")
    write_metadata(folder, [{"file_name": "b.mp4", "caption": "a link inside"}])
    assert load_sources(DataArguments(input=str(folder)))[0].video == str((folder / "clips" / "a.mp4").resolve())
    # a Hub download: the snapshot's files link to the repo's ../../blobs/
    repo = tmp_path / "datasets--me--videos"
    (repo / "blobs").mkdir(parents=True)
    (repo / "blobs" / "0123abcd").write_bytes(b"x")
    snapshot = repo / "snapshots" / "c0ffee"
    snapshot.mkdir(parents=True)
    (snapshot / "v.mp4").symlink_to("../../blobs/0123abcd")
    write_metadata(snapshot, [{"file_name": "v.mp4", "caption": "from the Hub"}])
    assert load_sources(DataArguments(input=str(snapshot)))[0].video == str(repo / "blobs" / "0123abcd")


def test_invalid_utf8_is_a_file_line_error(tmp_path):
    folder = tmp_path / "in"
    write_metadata(
        folder, [{"file_name": "a.mp4", "caption": "ok"}], raw_tail=b'{"file_name": "b.mp4", "caption": "\xff"}\n'
    )
    with pytest.raises(ValueError, match=r"metadata.jsonl:2: invalid UTF-8 \(byte 0xff at column 36\)"):
        load_sources(DataArguments(input=str(folder)))
    (folder / "metadata.jsonl").unlink()
    (folder / "metadata.csv").write_bytes(b"file_name,caption\na.mp4,ok\nb.mp4,caf\xe9\n")
    with pytest.raises(ValueError, match=r"metadata.csv:3: invalid UTF-8"):
        load_sources(DataArguments(input=str(folder)))


def test_the_embedder_trusts_remote_code_only_when_told(tmp_path, monkeypatch):
    from modeling_gve.synthesis import pipeline

    calls = []
    monkeypatch.setattr(pipeline, "load_encoder", lambda name, **kwargs: calls.append(kwargs) or object())
    monkeypatch.setattr(pipeline, "CachedEncoder", lambda encoder, root: encoder)
    base = {"input": str(tmp_path), "output_dir": str(tmp_path / "out"), "embedder": "someone/st-model",
            "embedder_type": "sentence-transformers", "stages": ["qc"]}  # fmt: skip
    pipeline.LazyEmbedder(SynthesisConfig.from_values(base), "cpu")()
    trusted = SynthesisConfig.from_values({**base, "embedder_trust_remote_code": True})
    pipeline.LazyEmbedder(trusted, "cpu")()
    assert [c["trust_remote_code"] for c in calls] == [False, True]


def test_pushing_needs_media_inside_the_output(tmp_path):
    values = {"input": str(tmp_path), "output_dir": str(tmp_path / "out"), "push_to_hub": True,
              "hub_repo_id": "me/uvrd", "link_mode": "symlink", "stages": ["qc"]}  # fmt: skip
    with pytest.raises(ValueError, match="link_mode 'symlink' links to the input videos"):
        SynthesisConfig.from_values(values)
