"""`gve index` and `gve search` on an index: the moments of a long video, incremental updates,
resuming after a kill, and a table that `datasets` loads."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import started, stop
from modeling_gve.cli import main
from modeling_gve.index import VideoIndex
from modeling_gve.testing.media import make_video

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def long_folder(tmp_path, three_clips, media):
    """The 30 s video of three clips, and a still video as a distractor."""
    folder = tmp_path / "videos"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(three_clips["long"], folder / "long.mp4")
    shutil.copy(media["video_static"], folder / "sub" / "static.mp4")
    return folder


def cli(capsys, *argv):
    code = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_second_clip_is_found_at_10_to_20_seconds_and_a_second_run_encodes_nothing(
    long_folder, tiny_ckpt, three_clips, capsys
):
    """The issue's contract: index with 10 s segments, search with the second clip."""
    code, out, _ = cli(capsys, "index", long_folder, "--segment-seconds", 10, "--model", tiny_ckpt, "--json")
    summary = json.loads(out)
    assert code == 0 and summary["encoded"] == 2 and summary["reused"] == 0 and summary["skipped"] == 0
    assert summary["rows"] == 4 and summary["videos"] == 2  # 3 segments + 1 (the 2 s video)
    query = ["--video", three_clips["clips"][1], "--instruction", "You are a helpful assistant."]
    code, out, _ = cli(capsys, "search", long_folder, *query, "--moments", "--segment-seconds", 10,
                       "--model", tiny_ckpt, "--json")  # fmt: skip
    hits = json.loads(out)
    assert code == 0 and [h["rank"] for h in hits] == [1, 2, 3, 4]
    assert hits[0]["path"] == str(long_folder / "long.mp4")
    assert hits[0]["start"] == pytest.approx(10.0) and hits[0]["end"] == pytest.approx(20.0)
    assert hits[0]["score"] == pytest.approx(1.0, abs=1e-4)  # the same frames as the clip file
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)

    code, out, _ = cli(capsys, "index", long_folder, "--segment-seconds", 10, "--model", tiny_ckpt, "--json")
    again = json.loads(out)
    assert again["encoded"] == 0 and again["reused"] == 2 and again["index"] == summary["index"]

    # without --moments: videos, each by its best segment
    code, out, _ = cli(capsys, "search", long_folder, *query, "--segment-seconds", 10, "--model", tiny_ckpt, "--json")
    videos = json.loads(out)
    assert [Path(h["path"]).name for h in videos] == ["long.mp4", "static.mp4"]
    assert videos[0]["score"] == hits[0]["score"] and videos[0]["start"] == hits[0]["start"]

    # the table searched directly: with the model it records, the same hits
    code, out, _ = cli(capsys, "search", summary["index"], *query, "--moments", "--json")
    assert json.loads(out) == hits


def test_shots_index_and_search_like_fixed_windows(long_folder, tiny_ckpt, three_clips, capsys, monkeypatch):
    """``--segments shots``: a segment per shot (PySceneDetect's cuts of the concatenation are the
    clips' edges), in a table of its own beside the fixed windows' (another namespace in the one
    store); searching with the second clip finds 10-20 s; a second run encodes nothing."""
    pytest.importorskip("scenedetect")
    code, out, err = cli(capsys, "index", long_folder, "--segments", "shots", "--model", tiny_ckpt, "--json")
    summary = json.loads(out)
    assert code == 0, err
    assert (summary["encoded"], summary["rows"], summary["videos"]) == (2, 4, 2)  # 3 shots + the still video
    table = VideoIndex.open(summary["index"])
    assert Path(summary["index"]).name.startswith("segments-shots-") and table.record["segments"] == {
        "shots": "ContentDetector(threshold=27)"
    }
    assert list(zip(table.paths, table.starts, table.ends)) == [
        ("long.mp4", 0.0, 10.0), ("long.mp4", 10.0, 20.0), ("long.mp4", 20.0, 30.0), ("sub/static.mp4", 0.0, 2.0)
    ]  # fmt: skip
    assert "shots (PySceneDetect's ContentDetector(threshold=27))" in (Path(summary["index"]) / "README.md").read_text()
    query = ["--video", three_clips["clips"][1], "--instruction", "You are a helpful assistant."]
    code, out, _ = cli(capsys, "search", long_folder, *query, "--moments", "--segments", "shots",
                       "--model", tiny_ckpt, "--json")  # fmt: skip
    (best, *_) = json.loads(out)
    assert (Path(best["path"]).name, best["start"], best["end"]) == ("long.mp4", 10.0, 20.0)
    assert best["score"] == pytest.approx(1.0, abs=1e-4)  # the shot is the clip file, frame for frame
    again = json.loads(cli(capsys, "index", long_folder, "--segments", "shots", "--model", tiny_ckpt, "--json")[1])
    assert (again["encoded"], again["index"]) == (0, summary["index"])

    monkeypatch.setitem(__import__("sys").modules, "scenedetect", None)  # as if the extra were not installed
    code, _, err = cli(capsys, "index", long_folder, "--segments", "shots", "--model", "no/such-model")
    assert code == 2 and 'pip install -e ".[scenedetect]"' in err  # before any model is loaded


