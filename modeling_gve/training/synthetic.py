# Copyright 2026 The GVE package authors. Apache-2.0.
"""Deprecated: the tiny synthetic training tasks moved to `modeling_gve.testing.synthetic_tasks`
(``python -m modeling_gve.testing.synthetic_tasks OUT``)."""

import sys

from .._deprecation import warn_moved
from ..testing.synthetic_tasks import COLORS, main, make_media, make_synthetic_run, make_tasks, write_mixture

warn_moved("modeling_gve.training.synthetic", "modeling_gve.testing.synthetic_tasks")

if __name__ == "__main__":  # the documented `python -m modeling_gve.training.synthetic OUT`
    sys.exit(main())

__all__ = ["COLORS", "make_media", "make_synthetic_run", "make_tasks", "write_mixture"]
