# Copyright 2026 The GVE package authors. Apache-2.0.
"""Deprecated: recipe settings moved to `modeling_gve.args` (`RecipeParser`, an `HfArgumentParser`
with ``--config``; `RecipeArguments`, `RecipeConfig`)."""

from ._deprecation import warn_moved
from .args import RecipeArguments, RecipeConfig, check_value, describe_type, load_yaml_config
from .suggest import unknown_key_error

warn_moved("modeling_gve.recipe_config", "modeling_gve.args")

__all__ = [
    "RecipeArguments",
    "RecipeConfig",
    "check_value",
    "describe_type",
    "load_yaml_config",
    "unknown_key_error",
]
