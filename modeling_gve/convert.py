# Copyright 2026 The GVE package authors. Apache-2.0.
"""`gve convert`: a released or trained GVE checkpoint -> a self-contained packaged checkpoint
(what it holds: `modeling_gve.checkpoint`).
"""

from __future__ import annotations

from pathlib import Path

import torch

from ._deprecation import moved_names
from .checkpoint import save_gve_checkpoint
from .modeling_gve import GVEModel
from .processing_gve import GVEProcessor


def convert_checkpoint(
    src: str | Path,
    dst: str | Path,
    *,
    revision: str | None = None,
    dtype: str | torch.dtype = "auto",
    sampling: dict | None = None,
) -> Path:
    """Convert ``src`` (a local folder or a Hub id such as ``Alibaba-NLP/GVE-3B``) into ``dst``.

    Args:
        revision: Hub revision (branch, tag or commit) of ``src``.
        dtype: weight dtype of the output; ``"auto"`` keeps the checkpoint's.
        sampling: overrides of the preprocessing defaults saved with the processor.
    """
    model = GVEModel.from_pretrained(str(src), revision=revision, dtype=dtype)
    processor_kwargs = {"sampling": sampling} if sampling else {}
    processor = GVEProcessor.from_pretrained(str(src), revision=revision, **processor_kwargs)
    return save_gve_checkpoint(model, processor, dst)


__getattr__ = moved_names(
    __name__,
    {
        "GVEConfig": "modeling_gve.configuration_gve:GVEConfig",
        "REMOTE_CODE_FILES": "modeling_gve.checkpoint:REMOTE_CODE_FILES",
    },
)

__all__ = ["convert_checkpoint"]
