# Copyright 2026 The GVE package authors. Apache-2.0.
"""Assembling the folder `gve hub` uploads: our way next to the obvious way, in one run.

A checkpoint-shaped folder (weight shards plus small JSON/code files, ``--gib`` GiB in all)
is staged for upload
  - ours: `modeling_gve.hub.stage.stage_files` with the model repo's rules (the allow-list,
    credential names, secrets in small text files, links kept inside; then hard links to the
    originals, symbolic links across file systems), what ``gve hub push-model`` and ``--dry-run`` do;
  - copy: ``shutil.copytree`` into a staging folder (the obvious way to add cards without
    touching the source folder).
Reported: wall time, and the bytes newly written to disk (files whose inode is not the
original's). The staged folders are checked to hold the same bytes.

    PYTHONPATH=. python benchmarks/bench_hub_staging.py [--gib 2] [--shards 4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from modeling_gve.hub.files import in_model_repo
from modeling_gve.hub.stage import stage_files


def stage_like_push_model(source: Path, target: Path) -> None:
    target.mkdir(parents=True)
    stage_files(source, target, allowed=in_model_repo, recursive=False)


def make_checkpoint(folder: Path, gib: float, shards: int) -> None:
    folder.mkdir(parents=True)
    block = os.urandom(1 << 20)
    per_shard = int(gib * 1024 / shards)  # MiB
    for i in range(shards):
        with open(folder / f"model-{i + 1:05d}-of-{shards:05d}.safetensors", "wb") as handle:
            handle.writelines(block for _ in range(per_shard))
    for name in ("config.json", "processor_config.json", "tokenizer.json", "modules.json", "modeling_gve.py"):
        (folder / name).write_text("{}" * 1000)


def new_bytes(source: Path, staged: Path) -> int:
    """Bytes of staged files that are not the source's inodes (i.e. written again)."""
    total = 0
    for path in staged.rglob("*"):
        if path.is_file():
            original = source / path.relative_to(staged)
            if os.stat(path).st_ino != os.stat(original).st_ino:
                total += path.stat().st_size
    return total


def same_bytes(source: Path, staged: Path) -> bool:
    for path in source.rglob("*"):
        if path.is_file():
            with open(path, "rb") as a, open(staged / path.relative_to(source), "rb") as b:
                while True:
                    x, y = a.read(1 << 24), b.read(1 << 24)
                    if x != y:
                        return False
                    if not x:
                        break
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gib", type=float, default=2.0, help="checkpoint size in GiB")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-hub-", dir=os.environ.get("BENCH_DIR")) as tmp:
        source = Path(tmp) / "checkpoint"
        make_checkpoint(source, args.gib, args.shards)
        size = sum(p.stat().st_size for p in source.iterdir())
        rows = []
        for method, stage in (("ours (rules + links)", stage_like_push_model), ("copytree", shutil.copytree)):
            times = []
            for r in range(args.repeats):
                target = Path(tmp) / f"staged-{method[:4]}-{r}"
                os.sync()
                start = time.perf_counter()
                stage(source, target)
                os.sync()  # count the time to get the copy onto the disk, not just into the page cache
                times.append(time.perf_counter() - start)
                written = new_bytes(source, target)
                assert same_bytes(source, target)
                if r < args.repeats - 1:
                    shutil.rmtree(target)
            rows.append((method, sorted(times)[len(times) // 2], min(times), max(times), written))

    print(f"\nStaging a {size / 2**30:.2f} GiB checkpoint folder ({args.shards} shards), median of {args.repeats}:\n")
    print("| method | wall time (median) | min–max | new bytes on disk | time vs ours |")
    print("|---|---:|---:|---:|---:|")
    ours = rows[0][1]
    for method, median, low, high, written in rows:
        print(
            f"| {method} | {median:.3f} s | {low:.3f}–{high:.3f} s | {written / 2**20:,.0f} MiB "
            f"| {median / ours:.0f}x |"
        )


if __name__ == "__main__":
    main()