def test_the_table_is_a_dataset_with_a_faiss_index_and_updates_incrementally(long_folder, tiny_ckpt, capsys, media):
    from datasets import load_dataset

    cli(capsys, "index", long_folder, "--segment-seconds", 10, "--model", tiny_ckpt)
    (table,) = (long_folder / ".gve_index" / "tables").iterdir()
    rows = load_dataset(str(table), split="train")
    assert rows.column_names == ["path", "content_key", "start", "end", "embedding", "model", "sampling"]
    assert rows["path"] == ["long.mp4"] * 3 + ["sub/static.mp4"]
    assert rows["start"] == [0.0, 10.0, 20.0, 0.0] and rows["end"] == [10.0, 20.0, 30.0, 2.0]
    assert json.loads(rows["model"][0])["model"] == str(tiny_ckpt)
    assert json.loads(rows["sampling"][0])["max_frames"] == 8
    embeddings = np.array(rows["embedding"], dtype=np.float32)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    index = VideoIndex.open(table)
    assert index.index.ntotal == 4 and index.record["faiss"]["kind"] == "flat"
    np.testing.assert_array_equal(index.embeddings(), embeddings)

    # a new file is embedded alone; a removed one drops out of the table
    make_video(long_folder / "new.mp4", seconds=3.0, fps=5, size=(64, 48), pattern="smptebars")
    (long_folder / "sub" / "static.mp4").unlink()
    _, out, _ = cli(capsys, "index", long_folder, "--segment-seconds", 10, "--model", tiny_ckpt, "--json")
    summary = json.loads(out)
    assert (summary["encoded"], summary["reused"], summary["removed"], summary["videos"]) == (1, 1, 1, 2)
    assert load_dataset(str(table), split="train")["path"] == ["long.mp4"] * 3 + ["new.mp4"]
    # a moved file keeps its vectors (content keys)
    shutil.move(long_folder / "new.mp4", long_folder / "sub" / "renamed.mp4")
    summary = json.loads(cli(capsys, "index", long_folder, "--segment-seconds", 10, "--model", tiny_ckpt, "--json")[1])
    assert (summary["encoded"], summary["reused"], summary["removed"]) == (0, 2, 1)
    # whole-video vectors are another table beside it, from the same store
    summary = json.loads(cli(capsys, "index", long_folder, "--model", tiny_ckpt, "--json")[1])
    assert summary["rows"] == 2 and Path(summary["index"]).name.startswith("videos-")
    assert len(list((long_folder / ".gve_index" / "tables").iterdir())) == 2


