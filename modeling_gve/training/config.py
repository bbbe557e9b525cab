# Copyright 2026 The GVE package authors. Apache-2.0.
"""Argument dataclasses of the Modality Pyramid recipe.

A run is described by a flat YAML file (``recipes/configs/gve-3b.yaml``); every key is a
field of one of the dataclasses below, unknown keys are errors with a "did you mean", and
any key can be overridden on the command line (``--learning_rate 1e-4``, ``--sampling
'{max_frames: 16}'``). Parsing and validation (types, ``Literal`` choices) are
`modeling_gve.args`'s, shared with the synthesis recipe.

Defaults are the paper's hyper-parameters (§A.8, Table 9); values the paper does not
give are marked "not in the paper" in their help text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Sequence

from ..args import RecipeArguments, RecipeConfig
from ..processing_gve import SamplingConfig

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "up_proj", "down_proj", "gate_proj"]
# The preprocessing settings the recipe had as flat keys until they became `sampling` options.
FLAT_SAMPLING_KEYS = ("max_frames", "fps", "video_max_pixels", "video_min_pixels", "image_max_pixels",
                      "image_min_pixels", "max_length")  # fmt: skip
OPEN_PIXEL_BOUNDS = dict(video_min_pixels=1, video_max_pixels=2**62, image_min_pixels=1, image_max_pixels=2**62)


@dataclass
class ModelArguments(RecipeArguments):
    """The model: backbone, LoRA, precision and the preprocessing used in training."""

    model_name_or_path: str = field(
        metadata={"help": "Starting checkpoint: a Qwen2.5-VL-Instruct or GVE checkpoint (Hub id or folder)."}
    )
    model_revision: str | None = field(default=None, metadata={"help": "Hub revision of the checkpoint."})
    torch_dtype: Literal["auto", "bfloat16", "float16", "float32"] = field(
        default="bfloat16", metadata={"help": "dtype of the frozen base weights (LoRA weights are float32)."}
    )
    attn_implementation: Literal["auto", "eager", "sdpa", "flash_attention_2"] = field(
        default="auto", metadata={"help": "'auto': FlashAttention-2 where installed on a GPU, else sdpa."}
    )
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA alpha."})
    lora_dropout: float = field(default=0.1, metadata={"help": "LoRA dropout."})
    lora_target_modules: list[str] = field(
        default_factory=lambda: list(LORA_TARGETS),
        metadata={"help": "Projection names adapted in the LANGUAGE model only (vision tower stays frozen)."},
    )
    gradient_checkpointing: bool = field(default=True, metadata={"help": "Recompute activations in backward."})
    sampling: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "Preprocessing overrides, `SamplingConfig` options such as {max_frames: 8, fps: 1.0} "
                  "(paper: 8 frames at 1 fps). An option not given keeps the starting checkpoint's saved setting "
                  "(GVE's defaults for a checkpoint without one, e.g. Qwen2.5-VL-Instruct); the values used are "
                  "saved with the trained checkpoint."},
    )  # fmt: skip

    def __post_init__(self) -> None:
        super().__post_init__()
        unknown = [m for m in self.lora_target_modules if m not in LORA_TARGETS + ["o_proj"]]
        if unknown:
            raise ValueError(
                f"lora_target_modules {unknown} are not projections of the Qwen2.5-VL language model; "
                f"choose from {LORA_TARGETS + ['o_proj']}"
            )
        try:
            # Names and values only: a pixel bound is checked against its pair when both are given;
            # a lone bound is checked at load time against the checkpoint's saved other bound.
            SamplingConfig(**OPEN_PIXEL_BOUNDS).replace(**self.sampling)
        except (TypeError, ValueError) as err:
            raise ValueError(f"sampling: {err}") from None

    def sampling_overrides(self) -> dict:
        """The `SamplingConfig` overrides this run trains with (saved with the final checkpoint):
        the options given; the others keep the starting checkpoint's setting."""
        return dict(self.sampling)


