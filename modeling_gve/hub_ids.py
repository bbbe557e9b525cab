# Copyright 2026 The GVE package authors. Apache-2.0.
"""The Hub repository the package defaults to. Standard library only: the command line shows it
in its help without loading the model code."""

DEFAULT_MODEL = "Alibaba-NLP/GVE-3B"
# Download sizes named in the one-line "cannot get the model" errors.
MODEL_SIZES = {"Alibaba-NLP/GVE-3B": "~7.5 GB"}

__all__ = ["DEFAULT_MODEL", "MODEL_SIZES"]
