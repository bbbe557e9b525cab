# Copyright 2026 The GVE package authors. Apache-2.0.
"""The model being trained: GVE with LoRA on the language model (paper §A.8, Table 9), how batches
are embedded through it (`make_embed`), and the final merge into a self-contained GVE checkpoint.

Only the language model's projections get LoRA adapters; the vision tower, the merger
(projector) and the token embeddings stay frozen, as in the paper. The adapters are
float32 whatever the base dtype (peft's default), so bf16 training updates them in full
precision.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from accelerate.utils import DistributedType

from ..checkpoint import save_gve_checkpoint
from ..modeling_gve import GVEModel, to_model_inputs
from ..processing_gve import GVEProcessor
from .config import ModelArguments

if TYPE_CHECKING:  # peft is imported where it is used: importing the config does not need it
    from accelerate import Accelerator
    from peft import LoraConfig, PeftModel

logger = logging.getLogger(__name__)


def lora_target_regex(targets: list[str]) -> str:
    """A peft ``target_modules`` regex matching ``targets`` in the language model's layers only
    (the vision tower has ``gate_proj``/``up_proj``/``down_proj`` too, and must stay frozen)."""
    return rf"(.*\.)?language_model\.layers\.\d+\.(self_attn|mlp)\.({'|'.join(targets)})"


def lora_config(args: ModelArguments) -> LoraConfig:
    """peft `LoraConfig` of the run: rank, alpha, dropout, and the language-model projections
    of ``args.lora_target_modules`` (`lora_target_regex`)."""
    from peft import LoraConfig

    return LoraConfig(
        r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        target_modules=lora_target_regex(args.lora_target_modules),
        bias="none",
    )


def resolve_attn_implementation(requested: str) -> str:
    """``"auto"`` -> FlashAttention-2 when it is installed and a GPU is present, else sdpa."""
    if requested != "auto":
        return requested
    from transformers.utils import is_flash_attn_2_available

    choice = "flash_attention_2" if torch.cuda.is_available() and is_flash_attn_2_available() else "sdpa"
    logger.info("attn_implementation auto -> %s", choice)
    return choice


def load_base_model(args: ModelArguments) -> GVEModel:
    """The starting checkpoint as a `GVEModel` (released Qwen2.5-VL/GVE layouts both load)."""
    dtype: Any = args.torch_dtype if args.torch_dtype == "auto" else getattr(torch, args.torch_dtype)
    return GVEModel.from_pretrained(
        args.model_name_or_path,
        revision=args.model_revision,
        dtype=dtype,
        attn_implementation=resolve_attn_implementation(args.attn_implementation),
    )


def load_processor(args: ModelArguments) -> GVEProcessor:
    """The checkpoint's processor with this run's sampling settings saved into it, so the
    trained checkpoint preprocesses exactly as it was trained."""
    processor = GVEProcessor.from_pretrained(args.model_name_or_path, revision=args.model_revision)
    processor.sampling = processor.sampling_config(**args.sampling_overrides()).to_dict()
    return processor


def build_training_model(args: ModelArguments) -> PeftModel:
    """`GVEModel` wrapped by peft with LoRA adapters; only the adapters require grad."""
    from peft import get_peft_model

    model = load_base_model(args)
    model.config.use_cache = False
    if args.gradient_checkpointing:
        # non-reentrant: works with DDP, several forwards per step (queries, candidates) and GradCache
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    model = get_peft_model(model, lora_config(args))
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    frozen_parts = [n for n in trainable if "lora_" not in n or "language_model" not in n]
    if frozen_parts:  # the paper freezes the vision tower, merger and embeddings
        raise RuntimeError(f"parameters outside the language model's LoRA adapters are trainable: {frozen_parts[:5]}")
    if not trainable:
        raise RuntimeError(f"no LoRA adapter was created for targets {args.lora_target_modules}")
    return model


def make_embed(
    model: torch.nn.Module, processor: GVEProcessor, device: torch.device, dtype: torch.dtype
) -> Callable[[list[dict]], torch.Tensor]:
    """Tokenized items -> ``(n, D)`` embeddings through ``model`` (the one GVE protocol:
    `GVEProcessor.collate`, then `GVEModel.forward`)."""

    def embed(features: list[dict]) -> torch.Tensor:
        return model(**to_model_inputs(processor.collate(features), device, dtype)).embeddings

    return embed


def is_sharded(accelerator: Accelerator) -> bool:
    """Whether every forward pass of the prepared model is a collective (FSDP, DeepSpeed ZeRO-3)."""
    if accelerator.distributed_type == DistributedType.FSDP:
        return True
    plugin = accelerator.state.deepspeed_plugin if accelerator.distributed_type == DistributedType.DEEPSPEED else None
    return plugin is not None and plugin.zero_stage == 3


def adapter_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The trainable (LoRA) parameters of an unwrapped peft model, by name, on CPU."""
    return {n: p.detach().cpu().clone() for n, p in model.named_parameters() if p.requires_grad}


def merged_model(args: ModelArguments, adapter_state: dict[str, torch.Tensor]) -> GVEModel:
    """A fresh copy of the base model with the trained LoRA weights merged in.

    Works the same whatever sharded the training model (DDP, FSDP, DeepSpeed): only the
    adapter weights, gathered on the main process, are needed.
    """
    from peft import get_peft_model

    base = load_base_model(args)
    peft_model = get_peft_model(base, lora_config(args))
    missing = set(adapter_state) - set(peft_model.state_dict())
    if missing:
        raise ValueError(f"adapter weights do not fit the model: {sorted(missing)[:5]}")
    result = peft_model.load_state_dict(adapter_state, strict=False)
    if result.unexpected_keys:
        raise ValueError(f"unexpected adapter keys {result.unexpected_keys[:5]}")
    merged = peft_model.merge_and_unload()
    merged.config.use_cache = True
    return merged


def merge_and_save(
    args: ModelArguments, adapter_state: dict[str, torch.Tensor], processor: GVEProcessor, folder: str | Path
) -> Path:
    """`merged_model` written as a GVE checkpoint (`save_gve_checkpoint`: loads with GVEModel,
    AutoModel(trust_remote_code=True) and SentenceTransformer)."""
    return save_gve_checkpoint(merged_model(args, adapter_state), processor, folder)


__all__ = [
    "adapter_state_dict",
    "build_training_model",
    "is_sharded",
    "load_base_model",
    "load_processor",
    "lora_config",
    "lora_target_regex",
    "make_embed",
    "merge_and_save",
    "merged_model",
    "resolve_attn_implementation",
]
