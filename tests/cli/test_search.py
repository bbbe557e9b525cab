"""`gve search`: a folder is indexed beside the videos (embedded once, reused), unreadable entries
are skipped with the right reason, and bad queries or models fail before any work."""

import json
import shutil

import pytest

from modeling_gve.cli import main
from modeling_gve.directions import instruction
from modeling_gve.embedding_cache import EmbeddingCache, item_key
from modeling_gve.encoders import GVEEncoder
from modeling_gve.modeling_gve import GVEModel
from modeling_gve.testing.media import make_video


@pytest.fixture()
def video_folder(tmp_path, media):
    folder = tmp_path / "videos"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(media["video"], folder / "clip.mp4")
    shutil.copy(media["video_long"], folder / "sub" / "long.mp4")
    shutil.copy(media["video_static"], folder / "static.mp4")
    (folder / "broken.mp4").write_text("not a video")
    (folder / "readme.txt").write_text("ignored")
    return folder


@pytest.fixture()
def encode_counter(monkeypatch):
    counts = []
    original = GVEModel.encode

    def counting(self, inputs, *args, **kwargs):
        counts.append(len(inputs))
        return original(self, inputs, *args, **kwargs)

    monkeypatch.setattr(GVEModel, "encode", counting)
    return counts


def search(folder, model, *extra):
    return main(["search", str(folder), *extra, "--model", str(model), "--json", "--num-workers", "0"])


def test_search_ranks_and_caches(video_folder, tiny_ckpt, capsys, encode_counter, media):
    assert search(video_folder, tiny_ckpt, "a colorful test pattern", "--top-k", "2") == 0
    out, err = capsys.readouterr()
    hits = json.loads(out)
    assert [h["rank"] for h in hits] == [1, 2]
    assert hits[0]["score"] >= hits[1]["score"]
    assert "broken.mp4" in err and "could not be opened as a video" in err
    assert encode_counter == [4, 1]  # 4 videos (one broken), then the query
    stores = [p for p in (video_folder / ".gve_index").iterdir() if (p / "settings.json").exists()]
    assert len(stores) == 1 and (video_folder / ".gve_index" / "tables").is_dir()
    assert (video_folder / ".gve_index" / "content-keys.json").is_file()  # the content-key memo

    # second search: only the query is embedded; the broken file is not retried
    encode_counter.clear()
    assert search(video_folder, tiny_ckpt, "something else") == 0
    assert encode_counter == [1]
    capsys.readouterr()

    # a new video: only it is embedded
    encode_counter.clear()
    make_video(video_folder / "new.mp4", seconds=1.0, fps=8, size=(96, 96), pattern="smptebars")
    assert search(video_folder, tiny_ckpt, "bars", "--top-k", "10") == 0
    assert encode_counter == [1, 1]
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 4 and {h["path"].rsplit("/", 1)[-1] for h in hits} == {"clip.mp4", "long.mp4", "static.mp4", "new.mp4"}


def test_scores_equal_direct_encoding(video_folder, tiny_ckpt, gve_model, capsys):
    assert search(video_folder, tiny_ckpt, "a blue screen", "--top-k", "3") == 0
    hits = json.loads(capsys.readouterr().out)
    query = gve_model.encode(["a blue screen"], instruction=instruction("T2V"))
    for hit in hits:
        video = gve_model.encode([{"video": hit["path"]}])
        assert float(query[0] @ video[0]) == pytest.approx(hit["score"], abs=1e-4)


def test_image_and_video_queries(video_folder, tiny_ckpt, media, capsys):
    results = {}
    for name, args in {
        "image": ["--image", str(media["image"])],
        "video": ["--video", str(media["video"])],
        "text+video": ["zoom in", "--video", str(media["video"])],
    }.items():
        assert search(video_folder, tiny_ckpt, *args) == 0
        results[name] = json.loads(capsys.readouterr().out)
    assert all(len(hits) == 3 for hits in results.values())
    assert results["video"][0]["path"].endswith("clip.mp4")  # a video is closest to itself


def test_cli_errors_are_one_clear_line(video_folder, tiny_ckpt, tmp_path, capsys):
    assert search(video_folder, tiny_ckpt) == 2
    assert "gve search: error: give a text query, --image or --video" in capsys.readouterr().err
    assert search(video_folder, tmp_path / "no-such-model", "x") == 2
    assert "no-such-model" in capsys.readouterr().err
    assert search(tmp_path / "missing", tiny_ckpt, "x") == 2
    assert "missing: not a folder of videos or a file listing them" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert search(tmp_path / "empty", tiny_ckpt, "x") == 2
    assert "empty: no video files" in capsys.readouterr().err


