# Copyright 2026 The GVE package authors. Apache-2.0.
"""Train GVE with the Modality Pyramid curriculum (paper §3.3, §A.8, Tables 6-9).

Usage:

    # GVE-3B on 8 GPUs (DDP); the paper's hyper-parameters are in the YAML
    accelerate launch --config_file recipes/accelerate/ddp.yaml --num_processes 8 \\
        recipes/pyramid.py --config recipes/configs/gve-3b.yaml

    # GVE-7B with DeepSpeed ZeRO-2, overriding any key on the command line
    accelerate launch --config_file recipes/accelerate/deepspeed_zero2.yaml \\
        recipes/pyramid.py --config recipes/configs/gve-7b.yaml --output_dir outputs/gve-7b --learning_rate 2e-5

    # A tiny model on CPU, in minutes (make the tiny checkpoint and data first)
    python -m modeling_gve.testing.synthetic_tasks outputs/tiny
    accelerate launch --config_file recipes/accelerate/multi_cpu.yaml \\
        recipes/pyramid.py --config recipes/configs/tiny-cpu.yaml

    # Resume a killed run where it stopped (same command, plus):
    ...  --resume_from_checkpoint latest

The run ends by merging the LoRA adapters: ``output_dir`` is then a GVE checkpoint that
loads with ``GVEModel.from_pretrained``, ``AutoModel.from_pretrained(...,
trust_remote_code=True)`` and ``SentenceTransformer``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from modeling_gve.training.config import PyramidConfig
from modeling_gve.training.loop import train


def main(config: PyramidConfig) -> Path:
    """One run, through `modeling_gve.training.loop.train`:

    1. Model: GVE (a Qwen2.5-VL-Instruct backbone) with LoRA on the language model, the same
       initialisation on every process (`training.model.build_training_model`);
    2. Data: the tasks of the mixture file, in the training-data schema (`training.data`);
    3. Training: the curriculum picks each step's task, symmetric InfoNCE over the all-gathered
       batch, checkpoints to resume from, and the merged GVE checkpoint in ``output_dir`` at
       the end (`training.loop.Trainer`).
    """
    # INFO from the main process, warnings only from the others (the launcher sets RANK)
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        level=logging.INFO if int(os.environ.get("RANK", "0")) == 0 else logging.WARNING,
    )
    return train(config)


if __name__ == "__main__":
    # Settings: YAML defaults (--config) + command-line overrides, checked; unknown keys: "did you mean"
    parser = PyramidConfig.parser(description=__doc__)
    main(PyramidConfig(*parser.parse_args_and_config()))
