"""Serve GVE with vLLM's pooling runner and check its vectors against `GVEModel.encode`.

Needs a CUDA GPU and ``pip install vllm`` (0.33 was the version read for this recipe):

    python recipes/vllm/parity.py --model /path/to/GVE-3B            # a released checkpoint folder
    python recipes/vllm/parity.py --model ./gve-3b --converted        # a `gve convert` output
    python recipes/vllm/parity.py --model ... --video-metadata kwargs # if the fps check below fails

For each input (texts, an image, videos, text+image, text+video) it prints the cosine between vLLM's
embedding and `GVEModel.encode`'s (same dtype, same GPU), and an fps check: the same video sent with a
wrong fps must give a different vector, which shows vLLM used the fps (``second_per_grid_ts``). Exit
status 1 if a cosine is under ``--min-cosine``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import torch

from modeling_gve import GVEModel
from modeling_gve.serving.vllm import (
    HF_OVERRIDES_FOR_CONVERTED,
    VLLM_ENGINE_ARGS,
    pooler_config_kwargs,
    vllm_request,
)
from modeling_gve.testing.media import make_image, make_video

INSTRUCTION = "Find the video according to the text description."


def inputs(workdir: Path, videos: list[str]) -> dict:
    if not videos:
        videos = [
            str(make_video(workdir / f"v{i}.mp4", seconds=6.0 + 4 * i, fps=30, size=(640, 360))) for i in range(2)
        ]
    image = str(make_image(workdir / "image.png", size=(640, 480), seed=1))
    return {
        "text": "a dog catches a frisbee on the beach",
        "image": {"image": image},
        **{f"video {i}": {"video": v} for i, v in enumerate(videos)},
        "text+image": {"text": "the same place at night", "image": image},
        "text+video": {"text": "then the camera pans left", "video": videos[0]},
    }


def engine(args):
    """``vllm.LLM`` with the pooling runner, under the argument names of the installed vLLM."""
    from vllm import LLM, EngineArgs
    from vllm.config import PoolerConfig

    accepted = {f.name for f in dataclasses.fields(EngineArgs)}
    pooler = PoolerConfig(**pooler_config_kwargs({f.name for f in dataclasses.fields(PoolerConfig)}))
    kwargs = dict(VLLM_ENGINE_ARGS, dtype=args.dtype, limit_mm_per_prompt={"image": 2, "video": 2})
    kwargs["pooler_config" if "pooler_config" in accepted else "override_pooler_config"] = pooler
    if args.converted:
        kwargs["hf_overrides"] = HF_OVERRIDES_FOR_CONVERTED
    print("vllm.LLM(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")", flush=True)
    return LLM(model=args.model, **kwargs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="GVE checkpoint folder (or Hub id where the Hub is reachable)")
    parser.add_argument("--converted", action="store_true", help="the folder is a `gve convert` output")
    parser.add_argument("--videos", nargs="*", default=[], help="video files (default: two test videos)")
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--video-metadata", default="tuple", choices=["tuple", "kwargs"])
    parser.add_argument("--min-cosine", type=float, default=0.99)
    parser.add_argument("--workdir", default="/tmp/gve-vllm-parity")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    items = inputs(workdir, args.videos)

    # GVE: the reference vectors
    model = GVEModel.from_pretrained(args.model, dtype=getattr(torch, args.dtype)).to("cuda").eval()
    processor = model.processor
    expected = model.encode(list(items.values()), instruction=INSTRUCTION, batch_size=1)
    del model
    torch.cuda.empty_cache()

    # vLLM: the same inputs as pooling requests built on the client
    llm = engine(args)
    requests = [vllm_request(x, processor, INSTRUCTION, video_metadata=args.video_metadata) for x in items.values()]
    video = next(x for name, x in items.items() if name.startswith("video"))
    wrong = vllm_request(video, processor, INSTRUCTION, video_metadata=args.video_metadata)
    _scale_fps(wrong, 4.0)
    outputs = llm.embed(requests + [wrong])
    got = torch.nn.functional.normalize(torch.tensor([o.outputs.embedding for o in outputs]).float(), dim=-1)

    print(
        f"\n## vLLM pooling vs GVEModel.encode ({args.model}, {args.dtype}, video metadata as {args.video_metadata})\n"
    )
    print("| input | cosine |")
    print("|---|---:|")
    cosines = (got[: len(items)] * expected).sum(-1)
    for name, c in zip(items, cosines.tolist()):
        print(f"| {name} | {c:.5f} |")
    first_video = list(items).index(next(n for n in items if n.startswith("video")))
    moved = float(got[-1] @ got[first_video])
    print(f"\nfps check: the first video sent with 4x its fps has cosine {moved:.5f} to the right request "
          f"({'fps is used' if moved < 0.99999 else 'NO CHANGE: vLLM ignored the fps; try --video-metadata kwargs'})")  # fmt: skip
    return 0 if float(cosines.min()) >= args.min_cosine and moved < 0.99999 else 1


def _scale_fps(request: dict, factor: float) -> None:
    videos = request["multi_modal_data"]["video"]
    if isinstance(videos[0], tuple):
        request["multi_modal_data"]["video"] = [(f, dict(m, fps=m["fps"] * factor)) for f, m in videos]
    else:
        request["mm_processor_kwargs"]["video_metadata"] = [
            dict(m, fps=m["fps"] * factor) for m in request["mm_processor_kwargs"]["video_metadata"]
        ]


if __name__ == "__main__":
    sys.exit(main())
