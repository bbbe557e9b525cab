"""Trying V-SynFlow without a GPU, as docs/synthesis.md shows it: `gve samples --captions` writes the
input, `python -m modeling_gve.testing.loopback` serves the chat API, `gve synthesize` with the tiny
config makes the training pairs."""

import json
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

from helpers import REPO, free_port, started, stop, subprocess_env
from modeling_gve import samples
from modeling_gve.cli import main


def test_samples_with_captions_write_vsynflow_input(tmp_path, capsys):
    assert main(["samples", str(tmp_path / "s"), "--no-real", "--captions"]) == 0
    lines = (tmp_path / "s" / "metadata.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["file_name"] for r in rows] == list(samples.SYNTHETIC_CLIPS)
    assert all((tmp_path / "s" / r["file_name"]).is_file() and r["caption"] for r in rows)
    assert str(tmp_path / "s" / "metadata.jsonl") in capsys.readouterr().out.split()


def test_loopback_command_serves_a_tiny_vsynflow_run(tmp_path):
    assert main(["samples", str(tmp_path / "in"), "--no-real", "--captions"]) == 0
    port = free_port()
    server = started(
        [sys.executable, "-m", "modeling_gve.testing.loopback", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
        env=subprocess_env(tmp_path),
    )
    try:
        ready, _, _ = select.select([server.stdout], [], [], 120)  # the first line, or fail (not hang)
        assert ready, "the loopback server printed nothing in 120 s"
        assert server.stdout.readline().startswith(f"serving an OpenAI-compatible chat API at http://127.0.0.1:{port}/v1")
        start = time.perf_counter()
        status = main(
            [
                "synthesize",
                "--config", str(REPO / "recipes" / "configs" / "vsynflow-tiny.yaml"),
                "--input", str(tmp_path / "in"),
                "--output_dir", str(tmp_path / "out"),
                "--captioner_base_url", f"http://127.0.0.1:{port}/v1",
            ]
        )  # fmt: skip
        assert status == 0, f"synthesize failed after {time.perf_counter() - start:.1f} s"
    finally:
        stop(server, signal.SIGTERM)
    tasks = {p.parent.name for p in Path(tmp_path / "out").glob("*/*.parquet")}
    assert {"T2V", "I2V", "V2V"} <= tasks
    t2v = pq.read_table(next(Path(tmp_path / "out" / "T2V").glob("*.parquet"))).to_pylist()
    assert t2v and all(row["query_text"] and row["pos_video"] for row in t2v)
