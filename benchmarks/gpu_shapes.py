"""GVE-3B and GVE-7B shapes (from the published Qwen2.5-VL-3B/7B-Instruct configs, no download), random
models of those shapes, their forward FLOPs per input, peak memory and the GPU peaks the benchmarks
compare against.

Shared by ``bench_gpu.py``, ``bench_decode.py`` and ``parity_precision.py``.

FLOP model (forward pass, multiply-add = 2 FLOPs):
  vision tower   2 x (its parameters) x patches, plus attention 4 x d x s x patches per block, where s is
                 the attended span: 64 patches (a 112-pixel window) in window blocks, one temporal slice
                 (grid_h x grid_w patches) in the full-attention blocks;
  language model 2 x (its non-embedding parameters) x tokens, plus causal attention 2 x d x tokens^2
                 per layer.
At the paper's protocol (8 frames of 200*28*28 pixels: 4 temporal slices of 800 patches, 3,200 patches,
~850 tokens) this gives 9.2 TFLOP per GVE-3B video (the issue's estimate from rounded sizes: 9.4) and
15.6 TFLOP per GVE-7B video; a ~20-token text query costs 0.26 and 0.60 TFLOP.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Literal

import torch

# Qwen2.5-VL vision tower: the same for 3B and 7B except the merger's output size.
VISION = {
    "depth": 32,
    "hidden_size": 1280,
    "intermediate_size": 3420,
    "num_heads": 16,
    "patch_size": 14,
    "spatial_merge_size": 2,
    "temporal_patch_size": 2,
    "window_size": 112,
    "fullatt_block_indexes": [7, 15, 23, 31],
    "tokens_per_second": 2,
    "hidden_act": "silu",
    "in_chans": 3,
}

SIZES = {
    "3B": {
        "text": {
            "hidden_size": 2048,
            "intermediate_size": 11008,
            "num_hidden_layers": 36,
            "num_attention_heads": 16,
            "num_key_value_heads": 2,
            "vocab_size": 151936,
            "tie_word_embeddings": True,
            "mrope_section": [16, 24, 24],
        },
        "vision": {**VISION, "out_hidden_size": 2048},
    },
    "7B": {
        "text": {
            "hidden_size": 3584,
            "intermediate_size": 18944,
            "num_hidden_layers": 28,
            "num_attention_heads": 28,
            "num_key_value_heads": 4,
            "vocab_size": 152064,
            "tie_word_embeddings": False,
            "mrope_section": [16, 24, 24],
        },
        "vision": {**VISION, "out_hidden_size": 3584},
    },
}

# Datasheet dense bf16 tensor-core peaks (TFLOP/s). Real kernels reach ~70-80% of them: the issue's
# "~800 TFLOP/s, ~85 videos/s" for an H100/H200 is that fraction of the 989 below.
GPU_PEAK_TFLOPS = {"H100/H200 SXM": 989.0, "A100": 312.0, "L40S": 362.0}

PROTOCOL_FRAMES = 8
PROTOCOL_FRAME_PIXELS = 200 * 28 * 28
TEMPLATE_TOKENS = 26  # the GVE prompt around the media and text, with the appended <|endoftext|>


def vision_params(vision: dict) -> int:
    """Parameters of the Qwen2.5-VL vision tower (patch embedding, blocks, merger)."""
    d, f = vision["hidden_size"], vision["intermediate_size"]
    patch = vision["in_chans"] * vision["temporal_patch_size"] * vision["patch_size"] ** 2 * d
    block = 4 * d * d + 3 * d + d + 3 * d * f + 2 * f + d + 2 * d  # qkv+proj (+biases), gated MLP, 2 RMSNorms
    merged = d * vision["spatial_merge_size"] ** 2
    merger = d + merged * merged + merged + merged * vision["out_hidden_size"] + vision["out_hidden_size"]
    return patch + vision["depth"] * block + merger


def text_params(text: dict, embeddings: bool = False) -> int:
    """Parameters of the Qwen2 language model; without the token embeddings unless asked."""
    d, f, layers = text["hidden_size"], text["intermediate_size"], text["num_hidden_layers"]
    head_dim = d // text["num_attention_heads"]
    kv = text["num_key_value_heads"] * head_dim
    attention = d * d + 2 * d * kv + d + 2 * kv + d * d  # q, k, v (with biases), o
    layer = attention + 3 * d * f + 2 * d
    total = layers * layer + d
    return total + (text["vocab_size"] * d if embeddings else 0)


def forward_flops(size: dict, *, patches: int, patches_per_slice: int, tokens: int) -> float:
    """Forward FLOPs of one input with ``patches`` vision patches (in temporal slices of
    ``patches_per_slice``) and ``tokens`` language-model tokens."""
    vision, text = size["vision"], size["text"]
    d_v = vision["hidden_size"]
    window = (vision["window_size"] // vision["patch_size"]) ** 2
    full = len(vision["fullatt_block_indexes"])
    vision_flops = 2 * vision_params(vision) * patches
    vision_flops += 4 * d_v * patches * (full * patches_per_slice + (vision["depth"] - full) * window)
    text_flops = 2 * text_params(text) * tokens + 2 * text["num_hidden_layers"] * text["hidden_size"] * tokens**2
    return float(vision_flops + text_flops)


def input_shape(
    kind: Literal["video", "text", "image"],
    *,
    frames: int = PROTOCOL_FRAMES,
    frame_pixels: int = PROTOCOL_FRAME_PIXELS,
    text_tokens: int = 20,
) -> dict:
    """Patches and tokens of one input at the protocol's sizes (``frame_pixels`` per frame, already a
    multiple of 28x28)."""
    per_slice = frame_pixels // (14 * 14)
    slices = {"video": frames // 2, "image": 1, "text": 0}[kind]
    patches = slices * per_slice
    return {"patches": patches, "patches_per_slice": per_slice, "tokens": patches // 4 + TEMPLATE_TOKENS + text_tokens}


def gve_flops(size: dict, kind: Literal["video", "text", "image"] = "video", **shape_kwargs) -> float:
    """Forward FLOPs of one protocol-sized input of ``kind`` for the model ``size`` (a `SIZES` entry)."""
    return forward_flops(size, **input_shape(kind, **shape_kwargs))


def gve_config(size: dict, tokenizer, **overrides):
    """A `GVEConfig` of ``size`` whose special-token ids are ``tokenizer``'s (random weights need no
    real vocabulary: the embedding table keeps the real size)."""
    from modeling_gve import GVEConfig
    from modeling_gve.testing.tiny import QWEN_SPECIAL_TOKENS

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in QWEN_SPECIAL_TOKENS}
    text = dict(size["text"])
    mrope = text.pop("mrope_section")
    text.update(
        max_position_embeddings=32768,
        rms_norm_eps=1e-6,
        rope_theta=1000000.0,
        hidden_act="silu",
        rope_scaling={"type": "mrope", "mrope_section": mrope},
    )
    return GVEConfig(
        text_config=text,
        vision_config=dict(size["vision"]),
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|im_end|>"],
        tie_word_embeddings=text["tie_word_embeddings"],
        **overrides,
    )


def size_of(config) -> dict:
    """The `SIZES`-style entry of a loaded model's config (any size, the tiny test ones included)."""
    text, vision = config.text_config, config.vision_config
    text_keys = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads")
    vision_keys = ("depth", "hidden_size", "intermediate_size", "num_heads", "patch_size", "spatial_merge_size")
    vision_keys += ("temporal_patch_size", "window_size", "fullatt_block_indexes", "out_hidden_size")
    return {
        "text": {k: getattr(text, k) for k in text_keys} | {"vocab_size": text.vocab_size},
        "vision": {k: getattr(vision, k) for k in vision_keys} | {"in_chans": vision.in_channels},
    }


