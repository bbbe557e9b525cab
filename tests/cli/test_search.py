"""`gve search`: folder embeddings are cached beside the videos and reused."""

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
    cache_dirs = [p for p in (video_folder / ".gve_cache").iterdir() if p.is_dir()]
    assert len(cache_dirs) == 1 and (cache_dirs[0] / "settings.json").exists()
    assert (video_folder / ".gve_cache" / "content-keys.json").is_file()  # the content-key memo

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
    assert "missing: not a folder" in capsys.readouterr().err
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
    (shard,) = (video_folder / ".gve_cache").glob("*/shard-*.safetensors")
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0x40  # the high byte of the last float32: its exponent
    shard.write_bytes(bytes(data))
    with caplog.at_level("WARNING", logger="modeling_gve.embedding_cache"):
        assert search(video_folder, tiny_ckpt, "a clock", "--top-k", "10") == 0
    hits = json.loads(capsys.readouterr().out)
    assert {h["path"]: h["score"] for h in hits} == pytest.approx(expected, abs=1e-5)
    assert all(abs(h["score"]) <= 1.0 + 1e-5 for h in hits)
    assert f"{shard}: checksum mismatch" in caplog.text and shard.with_name(shard.name + ".corrupt").exists()


def test_cache_files_are_safetensors_and_json(video_folder, tiny_ckpt, capsys):
    search(video_folder, tiny_ckpt, "x")
    files = {p.suffix for p in (video_folder / ".gve_cache").rglob("*") if p.is_file()}
    assert files <= {".safetensors", ".json", ".jsonl"}


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
