"""`gve index --engine ray`: the Ray Data pipeline (decode tasks, an embedding actor) on a local
cluster writes the local engine's table: the same rows, the same vectors, the same hits.

The Ray runs are `gve` processes of their own, as a user runs them: the local cluster they start
(and its threads) ends with them, not inside the test process."""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import run_bounded, subprocess_env
from modeling_gve.cli import main
from modeling_gve.index import VideoIndex

pytest.importorskip("ray")


def cli(capsys, *argv):
    argv = list(map(str, argv))
    if "ray" in argv:  # `--engine ray`: in a process of its own
        done = run_bounded([sys.executable, "-m", "modeling_gve", *argv], timeout=600, env=subprocess_env())
        code, out, err = done.returncode, done.stdout, done.stderr
    else:
        code = main(argv)
        out, err = capsys.readouterr()
    assert code == 0, err[-3000:]
    return json.loads(out)


def test_the_ray_engine_writes_the_local_engines_table(tmp_path, three_clips, media, tiny_ckpt, capsys):
    folders = {}
    for engine in ("local", "ray"):
        folder = folders[engine] = tmp_path / engine
        folder.mkdir()
        shutil.copy(three_clips["long"], folder / "long.mp4")
        shutil.copy(media["video_static"], folder / "static.mp4")
        (folder / "broken.mp4").write_bytes(b"not a video")
    summaries = {
        engine: cli(
            capsys, "index", folder, "--segment-seconds", 10, "--engine", engine, "--model", tiny_ckpt, "--json"
        )
        for engine, folder in folders.items()
    }
    local, distributed = (VideoIndex.open(summaries[e]["index"]) for e in ("local", "ray"))
    assert summaries["ray"]["encoded"] == 2 and summaries["ray"]["skipped"] == 1  # the broken file, as locally
    assert summaries["ray"]["skipped_files"][0]["reason"] == summaries["local"]["skipped_files"][0]["reason"]
    assert (local.paths, local.starts, local.ends) == (distributed.paths, distributed.starts, distributed.ends)
    np.testing.assert_array_equal(distributed.embeddings(), local.embeddings())  # the same code on the same rows

    query = ["--video", three_clips["clips"][1], "--instruction", "You are a helpful assistant.", "--moments"]
    hits = {e: cli(capsys, "search", summaries[e]["index"], *query, "--json") for e in folders}
    assert [(Path(h["path"]).name, h["start"], h["end"]) for h in hits["ray"]] == [
        (Path(h["path"]).name, h["start"], h["end"]) for h in hits["local"]
    ]
    assert (hits["ray"][0]["start"], hits["ray"][0]["end"]) == (10.0, 20.0)
    assert cli(capsys, "index", folders["ray"], "--segment-seconds", 10, "--engine", "ray", "--model", tiny_ckpt,
               "--json")["encoded"] == 0  # fmt: skip
