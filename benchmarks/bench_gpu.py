"""GVE at real shapes on a GPU: throughput, memory per item, the FLOP bound, and batching strategies.

Random weights with GVE-3B's and GVE-7B's shapes (``gpu_shapes.py``; no download), one command:

    python benchmarks/bench_gpu.py                          # CUDA: GVE-3B and GVE-7B, bf16, batch 1-32
    python benchmarks/bench_gpu.py --device cpu --tiny      # the same tables, tiny test model, CPU, < 1 min
    python benchmarks/bench_gpu.py --sizes 3B --attn sdpa flash_attention_2 --json gpu.json

Tables:
  throughput  per (model, dtype, attention, kind, batch, mode): items/s, peak memory per item, TFLOP per
              item, the FLOP-bound items/s (peak FLOP/s / FLOP per item) and the measured share of it.
              ``model-only`` times forward passes of already tokenized batches (synchronised);
              ``end-to-end`` times `GVEModel.encode` from the files (read, resize, tokenize, forward),
              with its default readers and with reader processes on every core.
  batching    a mixed set of short queries and long candidates (texts of very different lengths and
              videos), batch by batch: input order with plain padding, length-sorted batches, and the
              same batches packed into one row without padding (flash-attention varlen on a GPU; with SDPA
              the packed row gets a block-diagonal mask, which checks the vectors but saves nothing):
              items/s, padding share, worst cosine to one-at-a-time embeddings.

Random weights give the real cost (FLOPs, memory, kernels) but not real embeddings; the byte-level
test tokenizer makes texts ~4x longer in tokens than Qwen's tokenizer would.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from modeling_gve.modeling_gve import default_num_workers, prepare_item

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_shapes import (  # noqa: E402
    batch_flops,
    bench_media,
    cpu_count,
    peak_memory,
    peak_tflops,
    random_gve,
    size_of,
    synchronize,
)

THROUGHPUT_COLUMNS = [
    "model", "device", "dtype", "attention", "kind", "batch", "mode", "reader",
    "items/s", "peak MiB/item", "TFLOP/item", "bound items/s", "vs bound",
]  # fmt: skip
BATCHING_COLUMNS = ["model", "attention", "strategy", "batch", "items/s", "padding %", "worst cosine"]


def tokenized(model, items: list) -> list[dict]:

    config = model.processor.sampling_config()
    return [prepare_item(model.processor, item, instruction=None, sampling=config) for item in items]


def forward(model, features: list[dict], padding_side: str = "right") -> torch.Tensor:
    batch = model.processor.collate(features, padding_side=padding_side)
    with torch.inference_mode():
        return model(**model.prepare_inputs(batch)).embeddings


def model_only(model, features: list[dict], batch_size: int, iters: int, device: str, peak: float) -> dict:
    """Forward passes of one collated batch of ``batch_size`` items (``features`` cycled)."""
    chosen = [features[i % len(features)] for i in range(batch_size)]
    batch = model.processor.collate(chosen)
    inputs = model.prepare_inputs(batch)
    flops = batch_flops(size_of(model.config), batch) / batch_size
    with torch.inference_mode():
        model(**inputs)  # warm-up: kernels, allocator
        with peak_memory(device) as memory:
            synchronize(device)
            start = time.perf_counter()
            for _ in range(iters):
                model(**inputs)
            synchronize(device)
            elapsed = time.perf_counter() - start
    rate = batch_size * iters / elapsed
    bound = peak * 1e12 / flops
    return {"items/s": rate, "peak MiB/item": memory["peak_mib"] / batch_size, "TFLOP/item": flops / 1e12,
            "bound items/s": bound, "vs bound": rate / bound}  # fmt: skip


def end_to_end(model, items: list, batch_size: int, reader: str, device: str, peak: float) -> dict:
    """`GVEModel.encode` of ``batch_size`` raw items (files), after a one-item warm-up."""
    chosen = [items[i % len(items)] for i in range(batch_size)]
    kwargs = {"num_workers": cpu_count(), "reader": "processes"} if reader == "processes" else {}
    model.encode(chosen[:1], batch_size=1, num_workers=0)
    with peak_memory(device) as memory:
        synchronize(device)
        start = time.perf_counter()
        model.encode(chosen, batch_size=batch_size, **kwargs)
        synchronize(device)
        elapsed = time.perf_counter() - start
    flops = batch_flops(size_of(model.config), model.processor.collate(tokenized(model, chosen))) / batch_size
    rate = batch_size / elapsed
    bound = peak * 1e12 / flops
    return {"items/s": rate, "peak MiB/item": memory["peak_mib"] / batch_size, "TFLOP/item": flops / 1e12,
            "bound items/s": bound, "vs bound": rate / bound}  # fmt: skip


def packed_forward(model, features: list[dict]) -> torch.Tensor:
    """One row holding ``features`` back to back, no padding: text positions restart at 0 for each item
    (a 4th row of ``position_ids``, which transformers reads to build a block-diagonal mask for SDPA /
    eager, or cu_seqlens for flash-attention varlen); M-RoPE positions per item as `GVEModel.forward`
    computes them; the embedding is each item's last token, L2-normalised."""
    processor, positions, lasts, offset = model.processor, [], [], 0
    for f in features:
        one = model.prepare_inputs(processor.collate([f]))
        rope, _ = model.model.get_rope_index(
            one["input_ids"],
            mm_token_type_ids=one["mm_token_type_ids"],
            image_grid_thw=one.get("image_grid_thw"),
            video_grid_thw=one.get("video_grid_thw"),
            second_per_grid_ts=one.get("second_per_grid_ts"),
            attention_mask=one["attention_mask"],
        )  # (3, 1, L)
        length = one["input_ids"].shape[1]
        text = torch.arange(length, device=rope.device).view(1, 1, length)
        positions.append(torch.cat([text, rope]))  # (4, 1, L)
        offset += length
        lasts.append(offset - 1)
    batch = model.prepare_inputs(processor.collate(features))
    mask = batch.pop("attention_mask").bool()
    row = {k: batch.pop(k)[mask].unsqueeze(0) for k in ("input_ids", "mm_token_type_ids")}  # (1, sum L)
    with torch.inference_mode():
        out = model.model(
            **row, **batch, position_ids=torch.cat(positions, dim=2), attention_mask=None, use_cache=False
        )
    return F.normalize(out.last_hidden_state[0, lasts].float(), dim=-1)