def test_cache_is_keyed_by_settings_and_content(tmp_path, gve_model, media):
    a = GVEEncoder(gve_model).cache_settings(None)
    b = GVEEncoder(gve_model, {"max_frames": 16}).cache_settings(None)
    c = GVEEncoder(gve_model).cache_settings("Find the video according to the image.")
    assert EmbeddingCache(tmp_path, a).root != EmbeddingCache(tmp_path, b).root != EmbeddingCache(tmp_path, c).root
    copy = tmp_path / "copy.mp4"
    shutil.copy(media["video"], copy)
    assert item_key({"video": str(copy)}) == item_key({"video": str(media["video"])})  # moved/copied: same entry
    copy.write_bytes(copy.read_bytes()[:-10] + b"0123456789")
    assert item_key({"video": str(copy)}) != item_key({"video": str(media["video"])})


def test_a_bit_flip_in_the_cache_is_reported_and_the_file_encoded_again(video_folder, tiny_ckpt, capsys, caplog):
    """A flipped bit in a cached vector (here its exponent: ~1e37) must not rank a file first."""
    assert search(video_folder, tiny_ckpt, "a clock", "--top-k", "10") == 0
    expected = {h["path"]: h["score"] for h in json.loads(capsys.readouterr().out)}
    (shard,) = (video_folder / ".gve_index").glob("*/shard-*.safetensors")
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0x40  # the high byte of the last float32: its exponent
    shard.write_bytes(bytes(data))
    with caplog.at_level("WARNING", logger="modeling_gve.embedding_cache"):
        assert search(video_folder, tiny_ckpt, "a clock", "--top-k", "10") == 0
    hits = json.loads(capsys.readouterr().out)
    assert {h["path"]: h["score"] for h in hits} == pytest.approx(expected, abs=1e-5)
    assert all(abs(h["score"]) <= 1.0 + 1e-5 for h in hits)
    assert f"{shard}: checksum mismatch" in caplog.text and shard.with_name(shard.name + ".corrupt").exists()


def test_index_files_are_safetensors_json_parquet_and_faiss(video_folder, tiny_ckpt, capsys):
    """No pickle: the store is safetensors + JSON, the table parquet + a FAISS index + its card."""
    search(video_folder, tiny_ckpt, "x")
    index = video_folder / ".gve_index"
    store = {p.suffix for p in index.rglob("*") if p.is_file() and "tables" not in p.parts}
    table = {p.suffix for p in (index / "tables").rglob("*") if p.is_file()}
    assert store <= {".safetensors", ".json", ".jsonl"} and table == {".parquet", ".faiss", ".json", ".md"}


def test_an_old_search_cache_becomes_the_index(video_folder, tiny_ckpt, capsys, encode_counter):
    """A folder searched before the index existed keeps its vectors: .gve_cache is moved, not redone."""
    assert search(video_folder, tiny_ckpt, "x") == 0
    (video_folder / ".gve_index" / "tables").rename(video_folder / "old-tables")
    (video_folder / ".gve_index").rename(video_folder / ".gve_cache")
    encode_counter.clear()
    assert search(video_folder, tiny_ckpt, "x") == 0
    assert encode_counter == [1] and not (video_folder / ".gve_cache").exists()


def test_query_combinations_without_a_default_instruction_fail_before_loading(video_folder, tiny_ckpt, tmp_path, media, capsys):
    """image+video (and text+image+video) queries have no default instruction: a one-line error
    before the model is loaded (a missing model path would give another error), or use --instruction."""
    missing_model = tmp_path / "no-such-model"
    for extra in (["--image", str(media["image"]), "--video", str(media["video"])],
                  ["a dog", "--image", str(media["image"]), "--video", str(media["video"])]):
        assert search(video_folder, missing_model, *extra) == 2
        err = capsys.readouterr().err
        assert "no default instruction for a" in err and "--instruction" in err and "no-such-model" not in err
    instruction = "Find the video that shows this image and this clip."
    args = ["--image", str(media["image"]), "--video", str(media["video"]), "--instruction", instruction]
    assert search(video_folder, tiny_ckpt, *args) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3


