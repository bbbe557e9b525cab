# Copyright 2026 The GVE package authors. Apache-2.0.
"""GVE, the General Video Embedder, for transformers and sentence-transformers.

Importing this package registers GVE with the transformers Auto classes, so a converted
checkpoint loads with ``AutoModel.from_pretrained(path)`` without ``trust_remote_code``.
The model code (torch, transformers) is imported on first use of a name below, and the
registration once transformers' Auto classes are imported (`modeling_gve.registration`):
``import modeling_gve`` and the ``gve`` command start without loading torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import registration

__version__ = "0.1.0"

# public name -> the module that defines it (imported on first access, PEP 562)
_EXPORTS = {
    "GVEConfig": "configuration_gve",
    "EncodeResult": "modeling_gve",
    "GVEModel": "modeling_gve",
    "GVEModelOutput": "modeling_gve",
    "GVEPreTrainedModel": "modeling_gve",
    "SkippedInput": "modeling_gve",
    "DEFAULT_INSTRUCTION": "processing_gve",
    "GVEProcessor": "processing_gve",
    "SamplingConfig": "processing_gve",
    "format_prompt": "processing_gve",
    "GVEInputError": "video",
    "SampledVideo": "video",
    "VideoFrames": "video",
    "read_image": "video",
    "read_video": "video",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    registration.register_auto_classes()  # the model code is loaded now: register at once
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


registration.arm()

__all__ = sorted(_EXPORTS)
