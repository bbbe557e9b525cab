"""Precision and attention parity: GVE in bfloat16 / float16 with SDPA and flash-attention 2 against
float32 eager, per input kind (text, image, video, composed), at batch sizes 1 and 8, padding right and
left. The worst cosine of each kind is printed; ``docs/gpu.md`` states the expected values.

The same weights in every variant: the float32 eager model is copied and cast. On a GPU, TF32 is turned
off for the float32 reference (cuDNN would otherwise run the patch-embedding convolution in TF32).

Usage:
    python benchmarks/parity_precision.py                          # CUDA, random GVE-3B weights
    python benchmarks/parity_precision.py --model /path/to/gve-3b  # a real checkpoint (local folder)
    python benchmarks/parity_precision.py --device cpu --size tiny # what a CPU can run (also in the tests)
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_shapes import bench_media, random_gve  # noqa: E402

from modeling_gve.modeling_gve import prepare_item  # noqa: E402

KINDS = ("text", "image", "video", "composed")


def items_by_kind(media: dict) -> dict:
    return {
        "text": [media["queries"][1], media["captions"][0]],
        "image": [{"image": media["images"][0]}, {"image": media["images"][1]}],
        "video": [{"video": media["videos"][0]}, {"video": media["videos"][1]}],
        "composed": [
            {"text": "the same place at night", "image": media["images"][0]},
            {"text": "then the camera pans left", "video": media["videos"][2]},
        ],
    }


def embed(model, features: list[dict], batch_size: int, padding_side: str) -> torch.Tensor:
    out = []
    with torch.inference_mode():
        for start in range(0, len(features), batch_size):
            batch = model.processor.collate(features[start : start + batch_size], padding_side=padding_side)
            out.append(model(**model.prepare_inputs(batch)).embeddings.cpu())
    return torch.cat(out)


def variants(device: str, dtypes: list[str], attns: list[str]) -> list[tuple[str, str]]:
    from transformers.utils import is_flash_attn_2_available

    chosen = []
    for dtype in dtypes:
        for attn in attns:
            if attn == "flash_attention_2" and dtype == "float32":
                continue  # flash-attention kernels take half precision only
            if attn == "flash_attention_2" and not (device.startswith("cuda") and is_flash_attn_2_available()):
                print(f"skipped {dtype} + {attn}: needs a CUDA GPU and the flash-attn package")
                continue
            chosen.append((dtype, attn))
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", default="3B", choices=["tiny", "3B", "7B"], help="random weights of this shape")
    parser.add_argument("--model", default=None, help="a GVE checkpoint folder instead of random weights")
    parser.add_argument("--dtypes", nargs="+", default=["bfloat16", "float16", "float32"])
    parser.add_argument("--attn", nargs="+", default=["eager", "sdpa", "flash_attention_2"])
    parser.add_argument("--workdir", default="/tmp/gve-parity-precision")
    args = parser.parse_args()
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    Path(args.workdir).mkdir(parents=True, exist_ok=True)

    if args.model:
        from modeling_gve import GVEModel

        reference = GVEModel.from_pretrained(args.model, attn_implementation="eager").to(args.device).eval()
        label = args.model
    else:
        reference = random_gve(args.size, args.workdir, attn_implementation="eager", device=args.device)
        label = f"random GVE-{args.size}"
    tiny = args.size == "tiny" and not args.model
    groups = items_by_kind(bench_media(args.workdir, tiny=tiny))
    kinds = [kind for kind, group in groups.items() for _ in group]
    config = reference.processor.sampling_config()
    features = [
        prepare_item(reference.processor, x, instruction=None, sampling=config) for g in groups.values() for x in g
    ]
    expected = embed(reference, features, batch_size=1, padding_side="right")

    chosen = variants(args.device, args.dtypes, args.attn)
    print(f"\n## {label} on {args.device}: worst cosine per kind to float32 eager\n")
    print("| dtype | attention | batch | padding | " + " | ".join(KINDS) + " |")
    print("|---|---|---:|---|" + "---:|" * len(KINDS))
    for dtype, attn in chosen:
        model = copy.deepcopy(reference).to(getattr(torch, dtype))
        model.set_attn_implementation(attn)
        for batch_size in (1, 8):
            for padding_side in ("right", "left"):
                cosine = (embed(model, features, batch_size, padding_side) * expected).sum(-1)
                worst = [min(float(c) for c, k in zip(cosine, kinds) if k == kind) for kind in KINDS]
                print(
                    f"| {dtype} | {attn} | {batch_size} | {padding_side} | "
                    + " | ".join(f"{w:.5f}" for w in worst)
                    + " |"
                )
        del model


if __name__ == "__main__":
    main()
