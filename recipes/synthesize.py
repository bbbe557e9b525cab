# Copyright 2026 The GVE package authors. Apache-2.0.
"""V-SynFlow: synthesize a GVE training set (UVRD-style, one dataset config per task) from
a folder or Hub dataset of captioned videos.

    accelerate launch recipes/synthesize.py --config recipes/configs/vsynflow.yaml

    # one process, settings overridden on the command line
    python recipes/synthesize.py --config recipes/configs/vsynflow.yaml \
        --input ./my_videos --output_dir ./my-uvrd --captioner_base_url http://gpu-box:8000/v1

    # stage by stage: quality control first (look at the score report), then the rest
    python recipes/synthesize.py --config ... --stages '[qc]' --qc_report_only
    python recipes/synthesize.py --config ... --consistency_threshold 0.2

    # several processes on a CPU-only host (accelerate's torchrun launcher, gloo)
    accelerate launch --multi_gpu --num_processes 4 recipes/synthesize.py --config ...

The same settings run through `gve synthesize --config ...`. Every setting is a field of the
dataclasses below (modeling_gve/synthesis/config.py): the YAML file sets defaults, the command
line overrides them, unknown keys are errors. Rerunning after an interruption resumes.

Stages: 1. quality control → asset pool (caption rectification, temporal dynamics and
cross-modal consistency filters, frames and clips); 2. enrichment by an MLLM captioner (an
OpenAI-compatible server such as vLLM/SGLang, or a local transformers model); 3. task
extension (T2V, T2T, T2I, I2V, V2V, TI2V, TV2V) with optional hard negatives → parquet per
task + media + dataset card, optionally pushed to the Hub.
"""

import sys

from modeling_gve.synthesis.config import (  # noqa: F401 - the argument dataclasses of this recipe
    CaptionerArguments,
    DataArguments,
    HubArguments,
    QualityArguments,
    SynthesisConfig,
    TaskArguments,
)
from modeling_gve.synthesis.pipeline import run_and_report


def main(argv: list[str] | None = None) -> int:
    # Settings: YAML defaults (--config) + command-line overrides, checked; unknown keys: "did you mean"
    parser = SynthesisConfig.parser(description=__doc__)
    config = SynthesisConfig(*parser.parse_args_and_config(argv))
    # Quality control → enrichment → task extension → dataset folder (+ card, + Hub push)
    return run_and_report(config)


if __name__ == "__main__":
    sys.exit(main())
