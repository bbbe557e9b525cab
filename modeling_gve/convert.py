# Copyright 2026 The GVE package authors. Apache-2.0.
"""A released or trained GVE checkpoint -> a self-contained packaged checkpoint (`gve convert`).

The output folder holds:
  * ``config.json`` with ``model_type: gve`` and an ``auto_map``, ``model.safetensors``
    (transformers 5 key names, no ``lm_head``);
  * the processor files with GVE's preprocessing defaults (``processor_config.json``,
    tokenizer, chat template);
  * the remote-code files (``configuration_gve.py``, ``modeling_gve.py``,
    ``processing_gve.py``, ``video.py``), so that
    ``AutoModel.from_pretrained(DST, trust_remote_code=True)`` works without this package,
    and ``import modeling_gve`` makes it load without remote code;
  * the sentence-transformers files (`sentence_transformers_checkpoint.py`), so that
    ``SentenceTransformer(DST, trust_remote_code=True)`` loads it too.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import torch

from .configuration_gve import GVEConfig
from .modeling_gve import GVEModel
from .processing_gve import GVEProcessor
from .sentence_transformers_checkpoint import write_sentence_transformers_files

REMOTE_CODE_FILES = ("configuration_gve.py", "modeling_gve.py", "processing_gve.py", "video.py")
MODEL_AUTO_MAP = {"AutoConfig": "configuration_gve.GVEConfig", "AutoModel": "modeling_gve.GVEModel"}
PROCESSOR_AUTO_MAP = {"AutoProcessor": "processing_gve.GVEProcessor"}

# Extra writers run by `save_gve_checkpoint` (e.g. the sentence-transformers files); each
# takes (model, processor, folder). Kept as an explicit list so a reader sees every file.
CHECKPOINT_WRITERS: list[Callable[[GVEModel, GVEProcessor, Path], None]] = [write_sentence_transformers_files]


def save_gve_checkpoint(model: GVEModel, processor: GVEProcessor, folder: str | Path) -> Path:
    """Write ``model`` and ``processor`` as a self-contained GVE checkpoint (see module doc)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.config.architectures = ["GVEModel"]
    model.config.auto_map = dict(MODEL_AUTO_MAP)
    # transformers 5 key names, whatever layout the weights were loaded from
    model.save_pretrained(str(folder), save_original_format=False)
    processor.auto_map = dict(PROCESSOR_AUTO_MAP)
    processor.save_pretrained(str(folder))
    source = Path(__file__).parent
    for name in REMOTE_CODE_FILES:
        shutil.copyfile(source / name, folder / name)
    for writer in CHECKPOINT_WRITERS:
        writer(model, processor, folder)
    return folder


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


__all__ = ["convert_checkpoint", "save_gve_checkpoint", "REMOTE_CODE_FILES", "CHECKPOINT_WRITERS", "GVEConfig"]