def batch_flops(size: dict, batch: dict) -> float:
    """Forward FLOPs of a collated batch (its real patches and unpadded tokens)."""
    total = 0.0
    tokens = batch["attention_mask"].sum(-1).tolist()
    grids = [g for key in ("image_grid_thw", "video_grid_thw") if key in batch for g in batch[key].tolist()]
    for t, h, w in grids:
        total += forward_flops(size, patches=t * h * w, patches_per_slice=h * w, tokens=0)
    for n in tokens:
        total += forward_flops(size, patches=0, patches_per_slice=1, tokens=n)
    return total


def random_gve(
    size: str,
    workdir: str | Path,
    *,
    dtype: torch.dtype = torch.float32,
    attn_implementation: str = "sdpa",
    device: str = "cpu",
    seed: int = 0,
):
    """A GVE model with random weights: ``"tiny"`` (the test checkpoint, saved under ``workdir``) or
    ``"3B"`` / ``"7B"`` (real shapes, built in memory on ``device``: no download, no disk), with the
    tiny checkpoint's processor (its byte-level tokenizer: texts cost more tokens than with Qwen's)."""
    from modeling_gve import GVEModel, GVEProcessor
    from modeling_gve.testing.tiny import make_tiny_checkpoint

    tiny = Path(workdir) / "tiny-gve"
    if not (tiny / "config.json").exists():
        make_tiny_checkpoint(tiny, layout="v4", seed=seed)
    if size == "tiny":
        return GVEModel.from_pretrained(tiny, dtype=dtype, attn_implementation=attn_implementation).to(device).eval()
    processor = GVEProcessor.from_pretrained(tiny)
    torch.manual_seed(seed)
    config = gve_config(SIZES[size], processor.tokenizer)
    with torch.device(device):
        model = GVEModel._from_config(config, dtype=dtype, attn_implementation=attn_implementation)
    model.processor = processor
    return model.eval()


