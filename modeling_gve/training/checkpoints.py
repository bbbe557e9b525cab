# Copyright 2026 The GVE package authors. Apache-2.0.
"""Training checkpoints: find one to resume from, save (atomically, pruning old ones), resume, and
the final merged GVE checkpoint.

``<output_dir>/checkpoints/checkpoint-<step>`` holds, through ``accelerator.save_state``: the LoRA
weights (safetensors; the frozen base is not copied), optimizer, scheduler and every process's RNG
states; plus ``trainer_state.json``: step, data position of every task, curriculum scores,
counters. A checkpoint is written to a ``.tmp`` folder and renamed when complete, so a run killed
while saving resumes from the previous one. Resuming with the same number of processes continues
the same trajectory.

At the end the adapters are merged and ``<output_dir>`` becomes a self-contained GVE checkpoint,
written by the one checkpoint writer (`modeling_gve.checkpoint.save_gve_checkpoint`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import DistributedType
from safetensors.torch import load_file, save_file

from ..checkpoint import save_gve_checkpoint
from .config import ModelArguments
from .model import adapter_state_dict, merged_model

logger = logging.getLogger(__name__)

ADAPTER_FILE = "adapter_model.safetensors"
STATE_FILE = "trainer_state.json"
CHECKPOINT_PATTERN = re.compile(r"^checkpoint-(\d+)$")


def find_checkpoint(output_dir: Path, resume: str | None) -> Path | None:
    """``resume``: ``"latest"`` (newest complete checkpoint, or None) or a checkpoint folder."""
    if resume is None:
        return None
    if resume != "latest":
        path = Path(resume)
        if not (path / STATE_FILE).is_file():
            raise FileNotFoundError(f"resume_from_checkpoint {resume!r} is not a complete checkpoint folder")
        return path
    found = [(step, path) for step, path in complete_checkpoints(output_dir / "checkpoints")]
    return max(found)[1] if found else None


def complete_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """``(step, folder)`` of the complete checkpoints in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := CHECKPOINT_PATTERN.match(p.name))]
    return sorted((step, path) for step, path in found if (path / STATE_FILE).is_file())


def register_adapter_hooks(accelerator: Accelerator) -> None:
    """Make ``accelerator.save_state`` / ``load_state`` write and read only the LoRA weights of a
    non-sharded model (FSDP and DeepSpeed save their own sharded model state)."""

    def save_adapters(models: list, weights: list, output_dir: str) -> None:
        if not weights:
            return  # FSDP / DeepSpeed save their own (sharded) model state
        weights.clear()  # not the full state dict: the frozen base is not copied into every checkpoint
        if accelerator.is_main_process:
            state = adapter_state_dict(accelerator.unwrap_model(models[0]))
            save_file(state, os.path.join(output_dir, ADAPTER_FILE), metadata={"format": "pt"})

    def load_adapters(models: list, input_dir: str) -> None:
        if not models:
            return
        model = accelerator.unwrap_model(models.pop(0))
        state = load_file(os.path.join(input_dir, ADAPTER_FILE))
        expected = {n for n, p in model.named_parameters() if p.requires_grad}
        if set(state) != expected:
            raise ValueError(f"{input_dir}: adapter weights do not match the model's LoRA parameters")
        model.load_state_dict(state, strict=False)

    accelerator.register_save_state_pre_hook(save_adapters)
    accelerator.register_load_state_pre_hook(load_adapters)


def save_checkpoint(
    accelerator: Accelerator, output_dir: Path, step: int, state: dict[str, Any], save_total_limit: int | None
) -> Path:
    """Write ``checkpoints/checkpoint-<step>`` (accelerate state + ``state`` as ``trainer_state.json``)
    through a ``.tmp`` folder renamed when complete; keep the newest ``save_total_limit``. Every
    process calls it."""
    folder = output_dir / "checkpoints"
    final, tmp = folder / f"checkpoint-{step}", folder / f"checkpoint-{step}.tmp"
    if accelerator.is_main_process:
        for stale in folder.glob("checkpoint-*.tmp"):  # left by a run killed while saving
            shutil.rmtree(stale, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (tmp / STATE_FILE).write_text(json.dumps({**state, "num_processes": accelerator.num_processes}, indent=2))
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)  # complete checkpoints only ever appear under their final name
        if save_total_limit is not None:  # >= 1 (TrainingArguments): the newest one stays
            for _, path in complete_checkpoints(folder)[:-save_total_limit]:
                shutil.rmtree(path, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def load_checkpoint(accelerator: Accelerator, checkpoint: Path) -> dict[str, Any]:
    """Restore the accelerate state of ``checkpoint``; returns its ``trainer_state.json``.

    Raises:
        ValueError: it was written by another number of processes (the data sharding depends on it).
    """
    state = json.loads((checkpoint / STATE_FILE).read_text())
    if state["num_processes"] != accelerator.num_processes:
        raise ValueError(
            f"{checkpoint} was written by {state['num_processes']} processes; resume with the same number "
            f"(got {accelerator.num_processes}): the data sharding depends on it"
        )
    accelerator.load_state(str(checkpoint))
    return state


def save_merged_model(
    accelerator: Accelerator, model: torch.nn.Module, model_args: ModelArguments, processor: Any, output_dir: Path
) -> Path:
    """Merge the trained LoRA adapters into the base and write ``output_dir`` as a GVE checkpoint
    (`save_gve_checkpoint`). Every process calls it; the main process writes."""
    accelerator.wait_for_everyone()
    if accelerator.distributed_type in (DistributedType.FSDP, DistributedType.DEEPSPEED):
        full = accelerator.get_state_dict(model)  # a collective: every process takes part
        adapters = {k: v.cpu() for k, v in full.items() if "lora_" in k} if accelerator.is_main_process else {}
    else:
        adapters = adapter_state_dict(accelerator.unwrap_model(model)) if accelerator.is_main_process else {}
    if accelerator.is_main_process:
        save_gve_checkpoint(merged_model(model_args, adapters), processor, output_dir)
        logger.info("Wrote the merged GVE checkpoint to %s", output_dir)
    accelerator.wait_for_everyone()
    return output_dir


__all__ = [
    "ADAPTER_FILE",
    "CHECKPOINT_PATTERN",
    "STATE_FILE",
    "complete_checkpoints",
    "find_checkpoint",
    "load_checkpoint",
    "register_adapter_hooks",
    "save_checkpoint",
    "save_merged_model",
]