def test_unreadable_entries_are_skipped_with_their_reason_and_the_rest_is_searched(
    video_folder, tiny_ckpt, capsys, monkeypatch
):
    """Tests run as root, whom chmod 000 does not stop: unreadable files and folders are simulated by
    making `os.access` deny the file and `os.scandir` refuse the folder."""
    import os

    (video_folder / "dangling.mp4").symlink_to(video_folder / "gone.mp4")
    (video_folder / "loop.mp4").symlink_to(video_folder / "loop.mp4")
    os.mkfifo(video_folder / "pipe.mp4")
    (video_folder / "folder.mp4").mkdir()
    shutil.copy(video_folder / "clip.mp4", video_folder / "folder.mp4" / "inside.mp4")  # looked into
    shutil.copy(video_folder / "clip.mp4", video_folder / "locked.mp4")
    (video_folder / "private").mkdir()
    shutil.copy(video_folder / "clip.mp4", video_folder / "private" / "hidden.mp4")
    (video_folder / "empty.mp4").write_bytes(b"")
    locked, private = str(video_folder / "locked.mp4"), str(video_folder / "private")
    real_access, real_scandir = os.access, os.scandir
    monkeypatch.setattr(os, "access", lambda path, mode, **k: os.fspath(path) != locked and real_access(path, mode, **k))

    def scandir(path="."):
        if os.fspath(path) == private:
            raise PermissionError(13, "Permission denied", private)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert search(video_folder, tiny_ckpt, "a clock", "--top-k", "10") == 0
    out, err = capsys.readouterr()
    reasons = dict(line.removeprefix("skipped ").split(": ", 1) for line in err.splitlines() if line.startswith("skipped "))
    assert reasons == {
        str(video_folder / "broken.mp4"): reasons[str(video_folder / "broken.mp4")],
        str(video_folder / "dangling.mp4"): f"dangling symbolic link (its target {video_folder / 'gone.mp4'} does not exist)",
        str(video_folder / "loop.mp4"): "symbolic link loop (the link points back at itself)",
        str(video_folder / "pipe.mp4"): "is a FIFO (named pipe), not a video file",
        str(video_folder / "folder.mp4"): "is a folder, not a video file",
        locked: "cannot be read (permission denied)",
        private: "folder cannot be listed (permission denied)",
        str(video_folder / "empty.mp4"): "file is empty (0 bytes)",
    }
    assert "could not be opened as a video" in reasons[str(video_folder / "broken.mp4")]
    found = {h["path"] for h in json.loads(out)}
    assert found == {str(video_folder / p) for p in ("clip.mp4", "sub/long.mp4", "static.mp4", "folder.mp4/inside.mp4")}


def test_a_failed_file_is_reported_by_its_current_path(video_folder, tiny_ckpt, capsys, encode_counter):
    """The failure is remembered by content (not retried), but named where the file is now."""
    assert search(video_folder, tiny_ckpt, "x") == 0
    assert f"skipped {video_folder / 'broken.mp4'}: could not be opened" in capsys.readouterr().err
    (video_folder / "broken.mp4").rename(video_folder / "sub" / "moved.mp4")
    encode_counter.clear()
    assert search(video_folder, tiny_ckpt, "x") == 0
    err = capsys.readouterr().err
    assert f"skipped {video_folder / 'sub' / 'moved.mp4'}: could not be opened" in err and "broken.mp4" not in err
    assert encode_counter == [1]  # only the query: the failure was not retried


def test_missing_query_files_and_models_fail_before_any_work(video_folder, tiny_ckpt, tmp_path, capsys, encode_counter):
    missing = tmp_path / "missing.jpg"
    assert search(video_folder, tmp_path / "no-model", "--image", str(missing)) == 2
    err = capsys.readouterr().err
    assert f"--image {missing}: file not found (looked for {missing})" in err and "no-model" not in err
    assert search(video_folder, tiny_ckpt, "--video", str(video_folder)) == 2
    assert f"--video {video_folder}: is a folder, not a video file" in capsys.readouterr().err
    assert main(["search", str(video_folder), "x", "--model", "./missing-folder"]) == 2
    err = capsys.readouterr().err
    assert "model folder ./missing-folder not found (looked for" in err and "Repo id" not in err
    assert encode_counter == [] and not (video_folder / ".gve_index").exists()


def test_the_default_model_offline_and_not_cached_is_one_line_with_the_fix(video_folder, capsys, monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert main(["search", str(video_folder), "a dog"]) == 2
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith("gve search: error: Alibaba-NLP/GVE-3B (~7.5 GB download) is not in the Hugging Face cache")
    assert "HF_HUB_OFFLINE=1" in first and "--model PATH" in first
