# Copyright 2026 The GVE package authors. Apache-2.0.
"""vLLM pooling requests that give `GVEModel.encode`'s embeddings (recipe: ``recipes/vllm/``).

vLLM runs GVE's backbone (``Qwen2_5_VLForConditionalGeneration``) with its pooling runner
(``runner="pooling", convert="embed"``: the last token's hidden state, L2-normalised). What makes the
vectors GVE's is the request, built here on the client:

* ``prompt_token_ids``: `format_prompt` (instruction in the system turn; videos, images, then text) with
  the appended ``<|endoftext|>``, tokenized with the checkpoint's tokenizer, one placeholder token per
  image or video (vLLM expands it), truncated as `GVEProcessor.tokenize_item` truncates;
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

from ..processing_gve import GVEProcessor, SamplingConfig, format_prompt, read_item
from ..video import GVEInputError

CHAT_TEMPLATE_PATH = Path(__file__).with_name("gve_chat_template.jinja")

# vLLM's pooling runner on GVE's backbone: last-token pooling, L2-normalised (vLLM's defaults for
# ``convert="embed"``, spelled out so a changed default cannot change the vectors silently).
VLLM_ENGINE_ARGS = {"runner": "pooling", "convert": "embed", "max_model_len": 8192}
POOLER = {"pooling_type": "LAST", "normalize": True}

# A converted checkpoint (``gve convert``) says ``model_type: gve``; vLLM knows the backbone by its
# Qwen2.5-VL names.
HF_OVERRIDES_FOR_CONVERTED = {"architectures": ["Qwen2_5_VLForConditionalGeneration"], "model_type": "qwen2_5_vl"}


def _media_tokens(processor: GVEProcessor, frames: int, height: int, width: int) -> int:
    """Tokens one image (``frames=1``) or video becomes in the language model: its patch grid
    ``(T / temporal_patch_size, H / patch, W / patch)`` over ``merge_size**2``."""
    image = processor.image_processor
    temporal = processor.video_processor.temporal_patch_size
    grid_t = max(frames // temporal, 1)
    return grid_t * (height // image.patch_size) * (width // image.patch_size) // image.merge_size**2


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
    loaded = read_item(item, config)
    prompt = format_prompt(
        instruction if instruction is not None else processor.instruction,
        loaded.text,
        num_images=len(loaded.images),
        num_videos=len(loaded.videos),
    )
    ids = processor.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    tokens = [_media_tokens(processor, len(v.frames), *v.frames.shape[-2:]) for v in loaded.videos]
    tokens += [_media_tokens(processor, 1, image.height, image.width) for image in loaded.images]
    extra = sum(n - 1 for n in tokens)  # each placeholder becomes n tokens in vLLM
    ids = _truncate(processor, ids, extra, config.max_length, loaded.name)
    request: dict = {"prompt_token_ids": ids + [processor.embed_token_id]}
    if not tokens:
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


def _truncate(processor: GVEProcessor, ids: list[int], extra: int, max_length: int, name: str) -> list[int]:
    """`GVEProcessor.tokenize_item`'s rule on the expanded prompt (keep ``max_length - 1`` tokens, then
    the embedding token; never cut a visual token), applied to the unexpanded ``ids``."""
    keep = max_length - 1
    if len(ids) + extra <= keep:
        return ids
    last_visual = max((i for i, t in enumerate(ids) if t in processor.vision_token_ids), default=-1)
    if last_visual + extra >= keep:
        raise GVEInputError(
            name,
            f"needs {len(ids) + extra + 1} tokens, more than max_length={max_length}, and its visual tokens "
            "would be cut; raise max_length or lower max_frames / video_max_pixels",
        )
    return ids[: keep - extra]


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
