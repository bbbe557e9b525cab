"""``benchmarks/bench_gpu.py --device cpu --tiny`` prints the tables a GPU run prints, and its batching
strategies (length-sorted, packed without padding) give the one-at-a-time vectors."""

import json
import sys

from helpers import REPO, run_bounded, subprocess_env


def test_bench_gpu_tiny_prints_the_gpu_tables(tmp_path):
    out = tmp_path / "rows.json"
    cmd = [sys.executable, str(REPO / "benchmarks" / "bench_gpu.py"), "--device", "cpu", "--tiny",
           "--workdir", str(tmp_path), "--json", str(out)]  # fmt: skip
    result = run_bounded(cmd, timeout=300, cwd=REPO, env=subprocess_env())
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    throughput_header = "| model | device | dtype | attention | kind | batch | mode | reader | items/s | peak MiB/item | TFLOP/item | bound items/s | vs bound |"
    batching_header = "| model | attention | strategy | batch | items/s | padding % | worst cosine |"
    assert throughput_header in lines and batching_header in lines, result.stdout

    rows = json.loads(out.read_text())
    seen = {(r["kind"], r["mode"]) for r in rows["throughput"]}
    assert seen == {(k, m) for k in ("video", "text") for m in ("model-only", "end-to-end")}
    for row in rows["throughput"]:
        assert row["items/s"] > 0 and row["TFLOP/item"] > 0 and row["bound items/s"] > 0, row
    strategies = {r["strategy"]: r for r in rows["batching"]}
    assert set(strategies) == {"padded, input order", "padded, length-sorted", "packed (no padding)"}
    assert strategies["packed (no padding)"]["padding %"] == 0
    assert strategies["padded, length-sorted"]["padding %"] < strategies["padded, input order"]["padding %"]
    for row in rows["batching"]:
        assert row["worst cosine"] > 0.9999, row  # sorting and packing never change a vector
