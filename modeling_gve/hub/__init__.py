# Copyright 2026 The GVE package authors. Apache-2.0.
"""Publishing to the Hugging Face Hub (`gve hub`, `publish`): assemble the exact repo folder with
its generated cards (`stage`, by the rules of `files`: allow-lists, no credentials, links kept
inside), refuse what must not be published (`checks`), upload it (`push`). The cards themselves
are made by the `hub_cards` package; calls go from here to it, never back."""

from .checks import HubCheckError, check_checkpoint_loads, check_dataset_card, check_model_card
from .push import push_folder
from .stage import StagedFolder, stage_metric, stage_model, stage_uvrb_dataset, stage_vsynflow_dataset

__all__ = [
    "HubCheckError",
    "StagedFolder",
    "check_checkpoint_loads",
    "check_dataset_card",
    "check_model_card",
    "push_folder",
    "stage_metric",
    "stage_model",
    "stage_uvrb_dataset",
    "stage_vsynflow_dataset",
]