@dataclass
class DataArguments(RecipeArguments):
    """The training data: a mixture file of tasks in the schema of docs/training_data.md (`modeling_gve.pairs`)."""

    mixture: str = field(metadata={"help": "Mixture YAML listing the tasks (see recipes/mixtures/)."})
    data_root: str | None = field(
        default=None,
        metadata={"help": "Folder that relative task paths of the mixture are resolved against "
                  "(default: the mixture file's folder)."},
    )  # fmt: skip
    on_bad_row: Literal["skip", "stop"] = field(
        default="skip",
        metadata={"help": "A row whose media or text cannot be embedded: 'skip' reports it and trains "
                  "without it; 'stop' ends the run with the row named."},
    )  # fmt: skip
    max_bad_rows: int | None = field(
        default=None, metadata={"help": "Stop the run once more than this many rows were skipped (None: no cap)."}
    )
    num_workers: int = field(default=1, metadata={"help": "Threads reading media ahead of the model (paper: 1)."})
    prefetch_batches: int = field(default=2, metadata={"help": "Batches prepared ahead of the model."})
    shuffle_buffer_size: int = field(default=10_000, metadata={"help": "Shuffle buffer of streamed tasks."})
    cache_dir: str | None = field(default=None, metadata={"help": "datasets cache folder (default: HF_DATASETS_CACHE)."})


@dataclass
class CurriculumArguments(RecipeArguments):
    """How tasks are scheduled (paper §3.3): alignment-aware pyramid, static tiers or uniform."""

    curriculum: Literal["pyramid", "tiers", "uniform"] = field(
        default="pyramid",
        metadata={"help": "'pyramid': P(k) ∝ prior_k·exp(R_k/σ) with R_k probed each epoch; 'tiers': the static "
                  "pyramid (T2T,T2I)→(TI2I,TI2T,TI2TI,I2I)→(T2V,I2V,V2V)→(TI2V,TV2V), cumulative; "
                  "'uniform': P(k) ∝ prior_k (ablations)."},
    )  # fmt: skip
    prober_model_name_or_path: str | None = field(
        default=None,
        metadata={"help": "Epoch-1 prober (any checkpoint GVEModel loads; the paper used GME-7B). "
                  "None: the model being trained, at step 0. Later epochs always probe the model being trained."},
    )  # fmt: skip
    num_probe_pairs: int = field(default=256, metadata={"help": "N_p positive pairs per task (not in the paper)."})
    probe_batch_size: int = field(default=16, metadata={"help": "Items per forward pass when probing."})
    sigma_min: float = field(default=0.1, metadata={"help": "σ at the start of training."})
    sigma_max: float = field(default=1.0, metadata={"help": "σ at the end of training."})
    sigma_schedule: Literal["epoch", "step"] = field(
        default="epoch",
        metadata={"help": "σ rises linearly per epoch (the paper's σ(t)) or per optimizer step."},
    )
    task_prior: Literal["batches", "uniform"] = field(
        default="batches",
        metadata={"help": "prior_k of tasks without an explicit mixture weight: their number of batches per "
                  "epoch (every instance is seen once per epoch in expectation) or 1 (the paper's formula "
                  "taken literally)."},
    )  # fmt: skip

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.sigma_min <= self.sigma_max:
            raise ValueError(f"need 0 < sigma_min <= sigma_max, got {self.sigma_min} and {self.sigma_max}")
        if self.num_probe_pairs < 1:
            raise ValueError(f"num_probe_pairs must be >= 1, got {self.num_probe_pairs}")


