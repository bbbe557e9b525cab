# Copyright 2026 The GVE package authors. Apache-2.0.
"""Loading a GVE model for inference, and encoding a list of media through the on-disk cache."""

from __future__ import annotations

from typing import Any, Sequence

import torch
from tqdm.auto import tqdm

from .embedding_cache import EmbeddingCache, model_fingerprint
from .hub_ids import DEFAULT_MODEL
from .modeling_gve import EncodeResult, GVEModel, SkippedInput
from .processing_gve import describe_item


def default_device() -> str:
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def load_gve(
    name_or_path: str = DEFAULT_MODEL,
    *,
    revision: str | None = None,
    device: str | None = None,
    dtype: str | torch.dtype | None = None,
    attn_implementation: str | None = None,
) -> GVEModel:
    """A GVE model ready to embed: bf16 on GPU, float32 on CPU unless ``dtype`` says otherwise.

    ``name_or_path`` is a Hub id (``Alibaba-NLP/GVE-3B``, ``Alibaba-NLP/GVE-7B``), a released
    checkpoint folder, or a converted/trained one. Hub downloads honour ``revision``,
    ``HF_HUB_OFFLINE`` and the Hugging Face cache.
    """
    device = device or default_device()
    if dtype is None:
        dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    elif isinstance(dtype, str) and dtype != "auto":
        dtype = getattr(torch, dtype)
    kwargs: dict[str, Any] = {"revision": revision, "dtype": dtype}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    model = GVEModel.from_pretrained(name_or_path, **kwargs)
    return model.to(device).eval()


def cache_settings(model: GVEModel, instruction: str | None = None, **sampling: Any) -> dict:
    """Everything an embedding depends on besides the input: the namespace of a cache."""
    processor = model.processor
    return {
        "model": model_fingerprint(model),
        "dtype": str(model.dtype),
        "sampling": processor.sampling_config(**sampling).to_dict(),
        "instruction": instruction if instruction is not None else processor.instruction,
        "protocol": "gve-last-token-v1",
    }


def encode_cached(
    model: GVEModel,
    items: Sequence[Any],
    keys: Sequence[str],
    cache: EmbeddingCache,
    *,
    instruction: str | None = None,
    batch_size: int = 8,
    flush_every: int = 64,
    num_workers: int = 0,
    show_progress_bar: bool = True,
    **sampling: Any,
) -> EncodeResult:
    """Embed ``items`` through ``cache``: only keys not yet cached are encoded, in chunks of
    ``flush_every`` that are written to disk as they finish (an interrupted run resumes);
    inputs that fail are recorded in the cache with their reason and reported, not retried.

    Args:
        items: inputs accepted by `GVEModel.encode`; ``keys[i]`` identifies ``items[i]``'s
            content (e.g. `file_fingerprint`). Equal keys are encoded once.

    Returns:
        `EncodeResult` over ``items``: embeddings of the good ones (in order), their indices,
        and the failed ones.
    """
    if len(items) != len(keys):
        raise ValueError(f"{len(items)} items but {len(keys)} keys")
    first = {}
    for index, key in enumerate(keys):
        first.setdefault(key, index)
    todo = cache.missing(keys)
    progress = tqdm(total=len(todo), desc="Encoding", unit="item", disable=not show_progress_bar or not todo)
    for start in range(0, len(todo), flush_every):
        chunk = todo[start : start + flush_every]
        result = model.encode(
            [items[first[k]] for k in chunk],
            instruction=instruction,
            batch_size=batch_size,
            on_error="skip",
            num_workers=num_workers,
            **sampling,
        )
        cache.put([chunk[i] for i in result.indices], result.embeddings)
        cache.put_errors({chunk[e.index]: f"{e.input}: {e.reason}" for e in result.errors})
        progress.update(len(chunk))
    progress.close()

    failed = cache.errors
    good = [i for i, key in enumerate(keys) if key not in failed]
    errors = [
        SkippedInput(index=i, input=describe_item(items[i]), reason=failed[key])
        for i, key in enumerate(keys)
        if key in failed
    ]
    hidden = model.config.text_config.hidden_size
    embeddings = cache.get([keys[i] for i in good]) if good else torch.empty(0, hidden)
    return EncodeResult(embeddings=embeddings, indices=good, errors=errors)


__all__ = ["DEFAULT_MODEL", "cache_settings", "default_device", "encode_cached", "load_gve"]
