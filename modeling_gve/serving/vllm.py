# Copyright 2026 The GVE package authors. Apache-2.0.
"""vLLM pooling requests that give `GVEModel.encode`'s embeddings (recipe: ``recipes/vllm/``).

vLLM runs GVE's backbone (``Qwen2_5_VLForConditionalGeneration``) with its pooling runner
(``runner="pooling", convert="embed"``: the last token's hidden state, L2-normalised). What makes the
vectors GVE's is the request, built here on the client:

* ``prompt_token_ids``: `GVEProcessor.tokenize_item`'s ids (`format_prompt`: the instruction in the system
  turn; videos, images, then text; the appended ``<|endoftext|>``; truncation), with each image or video
  block collapsed to one placeholder token, which vLLM expands again;
* ``multi_modal_data``: the frames GVE's reader samples and resizes (`read_item`: 8 frames, the
  reference resize), each video as ``(frames (T, H, W, 3) uint8, metadata)`` whose ``fps``,
  ``frames_indices`` and ``total_num_frames`` give ``second_per_grid_ts = 2 / sampled fps``; images
  already resized;
* ``mm_processor_kwargs``: ``do_resize=False`` and ``do_sample_frames=False``, so vLLM's Hugging Face
  processor keeps those frames and sizes; with ``video_metadata="kwargs"`` the metadata also travels
  here (``video_metadata=[...]``), for vLLM versions whose Qwen2.5-VL input parser drops the
  metadata of a ``(frames, metadata)`` video.

`CHAT_TEMPLATE_PATH` is the same prompt as a chat template, for vLLM's online server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from ..processing_gve import GVEProcessor, SamplingConfig

CHAT_TEMPLATE_PATH = Path(__file__).with_name("gve_chat_template.jinja")

# vLLM's pooling runner on GVE's backbone: last-token pooling, L2-normalised (vLLM's defaults for
# ``convert="embed"``, spelled out so a changed default cannot change the vectors silently).
VLLM_ENGINE_ARGS = {"runner": "pooling", "convert": "embed", "max_model_len": 8192}
POOLER = {"pooling_type": "LAST", "normalize": True}

# A converted checkpoint (``gve convert``) says ``model_type: gve``; vLLM knows the backbone by its
# Qwen2.5-VL names.
HF_OVERRIDES_FOR_CONVERTED = {"architectures": ["Qwen2_5_VLForConditionalGeneration"], "model_type": "qwen2_5_vl"}


def vllm_request(
    item: Any,
    processor: GVEProcessor,
    instruction: str | None = None,
    *,
    sampling: SamplingConfig | None = None,
    video_metadata: Literal["tuple", "kwargs"] = "tuple",
) -> dict:
    """One GVE input (anything `GVEModel.encode` takes) as a vLLM pooling request.

    Args:
        item: a text, ``{"video": ...}``, ``{"image": ...}`` or a composition, as for `GVEModel.encode`.
        processor: the checkpoint's `GVEProcessor` (its tokenizer and sampling settings).
        instruction: the system-turn instruction (default: the processor's candidate prompt).
        sampling: overrides of the processor's sampling settings (default: its own).
        video_metadata: ``"tuple"`` sends each video as ``(frames, metadata)``; ``"kwargs"`` sends the
            frames alone and the metadata as ``mm_processor_kwargs["video_metadata"]``.

    Returns:
        ``{"prompt_token_ids": list[int], "multi_modal_data": {...}, "mm_processor_kwargs": {...}}``
        (no ``multi_modal_data`` for a text), to pass to ``vllm.LLM.embed``.

    Raises:
        GVEInputError: a bad input, or one whose visual tokens exceed ``max_length`` (as `encode`).
    """
    if video_metadata not in ("tuple", "kwargs"):
        raise ValueError(f"video_metadata must be 'tuple' or 'kwargs', got {video_metadata!r}")
    config = sampling or processor.sampling_config()
    loaded = processor.load_item(item, config)
    # `encode`'s own token ids (template, user text never read as control tokens, truncation),
    # with each image or video block collapsed to the one placeholder vLLM expands again
    ids = processor.tokenize_item(loaded, instruction, config)["input_ids"].tolist()
    placeholders = {processor.image_token_id, processor.video_token_id}
    request: dict = {"prompt_token_ids": [t for i, t in enumerate(ids) if t not in placeholders or ids[i - 1] != t]}
    if not loaded.images and not loaded.videos:
        return request
    data: dict = {}
    kwargs: dict = {"do_resize": False, "do_sample_frames": False}
    if loaded.videos:
        frames = [v.frames.permute(0, 2, 3, 1).contiguous().numpy() for v in loaded.videos]  # (T, H, W, 3)
        metadata = [dict(v.metadata) for v in loaded.videos]
        if video_metadata == "tuple":
            data["video"] = list(zip(frames, metadata))
        else:
            data["video"] = frames
            kwargs["video_metadata"] = metadata
    if loaded.images:
        data["image"] = list(loaded.images)
    request.update(multi_modal_data=data, mm_processor_kwargs=kwargs)
    return request


def expected_prompt(processor: GVEProcessor, request: dict) -> str:
    """The text of a request's prompt (placeholders unexpanded), for checks and logs."""
    return processor.tokenizer.decode(request["prompt_token_ids"], skip_special_tokens=False)


def pooler_config_kwargs(field_names: set[str]) -> dict:
    """`POOLER` under the field names of the installed vLLM's ``PoolerConfig`` (``pooling_type`` became
    ``seq_pooling_type`` in later versions)."""
    kwargs = {}
    for key, value in POOLER.items():
        if key == "pooling_type" and key not in field_names and "seq_pooling_type" in field_names:
            key = "seq_pooling_type"
        if key in field_names:
            kwargs[key] = value
    return kwargs


__all__ = [
    "CHAT_TEMPLATE_PATH",
    "HF_OVERRIDES_FOR_CONVERTED",
    "POOLER",
    "VLLM_ENGINE_ARGS",
    "expected_prompt",
    "pooler_config_kwargs",
    "vllm_request",
]
