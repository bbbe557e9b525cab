# Copyright 2026 The GVE package authors. Apache-2.0.
"""What whole-content cache keys cost: our way next to the old sampled key, in one run.

A ``--gib`` GiB file of random bytes is keyed
  - old: size + blake2b of its first, middle and last MiB (reads 3 MiB; blind to an edit elsewhere);
  - ours, first time: `modeling_gve.embedding_cache.content_key`, sha256 of the whole file in 1 MiB
    blocks, from disk (the file is evicted from the page cache first with ``posix_fadvise``) and
    from the page cache;
  - ours, every later time: `Fingerprints` (a new instance, as in a new run: the JSON memo is loaded
    and the file is ``stat``-ed; nothing is read while path, size, mtime, ctime and inode match).
Each is timed ``--repeats`` times (best kept); the ratios to the old key are printed.

    PYTHONPATH=. python benchmarks/bench_content_key.py [--gib 1] [--repeats 3] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from modeling_gve.embedding_cache import RACY_NS, Fingerprints, content_key

MIB = 1 << 20
OLD = "old: size + first/middle/last MiB, from disk"


def sampled_key(path: Path) -> str:
    """The old key: size + blake2b of the first, middle and last MiB."""
    size = path.stat().st_size
    digest = hashlib.blake2b(str(size).encode(), digest_size=16)
    with path.open("rb") as handle:
        for offset in sorted({0, max(0, size // 2 - MIB // 2), max(0, size - MIB)}):
            handle.seek(offset)
            digest.update(handle.read(MIB))
    return digest.hexdigest()


def evict(path: Path) -> None:
    """Drop ``path`` from the page cache, so the next read comes from disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def best_of(repeats: int, run: Callable[[], object], before: Callable[[], None] = lambda: None) -> float:
    times = []
    for _ in range(repeats):
        before()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", default=None, help="where to write the file (a disk, not a RAM disk)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        video = Path(tmp) / "video.mp4"
        block = os.urandom(MIB)
        with video.open("wb") as handle:
            handle.writelines(block[i:] + block[:i] for i in range(int(args.gib * 1024)))
        time.sleep(RACY_NS / 1e9 + 0.1)  # past git's "racy" window: a memo entry made now is trusted
        memo_file = Path(tmp) / "content-keys.json"
        cold = lambda: evict(video)  # noqa: E731
        rows = {
            OLD: best_of(args.repeats, lambda: sampled_key(video), cold),
            "ours, first time: whole content, from disk": best_of(args.repeats, lambda: content_key(video), cold),
            "ours, first time: whole content, page cache": best_of(args.repeats, lambda: content_key(video)),
        }
        memo = Fingerprints(memo_file)
        memo(video)
        memo.save()
        later = best_of(args.repeats, lambda: Fingerprints(memo_file)(video))
        rows["ours, every later run: memo (JSON load + stat)"] = later
        assert Fingerprints(memo_file)(video) == content_key(video)
    old = rows[OLD]
    print(f"{args.gib:g} GiB file, best of {args.repeats}\n")
    print("| method | seconds | × old |\n|---|---:|---:|")
    for name, seconds in rows.items():
        print(f"| {name} | {seconds:.4f} | {seconds / old:.2f} |")


if __name__ == "__main__":
    main()
