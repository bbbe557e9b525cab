# Copyright 2026 The GVE package authors. Apache-2.0.
"""Deprecated: publishing moved to `modeling_gve.hub.publish` (``publish_model``,
``publish_dataset``, ``publish_metric``); the ``gve hub`` command to `modeling_gve.cli.hub`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._deprecation import warn_moved
from .publish import publish_dataset


def push_dataset(source: str | Path, repo_id: str, **kwargs: Any) -> int:
    """Deprecated: `modeling_gve.hub.publish.publish_dataset` (same keywords); returns 0."""
    warn_moved("modeling_gve.hub.cli.push_dataset", "modeling_gve.hub.publish.publish_dataset")
    publish_dataset(source, repo_id, **kwargs)
    return 0


__all__ = ["push_dataset"]
