"""sentence-transformers: GVE's module against the obvious sentence-transformers way, side by side.

Embeds the same videos (synthetic H.264, 640x360, 30 fps) with each method below, each in a fresh
process so that peak RSS is its own. Printed: wall time of `encode` (model loading excluded), peak
RSS growth, the ratio to `gve-st`, and the mean cosine of each method's vectors with
`GVEModel.encode`'s (1.000000 means the same embeddings as GVE's reference path).

Methods:
  gve-st           SentenceTransformer(converted folder, trust_remote_code=True).encode_document(paths)
  gve-st-decoder   the same given torchcodec VideoDecoders (sentence-transformers' video type)
  gve-model        GVEModel.encode([{"video": path}, ...]) (this package's core path)
  stock-st         the folder without the sentence-transformers files: sentence-transformers builds its
                   stock Transformer + mean Pooling; video paths with
                   processing_kwargs={"video": {"do_sample_frames": True, "num_frames": 8}}
  stock-st-decoder the same given VideoDecoders (it decodes every frame before sampling)

By default a tiny random GVE checkpoint is used, so the numbers measure video handling, not the
backbone; pass --model for a converted real checkpoint (e.g. `gve convert Alibaba-NLP/GVE-3B gve-3b`).

Usage:
    python benchmarks/bench_sentence_transformers.py [--durations 10 60] [--videos 2] [--model DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

METHODS = ["gve-st", "gve-st-decoder", "gve-model", "stock-st", "stock-st-decoder"]
ST_FILES = ("modules.json", "config_sentence_transformers.json", "sentence_bert_config.json")

CHILD = textwrap.dedent(
    """
    import json, sys, time
    import torch
    method, folder, stock_folder, paths = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    torch.set_num_threads(1)

    def rss_kib(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1])

    from sentence_transformers import SentenceTransformer
    from torchcodec.decoders import VideoDecoder
    if method == "gve-model":
        from modeling_gve import GVEModel
        model = GVEModel.from_pretrained(folder).eval()
        run = lambda: model.encode([{"video": p} for p in paths])
    elif method.startswith("gve-st"):
        model = SentenceTransformer(folder, trust_remote_code=True, device="cpu")
        inputs = lambda: [VideoDecoder(p) for p in paths] if method.endswith("decoder") else paths
        run = lambda: model.encode_document(inputs(), convert_to_tensor=True)
    else:
        model = SentenceTransformer(stock_folder, trust_remote_code=True, device="cpu")
        inputs = lambda: [VideoDecoder(p) for p in paths] if method.endswith("decoder") else paths
        sampled = {"video": {"do_sample_frames": True, "num_frames": 8}}
        run = lambda: model.encode(inputs(), convert_to_tensor=True, processing_kwargs=sampled)
    model.encode(["warm up"])  # lazy loading (processor, kernels) happens outside the measurement
    base = rss_kib("VmRSS")
    start = time.perf_counter()
    embeddings = run()
    elapsed = time.perf_counter() - start
    print(json.dumps({"seconds": elapsed, "peak_mib": (rss_kib("VmHWM") - base) / 1024,
                      "embeddings": torch.as_tensor(embeddings).float().tolist()}))
    """
)


def make_video(path: Path, seconds: int, seed: int) -> Path:
    if not path.exists():
        print(f"encoding {path.name} ({seconds} s, 640x360, 30 fps)...", flush=True)
        cmd = [
            "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
            "-vf", f"hue=h={seed * 60}", "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
            "-g", "60", "-pix_fmt", "yuv420p", str(path),
        ]  # fmt: skip
        subprocess.run(cmd, check=True)
    return path


def prepare_model(model: str | None, workdir: Path) -> tuple[Path, Path]:
    """The converted folder (made from a tiny checkpoint when none is given) and a copy without
    the sentence-transformers files, which sentence-transformers loads with its stock modules."""
    if model is None:
        from modeling_gve.convert import convert_checkpoint
        from modeling_gve.testing.tiny import make_tiny_checkpoint

        model = str(convert_checkpoint(make_tiny_checkpoint(workdir / "tiny"), workdir / "tiny-converted"))
    folder, stock = Path(model), workdir / "stock"
    shutil.rmtree(stock, ignore_errors=True)
    stock.mkdir()
    for item in folder.iterdir():
        if item.name not in ST_FILES:
            (stock / item.name).symlink_to(item.resolve())
    return folder, stock


def run(method: str, folder: Path, stock: Path, paths: list[str]) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-c", CHILD, method, str(folder), str(stock), json.dumps(paths)]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr else f"exit {result.returncode}"}
    return json.loads(result.stdout.strip().splitlines()[-1])


def mean_cosine(a: list, b: list) -> float:
    import torch

    a, b = torch.tensor(a), torch.tensor(b)
    return torch.nn.functional.cosine_similarity(a, b, dim=-1).mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--durations", type=int, nargs="+", default=[10, 60])
    parser.add_argument("--videos", type=int, default=2, help="videos per duration")
    parser.add_argument("--model", default=None, help="a converted GVE folder (default: a tiny random one)")
    parser.add_argument("--workdir", default="/tmp/gve-bench-st")
    parser.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    folder, stock = prepare_model(args.model, workdir)

    rows = []
    for seconds in args.durations:
        names = [workdir / f"testsrc2_360p_{seconds}s_{i}.mp4" for i in range(args.videos)]
        paths = [str(make_video(name, seconds, seed)) for seed, name in enumerate(names)]
        results = {}
        for method in args.methods:
            results[method] = run(method, folder, stock, paths)
            shown = {k: round(v, 3) for k, v in results[method].items() if isinstance(v, float)}
            print(f"  {seconds:>4}s x{args.videos} {method:<16} {shown or results[method]}", flush=True)
        rows.append((seconds, results))

    print("\n| videos | method | wall time (s) | peak RSS growth (MiB) | time vs gve-st | memory vs gve-st "
          "| cosine to GVEModel.encode |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for seconds, results in rows:
        ours, reference = results.get("gve-st", {}), results.get("gve-model", {})
        for method, r in results.items():
            label = f"{args.videos} x {seconds} s"
            if "seconds" not in r:
                print(f"| {label} | {method} | – | – | {r.get('error')} | | |")
                continue
            t_ratio = r["seconds"] / ours["seconds"] if ours.get("seconds") else float("nan")
            m_ratio = r["peak_mib"] / ours["peak_mib"] if ours.get("peak_mib") else float("nan")
            cosine = float("nan")
            if "embeddings" in reference:
                cosine = mean_cosine(r["embeddings"], reference["embeddings"])
            print(
                f"| {label} | {method} | {r['seconds']:.2f} | {r['peak_mib']:.0f} | {t_ratio:.1f}x | {m_ratio:.1f}x "
                f"| {cosine:.6f} |"
            )


if __name__ == "__main__":
    main()