def bench_media(workdir: str | Path, *, tiny: bool) -> dict:
    """Videos (H.264, 30 fps; 1280x720 for a real run, 160x120 for ``tiny``), images and texts of
    different lengths: queries (short) and candidates (long)."""
    from modeling_gve.testing.media import make_image, make_video

    root = Path(workdir) / ("media-tiny" if tiny else "media-720p")
    size, seconds = ((160, 120), 2.0) if tiny else ((1280, 720), 10.0)
    videos = []
    for i, pattern in enumerate(["testsrc2", "mandelbrot", "smptehdbars", "rgbtestsrc"]):
        path = root / f"{pattern}.mp4"
        if not path.exists():
            make_video(path, seconds=seconds + i, fps=30, size=size, pattern=pattern)
        videos.append(str(path))
    images = [str(make_image(root / f"image{i}.png", size=(640, 480), seed=i)) for i in range(2)]
    queries = ["a dog", "a red car turns left at night", "two people argue in a kitchen while a kettle boils"]
    captions = [
        "A long detailed description of a video: " + "the camera pans slowly across a crowded market, " * k
        for k in (2, 4, 8)
    ]
    return {"videos": videos, "images": images, "queries": queries, "captions": captions}


@contextlib.contextmanager
def peak_memory(device: str):
    """Yields a dict whose ``"peak_mib"`` is set on exit to the memory the block added at its peak:
    CUDA allocator bytes on a GPU, resident set (VmHWM, reset through /proc/self/clear_refs) on Linux CPU."""
    result: dict = {"peak_mib": float("nan")}
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        yield result
        torch.cuda.synchronize()
        result["peak_mib"] = (torch.cuda.max_memory_allocated() - base) / 2**20
        return
    status = Path("/proc/self/status")
    if not status.exists():
        yield result
        return

    def field(name: str) -> float:
        line = next(line for line in status.read_text().splitlines() if line.startswith(name))
        return int(line.split()[1]) / 1024

    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    base = field("VmRSS")
    yield result
    result["peak_mib"] = field("VmHWM") - base


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def peak_tflops(device: str, dtype: torch.dtype, override: float | None = None) -> tuple[float, str]:
    """The FLOP/s a forward pass is compared with: ``override``; a GPU's datasheet dense peak by name
    (`GPU_PEAK_TFLOPS`); on a CPU, a square matmul measured now in ``dtype`` (what this CPU reaches)."""
    if override:
        return override, "given"
    if device.startswith("cuda"):
        name = torch.cuda.get_device_name(device)
        for key, value in GPU_PEAK_TFLOPS.items():
            if any(part in name for part in key.replace(" SXM", "").split("/")):
                return value, f"{key} datasheet"
        return float("nan"), f"unknown GPU {name!r}: pass --peak-tflops"
    a = torch.randn(1024, 1024, dtype=dtype)
    a @ a  # warm-up
    start, count = time.perf_counter(), 0
    while time.perf_counter() - start < 0.5:
        a @ a
        count += 1
    return 2 * 1024**3 * count / (
        time.perf_counter() - start
    ) / 1e12, f"measured matmul, {torch.get_num_threads()} threads"


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


__all__ = [
    "GPU_PEAK_TFLOPS",
    "SIZES",
    "batch_flops",
    "bench_media",
    "cpu_count",
    "forward_flops",
    "gve_config",
    "gve_flops",
    "input_shape",
    "peak_memory",
    "peak_tflops",
    "random_gve",
    "size_of",
    "synchronize",
    "text_params",
    "vision_params",
]
