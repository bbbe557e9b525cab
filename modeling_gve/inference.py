# Copyright 2026 The GVE package authors. Apache-2.0.
"""Deprecated: loading and cached encoding live in `modeling_gve.encoders` (`load_gve`,
`GVEEncoder.cache_settings`, `CachedEncoder`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._deprecation import warn_moved
from .embedding_cache import EmbeddingCache
from .encoders import DEFAULT_MODEL, GVEEncoder, default_device, fill_cache, load_gve, read_cache
from .modeling_gve import EncodeResult, GVEModel

warn_moved("modeling_gve.inference", "modeling_gve.encoders")


def cache_settings(model: GVEModel, instruction: str | None = None, **sampling: Any) -> dict:
    """Deprecated: ``GVEEncoder(model, sampling).cache_settings(instruction)``."""
    return GVEEncoder(model, sampling).cache_settings(instruction)


def encode_cached(
    model: Any,
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
    """Deprecated: ``CachedEncoder(GVEEncoder(model, sampling), folder).encode(items, instruction)``."""
    if len(items) != len(keys):
        raise ValueError(f"{len(items)} items but {len(keys)} keys")
    fill_cache(
        model, cache, items, keys, instruction=instruction, batch_size=batch_size, flush_every=flush_every,
        num_workers=num_workers, show_progress_bar=show_progress_bar, **sampling,
    )  # fmt: skip
    dimension = getattr(model, "dimension", None) or model.config.text_config.hidden_size
    return read_cache(cache, items, keys, dimension)


__all__ = ["DEFAULT_MODEL", "cache_settings", "default_device", "encode_cached", "load_gve"]
