"""`gve index` / `gve search` of a `datasets` dataset's Video column: rows holding bytes are written
once into the index's media folder and indexed like files, rows holding files give the same vectors
as the folder of those files, rows without a video are skipped and named, and a dataset that cannot
be loaded is one line."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from modeling_gve.cli import main
from modeling_gve.index import VideoIndex


def cli(capsys, *argv):
    code = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def bytes_dataset(tmp_path, three_clips):
    """A parquet dataset whose `clip` column holds the videos' bytes (one row holds none)."""
    from datasets import Dataset, Features, Value, Video

    clips = three_clips["clips"]
    rows = {
        "clip": [
            {"path": "testsrc2.mp4", "bytes": Path(clips[0]).read_bytes()},
            {"path": "../../a clip?.mp4", "bytes": Path(clips[1]).read_bytes()},  # a hostile name
            None,
        ],
        "caption": ["a test pattern", "a fractal", "nothing"],
    }
    folder = tmp_path / "dataset"
    (folder / "data").mkdir(parents=True)
    Dataset.from_dict(rows, features=Features({"clip": Video(), "caption": Value("string")})).to_parquet(
        str(folder / "data" / "train.parquet")
    )
    return folder


def test_a_dataset_of_video_bytes_is_indexed_and_searched(bytes_dataset, tiny_ckpt, three_clips, capsys):
    code, out, err = cli(capsys, "index", bytes_dataset, "--column", "clip", "--model", tiny_ckpt, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["encoded"], summary["videos"], summary["skipped"]) == (2, 2, 1)
    assert summary["skipped_files"][0] == {
        "path": f"{bytes_dataset} (train row 2)", "reason": "the 'clip' column holds no video in this row"
    }  # fmt: skip
    media = bytes_dataset / ".gve_index" / "media"
    assert sorted(p.name for p in media.iterdir()) == ["train-000000-testsrc2.mp4", "train-000001-a_clip_.mp4"]
    assert (media / "train-000001-a_clip_.mp4").read_bytes() == Path(three_clips["clips"][1]).read_bytes()
    assert VideoIndex.open(summary["index"]).paths == [
        ".gve_index/media/train-000000-testsrc2.mp4", ".gve_index/media/train-000001-a_clip_.mp4"
    ]  # fmt: skip

    query = ["--video", three_clips["clips"][1], "--instruction", "You are a helpful assistant."]
    code, out, _ = cli(capsys, "search", bytes_dataset, *query, "--column", "clip", "--model", tiny_ckpt, "--json")
    best = json.loads(out)[0]
    assert best["path"] == str(media / "train-000001-a_clip_.mp4") and best["score"] == pytest.approx(1.0, abs=1e-4)

    written = {p.name: p.stat().st_mtime_ns for p in media.iterdir()}
    code, out, _ = cli(capsys, "index", bytes_dataset, "--column", "clip", "--model", tiny_ckpt, "--json")
    assert json.loads(out)["encoded"] == 0
    assert {p.name: p.stat().st_mtime_ns for p in media.iterdir()} == written  # not written again


def test_a_dataset_of_video_files_gives_the_folders_vectors(tmp_path, tiny_ckpt, three_clips, capsys):
    folder = tmp_path / "videofolder"
    folder.mkdir()
    for clip in three_clips["clips"][:2]:
        shutil.copy(clip, folder)
    code, out, err = cli(capsys, "index", folder, "--column", "video", "--model", tiny_ckpt, "--json")
    assert code == 0, err
    from_dataset = VideoIndex.open(json.loads(out)["index"])
    code, out, _ = cli(capsys, "index", folder, "--index", tmp_path / "plain", "--model", tiny_ckpt, "--json")
    plain = VideoIndex.open(json.loads(out)["index"])
    assert from_dataset.paths == plain.paths == ["mandelbrot.mp4", "testsrc2.mp4"]
    np.testing.assert_array_equal(from_dataset.embeddings(), plain.embeddings())


def test_a_dataset_that_cannot_be_read_is_one_line(bytes_dataset, tiny_ckpt, capsys):
    code, _, err = cli(capsys, "index", "hf://datasets/me/not-cached", "--model", tiny_ckpt)
    (line, hint) = err.strip().splitlines()
    assert code == 2 and line.startswith("gve index: error: hf://datasets/me/not-cached: cannot be loaded as a dataset (")
    code, _, err = cli(capsys, "index", bytes_dataset, "--column", "video", "--model", tiny_ckpt)
    assert code == 2 and "no column 'video' (columns: clip, caption)" in err
