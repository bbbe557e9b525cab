# Copyright 2026 The GVE package authors. Apache-2.0.
"""Deprecation shims: names and modules that moved keep working for one release, with a
`FutureWarning` that names their new home."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any


def warn_moved(old: str, new: str, stacklevel: int = 3) -> None:
    """Warn that ``old`` (a module or ``module.name``) is deprecated in favour of ``new``."""
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release; use {new} instead.",
        FutureWarning,
        stacklevel=stacklevel,
    )


Target = str | tuple[str, Callable[[], Any]]


def moved_names(module: str, targets: Mapping[str, Target]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` (PEP 562) for names that left ``module``: reading one warns
    and returns the object from its new home.

    Args:
        targets: old name -> ``"new.module:attribute"``, or ``(what replaces it, factory)`` for a
            name whose old value is rebuilt from the new home (another shape than the new object).
    """

    def __getattr__(name: str) -> Any:
        if name not in targets:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        target = targets[name]
        if isinstance(target, tuple):
            replacement, factory = target
            warn_moved(f"{module}.{name}", replacement)
            return factory()
        home, _, attribute = target.partition(":")
        warn_moved(f"{module}.{name}", f"{home}.{attribute}")
        # Imported on access: the new home may import this module (a cycle at import time).
        return getattr(importlib.import_module(home), attribute)

    return __getattr__


__all__ = ["moved_names", "warn_moved"]