@dataclass
class LossArguments(RecipeArguments):
    """The contrastive objective (paper Eq. 1)."""

    temperature: float = field(default=0.03, metadata={"help": "InfoNCE temperature τ."})
    symmetric: bool = field(default=True, metadata={"help": "L = ½(L_q→c + L_c→q)."})
    gather_across_processes: bool = field(
        default=True, metadata={"help": "All-gather embeddings so every process sees the global in-batch negatives."}
    )
    hard_negative_scope: Literal["own", "batch"] = field(
        default="own",
        metadata={"help": "A query is contrasted with its own hard negatives (Eq. 1) or with every "
                  "hard negative of the batch."},
    )  # fmt: skip
    false_negative_margin: float | None = field(
        default=None,
        metadata={"help": "Mask candidates scoring above the query's positive plus this margin "
                  "(likely false negatives; a negative margin masks near-positives too). None: off."},
    )  # fmt: skip
    mask_duplicates: bool = field(
        default=True, metadata={"help": "Mask candidates that are the same item as the query's positive."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")


@dataclass
class TrainingArguments(RecipeArguments):
    """Optimisation, checkpointing and logging."""

    output_dir: str = field(metadata={"help": "Where checkpoints, logs and the final merged model go."})
    num_train_epochs: int = field(default=3, metadata={"help": "Epochs."})
    steps_per_epoch: int | None = field(
        default=None, metadata={"help": "Optimizer steps per epoch (default: the mixture's batches per epoch)."}
    )
    max_steps: int | None = field(default=None, metadata={"help": "Cap on the total number of steps."})
    learning_rate: float = field(default=3e-5, metadata={"help": "AdamW learning rate."})
    weight_decay: float = field(default=0.1, metadata={"help": "AdamW weight decay."})
    adam_beta1: float = field(default=0.9, metadata={"help": "AdamW beta1."})
    adam_beta2: float = field(default=0.999, metadata={"help": "AdamW beta2."})
    lr_scheduler_type: Literal["cosine", "linear", "constant", "constant_with_warmup"] = field(
        default="cosine", metadata={"help": "Learning-rate schedule."}
    )
    warmup_ratio: float = field(default=0.0, metadata={"help": "Fraction of steps of linear warm-up."})
    max_grad_norm: float | None = field(default=1.0, metadata={"help": "Gradient clipping (not in the paper)."})
    use_cpu: bool = field(
        default=False,
        metadata={"help": "Train on the CPU (gloo between processes) even where a GPU is present; needed for "
                  "several CPU processes, which `accelerate launch` does not set up by itself."},
    )  # fmt: skip
    mixed_precision: Literal["no", "bf16", "fp16"] | None = field(
        default=None, metadata={"help": "Autocast precision; None: from the accelerate config / launch flags."}
    )
    gradcache_chunk_size: int | None = field(
        default=None,
        metadata={"help": "GradCache: embed the batch in chunks of this many items and back-propagate "
                  "chunk by chunk (exact gradients, memory of one chunk). None: off."},
    )  # fmt: skip
    seed: int = field(default=42, metadata={"help": "Seed of initialisation, task sampling and data order."})
    logging_steps: int = field(default=10, metadata={"help": "Log every N steps."})
    save_steps: int | None = field(default=500, metadata={"help": "Checkpoint every N steps (None: only at the end)."})
    save_total_limit: int | None = field(
        default=2, metadata={"help": "Keep at most this many checkpoints (>= 1; None: keep every one)."}
    )
    resume_from_checkpoint: str | None = field(
        default=None,
        metadata={"help": "'latest' (the newest complete checkpoint in output_dir, or a fresh start if none) "
                  "or a checkpoint folder."},
    )  # fmt: skip
    report_to: list[str] = field(
        default_factory=list, metadata={"help": "accelerate trackers: tensorboard, wandb, mlflow, ..., or 'all'."}
    )
    run_name: str = field(default="gve-pyramid", metadata={"help": "Tracker project / run name."})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.gradcache_chunk_size is not None and self.gradcache_chunk_size < 1:
            raise ValueError(f"gradcache_chunk_size must be >= 1, got {self.gradcache_chunk_size}")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.save_total_limit is not None and self.save_total_limit < 1:
            # 0 would delete the checkpoint just written: nothing left to resume from
            raise ValueError(
                f"save_total_limit must be >= 1 or null, got {self.save_total_limit}; use null to keep every "
                "checkpoint, or save_steps: null to write only the final one"
            )


@dataclass
class PyramidConfig(RecipeConfig):
    """Everything a run needs, one attribute per argument group."""

    model: ModelArguments
    data: DataArguments
    curriculum: CurriculumArguments
    loss: LossArguments
    training: TrainingArguments

    # accepted with a FutureWarning until the next release: max_frames: 8 -> sampling: {max_frames: 8}
    DEPRECATED_KEYS: ClassVar[dict[str, str]] = {key: f"sampling.{key}" for key in FLAT_SAMPLING_KEYS}


ARGUMENT_CLASSES = PyramidConfig.argument_classes()


def parse_config(argv: Sequence[str] | None = None) -> PyramidConfig:
    """``[--config FILE.yaml] [--key value ...]`` -> `PyramidConfig` (command line overrides the YAML)."""
    return PyramidConfig.parse(argv, description="Train GVE with the Modality Pyramid curriculum.")


__all__ = [
    "ARGUMENT_CLASSES",
    "CurriculumArguments",
    "DataArguments",
    "LossArguments",
    "ModelArguments",
    "PyramidConfig",
    "TrainingArguments",
    "parse_config",
]
