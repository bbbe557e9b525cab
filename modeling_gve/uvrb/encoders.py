# Copyright 2026 The GVE package authors. Apache-2.0.
"""Deprecated: the encoders are the package's, not UVRB's; see `modeling_gve.encoders`."""

from __future__ import annotations

from .._deprecation import warn_moved
from ..encoders import (
    GVE_MODEL_TYPES,
    EncoderKind,
    GVEEncoder,
    SentenceTransformerEncoder,
    detect_encoder,
    load_encoder,
)
from ..encoders import Encoder as UVRBEncoder

warn_moved("modeling_gve.uvrb.encoders", "modeling_gve.encoders")

__all__ = [
    "GVE_MODEL_TYPES",
    "EncoderKind",
    "GVEEncoder",
    "SentenceTransformerEncoder",
    "UVRBEncoder",
    "detect_encoder",
    "load_encoder",
]
