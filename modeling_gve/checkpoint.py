# Copyright 2026 The GVE package authors. Apache-2.0.
"""What a GVE checkpoint holds, and the one writer of it.

A checkpoint folder loads four ways: ``GVEModel.from_pretrained``, ``AutoModel.from_pretrained(...,
trust_remote_code=True)`` without this package, ``SentenceTransformer(..., trust_remote_code=True)``,
and ``AutoModel`` without remote code once ``import modeling_gve`` has registered the classes. It holds:

* ``config.json`` (``model_type: gve``, an ``auto_map``) and the weights (``model.safetensors``, or
  shards and their index; transformers 5 key names, no ``lm_head``);
* the processor files with GVE's preprocessing settings (``processor_config.json``, tokenizer,
  chat template);
* the remote-code files (`REMOTE_CODE_FILES`);
* the sentence-transformers files (`SENTENCE_TRANSFORMERS_FILES`): one `GVETransformer` module, the
  16 UVRB task prompts plus ``"document"`` as named prompts, cosine similarity, and the processor's
  sampling settings as the module's ``processing_kwargs``. They are what sentence-transformers itself
  writes for such a model.

`save_gve_checkpoint` writes all of it (``gve convert`` and training's final save);
`GVETransformer.save` writes the model part through the same `save_gve_files`, and
sentence-transformers writes its own files around it.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

import sentence_transformers
import torch
import transformers
from sentence_transformers.base.modality import format_modality

from .sentence_transformers_gve import (
    MODALITY_CONFIG,
    MODULE_OUTPUT_NAME,
    processing_kwargs_from_sampling,
    save_gve_files,
)
from .uvrb.tasks import task_prompts

REMOTE_CODE_FILES = (
    "configuration_gve.py",
    "modeling_gve.py",
    "processing_gve.py",
    "video.py",
    "sentence_transformers_gve.py",
)
SENTENCE_TRANSFORMERS_FILES = ("modules.json", "config_sentence_transformers.json", "sentence_bert_config.json")
# Written into every checkpoint under these names.
CHECKPOINT_FILES = ("config.json", "processor_config.json", *REMOTE_CODE_FILES, *SENTENCE_TRANSFORMERS_FILES)
# Written depending on the model's size and its tokenizer: weights (one file, or shards and an
# index) and tokenizer files.
OPTIONAL_CHECKPOINT_FILES = (
    "model.safetensors",
    "model-*-of-*.safetensors",
    "model.safetensors.index.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "chat_template.jinja",
    "chat_template.json",
    "vocab.json",
    "merges.txt",
    "special_tokens_map.json",
    "added_tokens.json",
    "generation_config.json",
)

MODULE_TYPE = "sentence_transformers_gve.GVETransformer"  # how modules.json names a remote-code class
# Checked by sentence-transformers before loading (``config_sentence_transformers.json``).
REQUIREMENTS = {
    "sentence_transformers": {"specifier": ">=6.0", "reason": "GVETransformer subclasses the v6 Transformer module"},
    "torchcodec": {"specifier": ">=0.14", "reason": "GVE decodes the sampled video frames with torchcodec"},
}


def is_checkpoint_file(name: str) -> bool:
    """Whether a file called ``name`` (top level of the folder) is part of a GVE checkpoint."""
    return name in CHECKPOINT_FILES or any(fnmatch.fnmatchcase(name, p) for p in OPTIONAL_CHECKPOINT_FILES)


def sentence_transformers_prompts(candidate_instruction: str) -> dict[str, str]:
    """Named prompts: each UVRB task's query instruction, and ``"document"`` for candidates."""
    return {**task_prompts(), "document": candidate_instruction}


def write_sentence_transformers_files(processor: Any, folder: str | Path) -> None:
    """Write `SENTENCE_TRANSFORMERS_FILES` into ``folder`` (the code is written by `save_gve_files`)."""
    folder = Path(folder)
    modules = [{"idx": 0, "name": "0", "path": "", "type": MODULE_TYPE}]
    model_config = {
        "model_type": "SentenceTransformer",
        "__version__": {
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "pytorch": torch.__version__,
        },
        "prompts": sentence_transformers_prompts(processor.instruction),
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
        "requirements": REQUIREMENTS,
    }
    module_config = {
        "transformer_task": "feature-extraction",
        "modality_config": {format_modality(m): params for m, params in MODALITY_CONFIG.items()},
        "module_output_name": MODULE_OUTPUT_NAME,
        "processing_kwargs": processing_kwargs_from_sampling(processor.sampling),
        "unpad_inputs": False,
    }
    (folder / "modules.json").write_text(json.dumps(modules, indent=2))
    (folder / "config_sentence_transformers.json").write_text(json.dumps(model_config, indent=2, sort_keys=True))
    (folder / "sentence_bert_config.json").write_text(json.dumps(module_config, indent=4))


def save_gve_checkpoint(model: Any, processor: Any, folder: str | Path) -> Path:
    """Write ``model`` (a `GVEModel`) and ``processor`` as a self-contained GVE checkpoint (see the
    module docstring)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_gve_files(model, processor, folder)
    write_sentence_transformers_files(processor, folder)
    return folder


__all__ = [
    "CHECKPOINT_FILES",
    "MODULE_TYPE",
    "OPTIONAL_CHECKPOINT_FILES",
    "REMOTE_CODE_FILES",
    "SENTENCE_TRANSFORMERS_FILES",
    "is_checkpoint_file",
    "save_gve_checkpoint",
    "sentence_transformers_prompts",
    "write_sentence_transformers_files",
]