def test_a_list_of_paths_is_a_source(tmp_path, long_folder, tiny_ckpt, capsys):
    listing = tmp_path / "videos.txt"
    listing.write_text(f"# my videos\nvideos/long.mp4\n\n{long_folder / 'sub' / 'static.mp4'}\nvideos/missing.mp4\n")
    code, out, err = cli(capsys, "index", listing, "--model", tiny_ckpt, "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["videos"] == 2 and summary["skipped"] == 1 and Path(summary["index"]).is_relative_to(tmp_path / ".gve_index")
    assert "videos.txt:5" in summary["skipped_files"][0]["reason"] and "missing.mp4" in err
    paths = VideoIndex.open(summary["index"]).paths
    assert paths == ["videos/long.mp4", "videos/sub/static.mp4"]


def test_quantized_codes_and_hnsw_are_searchable(long_folder, tiny_ckpt, capsys):
    code, out, _ = cli(capsys, "index", long_folder, "--segment-seconds", 5, "--model", tiny_ckpt, "--faiss", "hnsw",
                       "--precision", "int8", "binary", "--json")  # fmt: skip
    table = json.loads(out)["index"]
    record = VideoIndex.open(table).record
    assert record["faiss"]["kind"] == "hnsw" and set(record["quantized"]) == {"int8", "binary"}
    results = {}
    for precision in ("float32", "int8", "binary"):
        code, out, _ = cli(capsys, "search", table, "a test pattern", "--moments", "--top-k", 3,
                           "--precision", precision, "--json")  # fmt: skip
        results[precision] = json.loads(out)
        assert code == 0 and len(results[precision]) == 3
    assert results["int8"][0]["path"] == results["float32"][0]["path"]
    code, _, err = cli(capsys, "search", table, "x", "--precision", "int8", "--no-rescore")
    assert code == 0
    plain = json.loads(cli(capsys, "index", long_folder, "--segment-seconds", 5, "--model", tiny_ckpt, "--json")[1])
    code, _, err = cli(capsys, "search", plain["index"], "x", "--precision", "binary")
    assert code == 2 and "has no binary codes; write them with gve index ... --precision binary" in err


def test_an_index_searched_with_another_model_is_refused(long_folder, tiny_ckpt, tmp_path, capsys):
    from modeling_gve.testing.tiny import make_tiny_checkpoint

    summary = json.loads(cli(capsys, "index", long_folder, "--model", tiny_ckpt, "--json")[1])
    other = make_tiny_checkpoint(tmp_path / "other", layout="v4", seed=1)
    code, _, err = cli(capsys, "search", summary["index"], "x", "--model", other)
    assert code == 2 and f"the index was built with {str(tiny_ckpt)!r}" in err and f"--model {tiny_ckpt}" in err
    code, _, err = cli(capsys, "search", summary["index"], "x", "--moments")
    assert code == 2 and "holds whole-video vectors, not moments; index with --segment-seconds S" in err


SLOW_AFTER_FIRST_BATCH = """
import sys, time
from modeling_gve.modeling_gve import GVEModel
original, calls = GVEModel.encode, []
def slow(self, inputs, *args, **kwargs):
    calls.append(1)
    if len(calls) > 1:
        time.sleep(120)  # killed here, after the first batch
    return original(self, inputs, *args, **kwargs)
GVEModel.encode = slow
from modeling_gve.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("flush_seconds, kept", [(0.2, 1), (0, 0)])
def test_a_kill_loses_at_most_what_came_after_the_last_flush(tmp_path, tiny_ckpt, media, capsys, flush_seconds, kept):
    """Three videos, fewer than --flush-every: flushing by time keeps the first one through a kill
    (count-only flushing, --flush-seconds 0, loses it)."""
    folder = tmp_path / "videos"
    for i, name in enumerate(("a", "b", "c")):
        make_video(folder / f"{name}.mp4", seconds=1.0, fps=8, size=(64 + 16 * i, 48))
    argv = ["index", str(folder), "--model", str(tiny_ckpt), "--batch-size", "1", "--num-workers", "0",
            "--flush-every", "64", "--flush-seconds", str(flush_seconds)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = started([sys.executable, "-c", SLOW_AFTER_FIRST_BATCH, *argv], env=env,
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    store = folder / ".gve_index"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(store.glob("*/content-keys.json")) and process.poll() is None:
        if any(store.glob("*/settings.json")) and (flush_seconds == 0 or any(store.glob("*/shard-*.json"))):
            time.sleep(1.0 if flush_seconds == 0 else 0)  # the count-only run: give it time to (not) flush
            break
        time.sleep(0.05)
    stop(process, signal.SIGKILL)
    summary = json.loads(cli(capsys, *argv, "--json")[1])
    assert (summary["reused"], summary["encoded"], summary["videos"]) == (kept, 3 - kept, 3)


def test_progress_is_per_video_with_a_rate_and_time_left(long_folder, tiny_ckpt, capsys):
    code, _, err = cli(capsys, "index", long_folder, "--model", tiny_ckpt, "--batch-size", 1)
    assert code == 0
    assert "2/2 [" in err and ("item/s]" in err or "s/item]" in err) and "<" in err  # count, elapsed<left, rate
