"""Helpers shared by the training tests (not collected: no ``test_`` prefix).

A tiny GVE with random (non-zero) LoRA adapters and dropout off, so gradient comparisons are
exact up to float rounding, and a small T2I batch with one hard negative per row.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch

from modeling_gve.testing.media import make_image
from modeling_gve.training.config import ModelArguments
from modeling_gve.training.data import LoadedRow, TrainBatch, item_id
from modeling_gve.training.model import build_training_model, load_processor

TINY_SAMPLING = dict(
    max_frames=2, video_min_pixels=3136, video_max_pixels=3136, image_min_pixels=3136, image_max_pixels=3136
)


def tiny_model_args(checkpoint: str | Path, **overrides) -> ModelArguments:
    values = dict(
        model_name_or_path=str(checkpoint),
        torch_dtype="float32",
        attn_implementation="sdpa",
        lora_dropout=0.0,
        gradient_checkpointing=False,
        sampling=dict(TINY_SAMPLING),
    )
    values.update(overrides)
    return ModelArguments(**values)


def tiny_lora_model(checkpoint: str | Path, seed: int = 0, **overrides):
    """(peft model with random adapters, processor) — identical for equal seeds."""
    args = tiny_model_args(checkpoint, **overrides)
    torch.manual_seed(seed)
    model = build_training_model(args)
    with torch.no_grad():  # LoRA B starts at zero: give every adapter weight a gradient path
        for name, param in model.named_parameters():
            if param.requires_grad:
                param.copy_(0.2 * torch.randn_like(param))
    return model, load_processor(args)


def t2i_rows(processor, folder: str | Path, n: int = 8) -> list[LoadedRow]:
    """``n`` rows: text query, image positive, one image hard negative (the next row's image)."""
    folder = Path(folder)
    images = [make_image(folder / f"img{i}.png", size=(56, 56), seed=i) for i in range(n)]
    config = processor.sampling_config()

    def features(item, instruction=None):
        return processor.tokenize_item(processor.load_item(item, config), instruction, config)

    rows = []
    for i in range(n):
        query = {"text": f"picture number {i} " + "x" * (i % 3)}  # varied lengths: padding differs
        positive, negative = {"image": str(images[i])}, {"image": str(images[(i + 1) % n])}
        rows.append(
            LoadedRow(
                row_id=str(i),
                query=features(query, "Find an image that matches the given text."),
                positive=features(positive),
                negatives=[features(negative)],
                query_id=item_id(query),
                positive_id=item_id(positive),
                negative_ids=[item_id(negative)],
            )
        )
    return rows


def batch_of(rows: list[LoadedRow], num_hard_negatives: int = 1) -> TrainBatch:
    return TrainBatch(step=0, task_index=0, task="t2i", rows=rows, bad=[], num_hard_negatives=num_hard_negatives)


def trainable_grads(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {
        n.removeprefix("module."): (p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p))
        for n, p in model.named_parameters()
        if p.requires_grad
    }


def clone_model(model: torch.nn.Module) -> torch.nn.Module:
    return copy.deepcopy(model)


def two_process_comparison(checkpoint: str | Path, media: str | Path, timeout_s: float | None = None):
    """What the 2-process checks (DDP, FSDP) share, on each process: the accelerator, a tiny LoRA
    model, 8 T2I rows, a single-process reference copy with its embed function, and the local and
    all-gathered losses. Returns a namespace with those names."""
    from datetime import timedelta
    from types import SimpleNamespace

    from accelerate import Accelerator
    from accelerate.utils import InitProcessGroupKwargs

    from modeling_gve.training.loop import make_embed
    from modeling_gve.training.loss import InfoNCELoss

    handlers = [InitProcessGroupKwargs(timeout=timedelta(seconds=timeout_s))] if timeout_s else []
    acc = Accelerator(cpu=True, kwargs_handlers=handlers)
    assert acc.num_processes == 2, f"needs 2 processes, got {acc.num_processes}"
    model, processor = tiny_lora_model(checkpoint, seed=0)
    with acc.main_process_first():
        rows = t2i_rows(processor, media, n=8)
    reference = clone_model(model)
    return SimpleNamespace(
        acc=acc,
        rank=acc.process_index,
        model=model,
        processor=processor,
        rows=rows,
        reference=reference,
        ref_embed=make_embed(reference, processor, torch.device("cpu"), torch.float32),
        single=InfoNCELoss(0.03, gather_across_processes=False),
        gathered=InfoNCELoss(0.03, gather_across_processes=True),
    )


def step_comparison(output, reference_loss: float, grads: dict, reference_grads: dict) -> dict:
    """A distributed step's loss and gradients against the single-process reference."""
    return {
        "loss": float(output.loss),
        "reference_loss": reference_loss,
        "max_grad_diff": max(float((grads[k] - reference_grads[k]).abs().max()) for k in reference_grads),
        "grad_scale": max(float(g.abs().max()) for g in reference_grads.values()),
        "num_queries": output.num_queries,
    }