def batching_runs(model, media: dict, batch_size: int, attention: str, device: str) -> list[dict]:
    """Input order (padded), length-sorted (padded), packed; against one-at-a-time embeddings."""
    raw = []
    for i in range(max(len(media["queries"]), len(media["captions"]), len(media["videos"]))):
        for group in ("queries", "videos", "captions"):
            if i < len(media[group]):
                item = media[group][i]
                raw.append({"video": item} if group == "videos" else item)
    features = tokenized(model, raw)
    reference = torch.cat([forward(model, [f]) for f in features])
    lengths = [f["input_ids"].shape[0] for f in features]
    by_length = sorted(range(len(features)), key=lengths.__getitem__)
    strategies = {"padded, input order": list(range(len(features))), "padded, length-sorted": by_length}
    if attention == "flash_attention_2" or not device.startswith("cuda"):
        strategies["packed (no padding)"] = list(range(len(features)))
    rows = []
    for name, order in strategies.items():
        chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        run = packed_forward if name.startswith("packed") else forward
        run(model, [features[i] for i in chunks[0]])  # warm-up
        padded = sum(batch_size_tokens(lengths, c) for c in chunks) if not name.startswith("packed") else sum(lengths)
        synchronize(device)
        start = time.perf_counter()
        out = torch.empty_like(reference)
        for chunk in chunks:
            out[chunk] = run(model, [features[i] for i in chunk]).cpu()
        synchronize(device)
        elapsed = time.perf_counter() - start
        rows.append({"strategy": name, "batch": batch_size, "items/s": len(features) / elapsed,
                     "padding %": 100 * (1 - sum(lengths) / padded),
                     "worst cosine": float((out * reference.cpu()).sum(-1).min())})  # fmt: skip
    return rows


def batch_size_tokens(lengths: list[int], chunk: list[int]) -> int:
    return len(chunk) * max(lengths[i] for i in chunk)


