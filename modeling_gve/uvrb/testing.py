# Copyright 2026 The GVE package authors. Apache-2.0.
"""Deprecated: the mini-UVRB moved to `modeling_gve.testing.mini_uvrb`."""

from .._deprecation import warn_moved
from ..testing.mini_uvrb import FRAME_TASKS, make_mini_uvrb

warn_moved("modeling_gve.uvrb.testing", "modeling_gve.testing.mini_uvrb")

__all__ = ["FRAME_TASKS", "make_mini_uvrb"]
