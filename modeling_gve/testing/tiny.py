# Copyright 2026 The GVE package authors. Apache-2.0.
"""Tiny random GVE checkpoints, for tests, docs and benchmarks.

Nothing here needs the Hub: the tokenizer is a byte-level Qwen2 tokenizer with Qwen's
special tokens, built offline; the checkpoint is saved in the layout of the released
GVE-3B/7B (a transformers 4.x ``Qwen2_5_VLForConditionalGeneration`` save) or of a
transformers 5.x save.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
import torch

QWEN_SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
]

# Qwen2.5-VL-Instruct's chat template (what the released checkpoints ship).
QWEN2_5_VL_CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: "
    "{% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_tokenizer():
    """A byte-level `Qwen2Tokenizer` (256 byte symbols, no merges) plus Qwen's special tokens."""
    from transformers import Qwen2Tokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    vocab = {symbol: i for i, symbol in enumerate(bytes_to_unicode().values())}
    for token in QWEN_SPECIAL_TOKENS:
        vocab[token] = len(vocab)
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=[],
        unk_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=QWEN_SPECIAL_TOKENS[1:],
        model_max_length=32768,
    )
    return tokenizer


def tiny_config_dict(tokenizer, hidden_size: int = 64, num_layers: int = 2, vision_depth: int = 2) -> dict:
    """A config.json in the released (transformers 4.x, flat) Qwen2.5-VL layout, tiny sizes."""
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in QWEN_SPECIAL_TOKENS}
    head_dim = 16  # mrope_section below must sum to head_dim / 2
    return {
        "architectures": ["Qwen2_5_VLForConditionalGeneration"],
        "model_type": "qwen2_5_vl",
        "attention_dropout": 0.0,
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "hidden_act": "silu",
        "hidden_size": hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": 2 * hidden_size,
        "max_position_embeddings": 32768,
        "max_window_layers": num_layers,
        "num_attention_heads": hidden_size // head_dim,
        "num_hidden_layers": num_layers,
        "num_key_value_heads": max(1, hidden_size // head_dim // 2),
        "rms_norm_eps": 1e-06,
        "rope_theta": 1000000.0,
        "sliding_window": 32768,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "transformers_version": "4.49.0",
        "use_cache": True,
        "use_sliding_window": False,
        "vocab_size": len(tokenizer) + (-len(tokenizer)) % 32,
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
        "vision_token_id": ids["<|vision_pad|>"],
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "vision_config": {
            "depth": vision_depth,
            "hidden_act": "silu",
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "in_chans": 3,
            "out_hidden_size": hidden_size,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "spatial_patch_size": 14,
            "window_size": 112,
            "fullatt_block_indexes": [vision_depth - 1],
            "tokens_per_second": 2,
            "temporal_patch_size": 2,
        },
        "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3]},
    }


def save_qwen_processor(tokenizer, path: str | Path, layout: Literal["v4", "v5"] = "v4") -> None:
    """Save the processor files a Qwen2.5-VL/GVE checkpoint carries: ``v4`` writes the
    released files (``preprocessor_config.json``, ``chat_template.json``, tokenizer), ``v5``
    a transformers 5.x ``processor_config.json``."""
    path = Path(path)
    if layout == "v4":
        tokenizer.save_pretrained(str(path))
        preprocessor = {
            "min_pixels": 3136,
            "max_pixels": 12845056,
            "patch_size": 14,
            "temporal_patch_size": 2,
            "merge_size": 2,
            "image_mean": [0.48145466, 0.4578275, 0.40821073],
            "image_std": [0.26862954, 0.26130258, 0.27577711],
            "image_processor_type": "Qwen2VLImageProcessor",
            "processor_class": "Qwen2_5_VLProcessor",
        }
        (path / "preprocessor_config.json").write_text(json.dumps(preprocessor, indent=2))
        (path / "chat_template.json").write_text(json.dumps({"chat_template": QWEN2_5_VL_CHAT_TEMPLATE}, indent=2))
        return
    from transformers import Qwen2_5_VLProcessor, Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    processor = Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(min_pixels=3136, max_pixels=12845056),
        tokenizer=tokenizer,
        video_processor=Qwen2VLVideoProcessor(),
        chat_template=QWEN2_5_VL_CHAT_TEMPLATE,
    )
    processor.save_pretrained(str(path))