def print_table(columns: list[str], rows: list[dict]) -> None:
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
        return str(value)

    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" for _ in columns) + "|")
    for row in rows:
        print("| " + " | ".join(cell(row.get(c, "–")) for c in columns) + " |")


def run_size(size: str, args, media: dict) -> tuple[list[dict], list[dict]]:
    throughput, batching = [], []
    dtype = getattr(torch, args.dtype)
    peak, peak_source = peak_tflops(args.device, dtype, args.peak_tflops)
    print(f"# GVE-{size}: {args.device}, {args.dtype}, peak {peak:.3g} TFLOP/s ({peak_source})", flush=True)
    for attention in args.attn:
        model = random_gve(size, args.workdir, dtype=dtype, attn_implementation=attention, device=args.device)
        if args.tiny:  # small frames: the CI run checks the tables, not the speed
            model.processor.sampling.update(video_min_pixels=8 * 28 * 28, video_max_pixels=16 * 28 * 28)
        common = {"model": f"GVE-{size}", "device": args.device, "dtype": args.dtype, "attention": attention}
        kinds = {"video": [{"video": v} for v in media["videos"]], "text": media["queries"] + media["captions"]}
        for kind, items in kinds.items():
            features = tokenized(model, items)
            for batch_size in args.batch_sizes:
                row = model_only(model, features, batch_size, args.iters, args.device, peak)
                throughput.append({**common, "kind": kind, "batch": batch_size, "mode": "model-only", **row})
                print(f"  {attention} {kind} batch {batch_size} model-only: {row['items/s']:.2f} items/s", flush=True)
            if attention != args.attn[0]:
                continue  # reading does not depend on the attention kernel
            for batch_size in args.e2e_batch_sizes:
                for reader in ("default", "processes"):
                    row = end_to_end(model, items, batch_size, reader, args.device, peak)
                    default = default_num_workers(items)
                    label = f"default ({default} threads)" if reader == "default" else f"{cpu_count()} processes"
                    throughput.append({**common, "kind": kind, "batch": batch_size, "mode": "end-to-end",
                                       "reader": label, **row})  # fmt: skip
        for row in batching_runs(model, media, args.mix_batch_size, attention, args.device):
            batching.append({"model": f"GVE-{size}", "attention": attention, **row})
        del model
        if args.device.startswith("cuda"):
            torch.cuda.empty_cache()
    return throughput, batching


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--tiny", action="store_true", help="the tiny test model and small media (CI)")
    parser.add_argument("--sizes", nargs="+", default=["3B", "7B"], choices=["tiny", "3B", "7B"])
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    parser.add_argument("--attn", nargs="+", default=None, help="default: sdpa, plus flash_attention_2 if installed")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32])
    parser.add_argument("--e2e-batch-sizes", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--mix-batch-size", type=int, default=8, help="batch size of the batching table")
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--peak-tflops", type=float, default=None, help="override the device's peak (TFLOP/s)")
    parser.add_argument("--workdir", default="/tmp/gve-bench-gpu")
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    args = parser.parse_args()
    if args.tiny:
        args.sizes, args.batch_sizes, args.e2e_batch_sizes, args.iters, args.mix_batch_size = (
            ["tiny"],
            [1, 4],
            [2],
            1,
            4,
        )
    if args.attn is None:
        from transformers.utils import is_flash_attn_2_available

        cuda = args.device.startswith("cuda")
        args.attn = ["sdpa"] + (["flash_attention_2"] if cuda and is_flash_attn_2_available() else [])
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    media = bench_media(args.workdir, tiny=args.tiny)

    throughput, batching = [], []
    for size in args.sizes:
        rows = run_size(size, args, media)
        throughput += rows[0]
        batching += rows[1]
    print("\n## Throughput\n")
    print_table(THROUGHPUT_COLUMNS, throughput)
    print("\n## Batching a mixed set (short queries, long captions, videos)\n")
    print_table(BATCHING_COLUMNS, batching)
    if args.json:
        Path(args.json).write_text(json.dumps({"throughput": throughput, "batching": batching}, indent=2))


if __name__ == "__main__":
    main()
