"""GVE-3B and GVE-7B shapes (from the published Qwen2.5-VL-3B/7B-Instruct configs, no download), their
forward FLOPs per input, and the GPU peaks the benchmarks compare against.

Shared by ``bench_gpu.py``, ``bench_decode.py`` and ``parity_precision.py``.

FLOP model (forward pass, multiply-add = 2 FLOPs):
  vision tower   2 x (its parameters) x patches, plus attention 4 x d x s x patches per block, where s is
                 the attended span: 64 patches (a 112-pixel window) in window blocks, one temporal slice
                 (grid_h x grid_w patches) in the full-attention blocks;
  language model 2 x (its non-embedding parameters) x tokens, plus causal attention 2 x d x tokens^2
                 per layer.
At the paper's protocol (8 frames of at most 200*28*28 pixels: 4 temporal slices of 800 patches, 3,200
patches, ~830 tokens) this gives ~4.3 TFLOP in the vision tower and ~4.7 TFLOP in the language model
of GVE-3B, the ~9 TFLOP per video the issue estimated from rounded sizes.
"""

from __future__ import annotations

from typing import Literal

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
    from modeling_gve.testing import QWEN_SPECIAL_TOKENS

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


__all__ = ["GPU_PEAK_TFLOPS", "SIZES", "forward_flops", "gve_config", "gve_flops", "input_shape", "text_params", "vision_params"]
