"""`gve search`: folder embeddings are cached beside the videos and reused."""

import json
import shutil

import pytest
import torch

from modeling_gve.cli import main
from modeling_gve.embedding_cache import EmbeddingCache, file_fingerprint
from modeling_gve.inference import cache_settings, encode_cached
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
    cache_dirs = list((video_folder / ".gve_cache").iterdir())
    assert len(cache_dirs) == 1 and (cache_dirs[0] / "settings.json").exists()

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
    from modeling_gve.search import QUERY_INSTRUCTIONS

    assert search(video_folder, tiny_ckpt, "a blue screen", "--top-k", "3") == 0
    hits = json.loads(capsys.readouterr().out)
    query = gve_model.encode(["a blue screen"], instruction=QUERY_INSTRUCTIONS["text"])
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


def test_interrupted_encoding_resumes_without_redoing_work(tmp_path, gve_model, media, monkeypatch):
    videos = []
    for i in range(5):
        videos.append(make_video(tmp_path / f"v{i}.mp4", seconds=1.0, fps=8, size=(64 + 16 * i, 64)))
    items = [{"video": str(v)} for v in videos]
    keys = [file_fingerprint(v) for v in videos]
    settings = cache_settings(gve_model)
    cache = EmbeddingCache(tmp_path / "cache", settings)

    calls = []
    original = GVEModel.encode

    def flaky(self, inputs, *args, **kwargs):
        calls.append(len(inputs))
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed while encoding the second chunk
        return original(self, inputs, *args, **kwargs)

    monkeypatch.setattr(GVEModel, "encode", flaky)
    with pytest.raises(KeyboardInterrupt):
        encode_cached(gve_model, items, keys, cache, flush_every=2, show_progress_bar=False)
    assert len(EmbeddingCache(tmp_path / "cache", settings)) == 2  # the finished chunk is on disk

    calls.clear()
    monkeypatch.setattr(GVEModel, "encode", original)
    resumed = encode_cached(gve_model, items, keys, EmbeddingCache(tmp_path / "cache", settings), flush_every=2, show_progress_bar=False)
    assert resumed.indices == list(range(5))
    expected = gve_model.encode(items)
    assert (resumed.embeddings - expected).abs().max() < 1e-4


def test_cache_is_keyed_by_settings_and_content(tmp_path, gve_model, media):
    a = cache_settings(gve_model)
    b = cache_settings(gve_model, max_frames=16)
    c = cache_settings(gve_model, instruction="Find the video according to the image.")
    assert EmbeddingCache(tmp_path, a).root != EmbeddingCache(tmp_path, b).root != EmbeddingCache(tmp_path, c).root
    copy = tmp_path / "copy.mp4"
    shutil.copy(media["video"], copy)
    assert file_fingerprint(copy) == file_fingerprint(media["video"])  # moved/copied file keeps its entry
    copy.write_bytes(copy.read_bytes()[:-10] + b"0123456789")
    assert file_fingerprint(copy) != file_fingerprint(media["video"])


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


def test_encode_cached_names_failed_inputs_briefly(tmp_path, gve_model):
    """A failed input is reported by a short name, never the whole input (a long text, a frame array)."""
    import numpy as np

    from modeling_gve.video import VideoFrames

    long_text = "a very long description " * 2000
    items = [
        "fine",
        {"text": long_text, "video": str(tmp_path / "missing.mp4")},
        {"video": VideoFrames(np.zeros((1, 64, 64, 3), dtype=np.uint8), fps=1.0)},  # one frame: refused
    ]
    cache = EmbeddingCache(tmp_path / "cache", cache_settings(gve_model))
    result = encode_cached(gve_model, items, ["a", "b", "c"], cache, show_progress_bar=False)
    assert result.indices == [0]
    (missing, one_frame) = result.errors
    assert missing.index == 1 and missing.input.startswith(f"{{video={tmp_path / 'missing.mp4'}, text='a very long")
    assert one_frame.input == "{video=<1 decoded frames at 1.0 fps>}"
    assert all(len(e.input) < 200 for e in result.errors)
    assert "file not found" in missing.reason and "only 1 frame" in one_frame.reason
