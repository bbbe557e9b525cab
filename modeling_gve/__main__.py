# Copyright 2026 The GVE package authors. Apache-2.0.
"""``python -m modeling_gve ...`` (and ``accelerate launch -m modeling_gve ...``): the `gve` command."""

import sys

from .cli import main

sys.exit(main())
