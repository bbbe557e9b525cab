# Copyright 2026 The GVE package authors. Apache-2.0.
"""GVE in the transformers Auto classes, without importing torch at ``import modeling_gve``.

``AutoConfig.register`` needs transformers' Auto modules, which import torch (seconds). So
``import modeling_gve`` only arms a post-import hook: once
``transformers.models.auto.configuration_auto`` (which every Auto class imports) has been
imported, GVE is registered at the end of the first import of a transformers module that
leaves no transformers module, and none of GVE's model files, half-initialised. Registering
in the middle of such a chain would import GVE's model files while modules they need are
incomplete. So ``import modeling_gve; AutoModel.from_pretrained(path)`` works without
``trust_remote_code``, in either import order, and ``gve --help`` never loads torch.

`register_auto_classes` does the registration itself, at once (idempotent).
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
import threading
import warnings
from types import ModuleType
from typing import Any

CONFIG_AUTO = "transformers.models.auto.configuration_auto"
# GVE's files the registration imports; registering while one is half-imported would fail
MODEL_FILES = ("configuration_gve", "modeling_gve", "processing_gve", "video")

_lock = threading.RLock()
_state = threading.local()  # .depth: transformers modules executing in this thread
_registered = False


def register_auto_classes() -> None:
    """Register `GVEConfig`, `GVEModel` and `GVEProcessor` with `AutoConfig`, `AutoModel` and
    `AutoProcessor` (model type ``gve``). Safe to call more than once."""
    global _registered
    with _lock:
        if _registered:
            return
        _registered = True  # first: the imports below pass through the hook again
        try:
            # Deliberately imported here, not at the top: these imports load torch (see the docstring).
            auto = importlib.import_module("transformers")
            config = importlib.import_module(f"{__package__}.configuration_gve").GVEConfig
            model = importlib.import_module(f"{__package__}.modeling_gve").GVEModel
            processor = importlib.import_module(f"{__package__}.processing_gve").GVEProcessor
            auto.AutoConfig.register("gve", config, exist_ok=True)
            auto.AutoModel.register(config, model, exist_ok=True)
            auto.AutoProcessor.register(config, processor, exist_ok=True)
        except BaseException:
            _registered = False
            raise
        finally:
            _disarm()


class _RegisterAfterImport(importlib.abc.MetaPathFinder):
    """Wraps the execution of every ``transformers.*`` module imported while armed (see the
    module docstring); the module's own loader is put back once it has run."""

    def find_spec(self, name: str, path: Any, target: ModuleType | None = None) -> Any:
        if _registered or not name.startswith("transformers."):
            return None
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _CountingLoader(spec.loader)
        return spec


class _CountingLoader(importlib.abc.Loader):
    def __init__(self, loader: Any):
        self.loader = loader

    def create_module(self, spec: Any) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__.loader = module.__loader__ = self.loader  # the real loader, for inspect & co
        _state.depth = getattr(_state, "depth", 0) + 1
        try:
            self.loader.exec_module(module)
        finally:
            _state.depth -= 1
        if _state.depth == 0 and _ready():
            try:
                register_auto_classes()
            except Exception as err:  # never break the user's import of transformers
                warnings.warn(f"GVE could not be registered with the transformers Auto classes: {err}", RuntimeWarning)


def _ready() -> bool:
    """configuration_auto is loaded, and none of GVE's model files is half-imported."""
    if CONFIG_AUTO not in sys.modules:
        return False
    for name in MODEL_FILES:
        module = sys.modules.get(f"{__package__}.{name}")
        if module is not None and getattr(module.__spec__, "_initializing", False):
            return False
    return True


_finder = _RegisterAfterImport()


def arm() -> None:
    """Register now if transformers' Auto classes are already imported (torch is then loaded
    anyway), otherwise once they are (see the module docstring)."""
    if CONFIG_AUTO in sys.modules and _ready():
        register_auto_classes()
    elif not _registered and _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def _disarm() -> None:
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)


__all__ = ["register_auto_classes"]
