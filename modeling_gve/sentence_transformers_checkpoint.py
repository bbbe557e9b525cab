# Copyright 2026 The GVE package authors. Apache-2.0.
"""The sentence-transformers files of a GVE checkpoint, written by every `save_gve_checkpoint`.

With them, ``SentenceTransformer(folder, trust_remote_code=True)`` loads the folder as one
`GVETransformer` module (``sentence_transformers_gve.py``, copied alongside the other remote-code
files), with the 16 UVRB task instructions as named prompts, the candidate instruction as the
``"document"`` prompt, cosine similarity, and the processor's sampling settings as the module's
``processing_kwargs``. The files are what sentence-transformers itself writes for such a model
(a test re-saves a loaded model and compares).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from .uvrb.tasks import task_prompts

MODULE_FILE = "sentence_transformers_gve.py"
MODULE_TYPE = "sentence_transformers_gve.GVETransformer"  # how modules.json names a remote-code class

# Checked by sentence-transformers before loading (``config_sentence_transformers.json``).
REQUIREMENTS = {
    "sentence_transformers": {"specifier": ">=6.0", "reason": "GVETransformer subclasses the v6 Transformer module"},
    "torchcodec": {"specifier": ">=0.14", "reason": "GVE decodes the sampled video frames with torchcodec"},
}


def sentence_transformers_prompts(candidate_instruction: str) -> dict[str, str]:
    """Named prompts: each UVRB task's query instruction, and ``"document"`` for candidates."""
    return {**task_prompts(), "document": candidate_instruction}


def write_sentence_transformers_files(model: Any, processor: Any, folder: str | Path) -> None:
    """Write ``modules.json``, ``config_sentence_transformers.json``, ``sentence_bert_config.json``
    and the module's code into ``folder`` (a `CHECKPOINT_WRITERS` entry of `convert.py`)."""
    # Imported here: sentence-transformers is only needed when a checkpoint is written.
    import sentence_transformers
    import torch
    import transformers
    from sentence_transformers.base.modality import format_modality
    from transformers.dynamic_module_utils import get_relative_import_files

    from . import sentence_transformers_gve as module

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
        "modality_config": {format_modality(m): params for m, params in module.MODALITY_CONFIG.items()},
        "module_output_name": module.MODULE_OUTPUT_NAME,
        "processing_kwargs": module.processing_kwargs_from_sampling(processor.sampling),
        "unpad_inputs": False,
    }
    (folder / "modules.json").write_text(json.dumps(modules, indent=2))
    (folder / "config_sentence_transformers.json").write_text(json.dumps(model_config, indent=2, sort_keys=True))
    (folder / "sentence_bert_config.json").write_text(json.dumps(module_config, indent=4))
    for source in [module.__file__, *get_relative_import_files(module.__file__)]:
        shutil.copyfile(source, folder / Path(source).name)


__all__ = ["write_sentence_transformers_files", "sentence_transformers_prompts", "MODULE_TYPE"]
