# Copyright 2026 The GVE package authors. Apache-2.0.
"""V-SynFlow, the data-synthesis pipeline of the GVE paper (§3.2, §A.4-A.6), as a resumable,
sharded pipeline from captioned videos to a Hub dataset with one config per retrieval task.

Stages (each its own module, runnable separately with ``stages``):

1. `quality` — quality control → asset pool: `rectify` (caption rules), `dynamics` (static
   videos), `consistency` (embedder cosine, through `modeling_gve.encoders`), `extract` (frames and clips);
2. `enrich` — the MLLM captioner (`captioners`: OpenAI-compatible server or local transformers
   model) with the paper's prompts (`prompts`, files under ``prompts/``), JSON-schema validated;
3. `tasks` — T2V, T2T, T2I, I2V, V2V, TI2V, TV2V rows; `negatives` — hard-negative mining;
   `writer` — parquet configs, media, Hub upload; the card comes from ``hub_cards.uvrd_dataset``.

`pipeline.run` chains them; `config` holds the settings; `workstore` the resumable records.
An OpenAI-compatible test server is `modeling_gve.testing.loopback`.
"""

from typing import Any

from . import config as _config
from .config import (
    CaptionerArguments,
    DataArguments,
    HubArguments,
    QualityArguments,
    SynthesisConfig,
    TaskArguments,
    parse_args,
)


def __getattr__(name: str) -> Any:
    if name == "build_config":  # deprecated second name of SynthesisConfig.from_values (warns)
        return getattr(_config, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CaptionerArguments",
    "DataArguments",
    "HubArguments",
    "QualityArguments",
    "SynthesisConfig",
    "TaskArguments",
    "parse_args",
]
