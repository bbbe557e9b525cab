# Copyright 2026 The GVE package authors. Apache-2.0.
"""Train GVE with the Modality Pyramid curriculum (paper §3.3, §A.8, Tables 6-9).

Usage:

    # GVE-3B on 8 GPUs (DDP); the paper's hyper-parameters are in the YAML
    accelerate launch --config_file recipes/accelerate/ddp.yaml --num_processes 8 \\
        recipes/pyramid.py --config recipes/configs/gve-3b.yaml

    # GVE-7B with DeepSpeed ZeRO-2, overriding any key on the command line
    accelerate launch --config_file recipes/accelerate/deepspeed_zero2.yaml \\
        recipes/pyramid.py --config recipes/configs/gve-7b.yaml --output_dir outputs/gve-7b --learning_rate 2e-5

    # A tiny model on CPU, in a minute (make the tiny checkpoint and data first)
    python -m modeling_gve.testing.synthetic_tasks outputs/tiny
    accelerate launch --config_file recipes/accelerate/multi_cpu.yaml \\
        recipes/pyramid.py --config recipes/configs/tiny-cpu.yaml

    # Resume a killed run where it stopped (same command, plus):
    ...  --resume_from_checkpoint latest

The run ends by merging the LoRA adapters: ``output_dir`` is then a GVE checkpoint that
loads with ``GVEModel.from_pretrained``, ``AutoModel.from_pretrained(...,
trust_remote_code=True)`` and ``SentenceTransformer``; ``--push_to_hub --hub_model_id ID``
publishes it (`gve hub push-model`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from accelerate.utils import set_seed

from modeling_gve.training.config import (
    CurriculumArguments,
    DataArguments,
    LossArguments,
    ModelArguments,
    PyramidConfig,
    TrainingArguments,
)
from modeling_gve.training.model import build_training_model, load_processor
from modeling_gve.training.trainer import Trainer, make_accelerator, open_mixture


def hub_unavailable(training_args: TrainingArguments) -> str | None:
    """Why ``--push_to_hub`` cannot work, checked before any training (``None``: it may)."""
    from huggingface_hub import constants

    if training_args.push_to_hub and constants.HF_HUB_OFFLINE:
        return (
            f"push_to_hub: HF_HUB_OFFLINE is set, so {training_args.hub_model_id} cannot be published; unset it, "
            "or train without --push_to_hub and publish later with "
            f"`gve hub push-model {training_args.output_dir} {training_args.hub_model_id}`"
        )
    return None


def publish(training_args: TrainingArguments, output_dir: Path) -> None:
    """Upload the merged checkpoint (`modeling_gve.hub.publish.publish_model`); a Hub that cannot be
    reached ends the run with one line saying how to publish the finished checkpoint later."""
    from modeling_gve.hub.checks import HubCheckError
    from modeling_gve.hub.publish import publish_model

    repo_id = training_args.hub_model_id
    try:
        published = publish_model(output_dir, repo_id, private=training_args.hub_private,
                                  revision=training_args.hub_revision)  # fmt: skip
    except (ConnectionError, HubCheckError) as err:  # unreachable, refusing, or a refused file: one line
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SystemExit(
            f"push_to_hub: {first}. The trained checkpoint is in {output_dir}; publish it with "
            f"`gve hub push-model {output_dir} {repo_id}`"
        ) from None
    logging.getLogger(__name__).info("Published %s: %s", output_dir, published.url)


def main(
    model_args: ModelArguments,
    data_args: DataArguments,
    curriculum_args: CurriculumArguments,
    loss_args: LossArguments,
    training_args: TrainingArguments,
) -> Path:
    """One run of the recipe; returns ``output_dir``, the merged GVE checkpoint."""
    # INFO from the main process, warnings only from the others (the launcher sets RANK)
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        level=logging.INFO if int(os.environ.get("RANK", "0")) == 0 else logging.WARNING,
    )
    problem = hub_unavailable(training_args)
    if problem:
        raise SystemExit(problem)
    config = PyramidConfig(model_args, data_args, curriculum_args, loss_args, training_args)
    accelerator = make_accelerator(training_args)

    # Model: GVE (a Qwen2.5-VL-Instruct backbone) with LoRA on the language model, the same
    # initialisation on every process; its processor with the run's sampling settings
    set_seed(training_args.seed)
    model = build_training_model(model_args)
    processor = load_processor(model_args)

    # Data: the tasks of the mixture file, in the training-pair format (docs/training_data.md)
    tasks = open_mixture(data_args, training_args.seed, accelerator)

    # Training: the curriculum picks each step's task, symmetric InfoNCE over the all-gathered
    # batch, checkpoints to resume from, and the merged GVE checkpoint in output_dir at the end
    trainer = Trainer(config, accelerator, model, processor, tasks)
    output_dir = trainer.train()

    # Publishing (optional)
    if training_args.push_to_hub and accelerator.is_main_process:
        publish(training_args, output_dir)
    return output_dir


if __name__ == "__main__":
    # Settings: YAML defaults (--config) + command-line overrides, checked; unknown keys: "did you mean"
    parser = PyramidConfig.parser(description=__doc__)
    main(*parser.parse_args_and_config())
