# Copyright 2026 The GVE package authors. Apache-2.0.
"""Deprecated: the loopback chat server moved to `modeling_gve.testing.loopback`."""

from .._deprecation import warn_moved
from ..testing.loopback import LoopbackChatServer, answer_for, check_request

warn_moved("modeling_gve.synthesis.loopback", "modeling_gve.testing.loopback")

__all__ = ["LoopbackChatServer", "answer_for", "check_request"]
