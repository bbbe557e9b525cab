"""Memory of one long text, and of the largest image the defaults accept, side by side.

Text: a 1 MB text (``--text-mb``) embedded with ``max_length=8192`` (the default). Methods:
  gve          GVEProcessor.process (what GVEModel.encode runs): the text is cut before
               tokenising, where the ids are provably those of the whole text (safe_text_cut)
  whole        the obvious way (and GVE's until now): tokenise the whole prompt, then truncate
  hf-truncate  the tokenizer's own truncation (truncation=True, max_length): also whole, in Rust
Each checks that its ids equal ``whole``'s.

Images (``--images``): the peak of `read_image` on an 8192x8192 photo (the default
``max_source_pixels`` is 8192*8192), JPEG and PNG, and of `read_video` on a two-frame
8192x8192 video.

Every (method, input) runs in a fresh process; the peak-RSS counter is reset after set-up
(``/proc/self/clear_refs``), so the figure is the growth the step itself causes. Uses the tiny
test checkpoint's byte-level tokenizer (one token per byte: the worst case).

Usage:
    python benchmarks/bench_input_memory.py [--text-mb 1] [--images] [--workdir /tmp/gve-bench-memory]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

TEXT_METHODS = ["gve", "whole", "hf-truncate"]

CHILD = textwrap.dedent(
    """
    import json, sys, time
    method, checkpoint, arg = sys.argv[1], sys.argv[2], sys.argv[3]

    def rss_mib(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) / 1024

    import torch
    from modeling_gve import GVEProcessor, format_prompt
    from modeling_gve.video import read_image, read_video
    torch.set_num_threads(1)
    processor = GVEProcessor.from_pretrained(checkpoint)
    config = processor.sampling_config()
    tokenizer = processor.tokenizer
    if method in ("gve", "whole", "hf-truncate"):
        sentence = "All work and no play makes Jack a dull boy. "
        text = (sentence * (int(float(arg) * 1e6) // len(sentence) + 1))[: int(float(arg) * 1e6)]
        prompt = format_prompt(processor.instruction, text)
    open("/proc/self/clear_refs", "w").write("5")  # reset VmHWM: measure from here
    base = rss_mib("VmRSS")
    start = time.perf_counter()
    if method == "gve":
        ids = processor.process([text])["input_ids"][0].tolist()
    elif method == "whole":
        ids = tokenizer(prompt, add_special_tokens=False)["input_ids"][: config.max_length - 1]
        ids = ids + [processor.embed_token_id]
    elif method == "hf-truncate":
        cap = config.max_length - 1
        ids = tokenizer(prompt, add_special_tokens=False, truncation=True, max_length=cap)["input_ids"]
        ids = ids + [processor.embed_token_id]
    elif method == "image":
        ids = list(read_image(arg).size)
    elif method == "video":
        ids = list(read_video(arg).frames.shape)
    elapsed = time.perf_counter() - start
    print(json.dumps({"seconds": elapsed, "peak_mib": rss_mib("VmHWM") - base, "ids": ids}))
    """
)


def run(method: str, checkpoint: Path, arg: str) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, method, str(checkpoint), arg], env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(f"{method} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_media(workdir: Path) -> dict[str, Path]:
    import numpy as np
    from PIL import Image

    side = 8192
    paths = {
        "8192² JPEG": workdir / "big.jpg",
        "8192² PNG": workdir / "big.png",
        "8192² video, 2 frames": workdir / "big.mkv",
    }
    if not paths["8192² JPEG"].exists():
        rng = np.random.default_rng(0)
        tile = rng.integers(0, 255, (512, 512, 3), dtype=np.uint8)
        image = Image.fromarray(np.tile(tile, (side // 512, side // 512, 1)))
        image.save(paths["8192² JPEG"], quality=90)
        image.save(paths["8192² PNG"], compress_level=1)
    if not paths["8192² video, 2 frames"].exists():
        cmd = ["ffmpeg", "-v", "error", "-y", "-loop", "1", "-i", str(paths["8192² JPEG"]), "-frames:v", "2"]
        cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(paths["8192² video, 2 frames"])]
        subprocess.run(cmd, check=True)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--text-mb", type=float, nargs="+", default=[1.0])
    parser.add_argument("--images", action="store_true", help="also measure 8192x8192 images and a video")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gve-bench-memory"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    from modeling_gve.testing.tiny import make_tiny_checkpoint

    checkpoint = args.workdir / "tiny"
    if not (checkpoint / "config.json").exists():
        make_tiny_checkpoint(checkpoint, layout="v5", seed=0)

    print(f"{'text':>8} {'method':<12} {'peak MiB':>9} {'seconds':>8} {'vs gve':>7}")
    for megabytes in args.text_mb:
        results = {method: run(method, checkpoint, str(megabytes)) for method in TEXT_METHODS}
        for method, result in results.items():
            assert result["ids"] == results["whole"]["ids"], f"{method} gives other ids than the whole text"
            ratio = result["peak_mib"] / max(results["gve"]["peak_mib"], 0.1)
            print(
                f"{megabytes:>6g}MB {method:<12} {result['peak_mib']:>9.1f} {result['seconds']:>8.3f} {ratio:>6.0f}x"
            )
    if args.images:
        print(f"\n{'source':<24} {'peak MiB':>9} {'seconds':>8}  result")
        for label, path in make_media(args.workdir).items():
            result = run("video" if "video" in label else "image", checkpoint, str(path))
            print(f"{label:<24} {result['peak_mib']:>9.1f} {result['seconds']:>8.2f}  {result['ids']}")


if __name__ == "__main__":
    main()
