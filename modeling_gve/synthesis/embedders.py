# Copyright 2026 The GVE package authors. Apache-2.0.
"""Deprecated: V-SynFlow embeds through the package's one encoder layer, `modeling_gve.encoders`
(`load_encoder`, roles as ``encode(..., role="query" | "document")``, `CachedEncoder`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from .._deprecation import warn_moved
from ..embedding_cache import EmbeddingCache
from ..encoders import CachedEncoder, Encoder, GVEEncoder, Role, load_encoder, load_gve
from ..modeling_gve import EncodeResult
from ..processing_gve import describe_item

warn_moved("modeling_gve.synthesis.embedders", "modeling_gve.encoders (load_encoder, CachedEncoder)")


class Embedder:
    """Deprecated: ``CachedEncoder(encoder, cache_root).encode(items, instruction, role=role)``."""

    def __init__(self, encoder: Encoder, *, batch_size: int = 8):
        self.encoder, self.batch_size = encoder, batch_size
        self._cached: dict[str, CachedEncoder] = {}

    def instruction_for(self, role: Role, instruction: str | None) -> str | None:
        return self.encoder.instruction_for(role, instruction)

    def cache(self, root: str | os.PathLike, instruction: str | None, *, refresh: bool = False) -> EmbeddingCache:
        return EmbeddingCache(root, self.encoder.cache_settings(instruction))

    def embed(
        self, items: Sequence[Any], keys: Sequence[str], cache_root: str | os.PathLike, *, role: Role,
        instruction: str | None = None, show_progress_bar: bool = True, refresh: bool = False,
    ) -> EncodeResult:  # fmt: skip
        cached = self._cached.setdefault(str(Path(cache_root).resolve()), CachedEncoder(self.encoder, cache_root))
        return cached.encode(
            list(items), instruction, self.batch_size, role=role, keys=keys, show_progress_bar=show_progress_bar
        )


class GVEEmbedder(Embedder):
    def __init__(self, name_or_path: str, *, device: str | None = None, dtype: str | None = None, batch_size: int = 8):
        self.model = load_gve(name_or_path, device=device, dtype=dtype)
        super().__init__(GVEEncoder(self.model), batch_size=batch_size)


class SentenceTransformerEmbedder(Embedder):
    def __init__(
        self, name_or_path: str, *, device: str | None = None, dtype: str | None = None, batch_size: int = 8,
        trust_remote_code: bool = False,
    ):  # fmt: skip
        encoder = load_encoder(name_or_path, kind="sentence-transformers", device=device, dtype=dtype,
                               trust_remote_code=trust_remote_code)  # fmt: skip
        self.model = encoder.model
        super().__init__(encoder, batch_size=batch_size)


def load_embedder(name_or_path: str, kind: str = "gve", **kwargs: Any) -> Embedder:
    """Deprecated: `modeling_gve.encoders.load_encoder`."""
    if kind not in ("gve", "sentence-transformers"):
        raise ValueError(f"embedder_type must be one of gve, sentence-transformers; got {kind!r}")
    return (GVEEmbedder if kind == "gve" else SentenceTransformerEmbedder)(name_or_path, **kwargs)


def cache_root(work_dir: str | os.PathLike) -> Path:
    return Path(work_dir) / "embeddings"


__all__ = [
    "Embedder",
    "GVEEmbedder",
    "Role",
    "SentenceTransformerEmbedder",
    "cache_root",
    "describe_item",
    "load_embedder",
]