def make_tiny_checkpoint(
    path: str | Path,
    *,
    layout: Literal["v4", "v5"] = "v4",
    seed: int = 0,
    hidden_size: int = 64,
    num_layers: int = 2,
    init_std: float = 0.2,
    num_shards: int = 1,
) -> Path:
    """Write a random-weight GVE checkpoint in the released layout.

    Args:
        path: output folder (created).
        layout: ``"v4"``: transformers 4.x key names (``model.layers.*``, ``visual.*``) and flat
            config, as ``Alibaba-NLP/GVE-3B`` is published; ``"v5"``: a transformers 5.x save.
        seed: weights are a deterministic function of the seed.
        init_std: weight init scale; larger than Qwen's 0.02 so that different inputs give
            clearly different embeddings (parity tests must be able to fail).
        num_shards: split the weights over this many safetensors files (with an index).

    Returns:
        The folder, loadable by `GVEModel.from_pretrained` and by stock
        `Qwen2_5_VLForConditionalGeneration.from_pretrained`.
    """
    from safetensors.torch import save_file
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tiny_tokenizer()
    config_dict = tiny_config_dict(tokenizer, hidden_size=hidden_size, num_layers=num_layers)
    config_dict["initializer_range"] = init_std
    config_dict["vision_config"]["initializer_range"] = init_std
    config = Qwen2_5_VLConfig(**{k: v for k, v in config_dict.items() if k not in ("architectures",)})
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config).eval()
    with torch.no_grad():  # norms at 1 + noise so they are not a no-op
        for name, param in model.named_parameters():
            if param.ndim == 1 and "norm" in name:
                param.copy_(1.0 + 0.1 * torch.randn_like(param))
    if layout == "v5":
        model.save_pretrained(str(path))
    elif layout == "v4":
        state = {}
        for key, value in model.state_dict().items():
            if key.startswith("model.visual."):
                key = key.removeprefix("model.")
            elif key.startswith("model.language_model."):
                key = "model." + key.removeprefix("model.language_model.")
            state[key] = value.detach().contiguous().clone()
        _save_sharded(state, path, num_shards, save_file)
        (path / "config.json").write_text(json.dumps(config_dict, indent=2))
        (path / "generation_config.json").write_text(
            json.dumps({"bos_token_id": config_dict["bos_token_id"], "eos_token_id": config_dict["eos_token_id"]})
        )
    else:
        raise ValueError(f"layout must be 'v4' or 'v5', got {layout!r}")
    save_qwen_processor(tokenizer, path, layout=layout)
    return path


def _save_sharded(state: dict, path: Path, num_shards: int, save_file) -> None:
    keys = sorted(state)
    if num_shards <= 1:
        save_file(state, str(path / "model.safetensors"), metadata={"format": "pt"})
        return
    weight_map, size = {}, sum(v.numel() * v.element_size() for v in state.values())
    for shard, chunk in enumerate(np.array_split(np.array(keys, dtype=object), num_shards)):
        name = f"model-{shard + 1:05d}-of-{num_shards:05d}.safetensors"
        save_file({k: state[k] for k in chunk}, str(path / name), metadata={"format": "pt"})
        weight_map.update({k: name for k in chunk})
    index = {"metadata": {"total_size": size}, "weight_map": weight_map}
    (path / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))


__all__ = ["QWEN2_5_VL_CHAT_TEMPLATE", "build_tiny_tokenizer", "make_tiny_checkpoint", "save_qwen_processor", "tiny_config_dict"]
