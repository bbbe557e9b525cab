"""Shared pieces of the UVRB tests: a mini-UVRB built once per test session, small sampling
settings (the protocol is not what these tests check), and an encode counter."""

from __future__ import annotations

from pathlib import Path

import pytest

# 2 frames, tiny frames and images: fast on CPU with the tiny checkpoint.
TEST_SAMPLING = {
    "max_frames": 2,
    "video_min_pixels": 4 * 28 * 28,
    "video_max_pixels": 16 * 28 * 28,
    "image_min_pixels": 4 * 28 * 28,
    "image_max_pixels": 16 * 28 * 28,
}


def mini_uvrb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini-UVRB of `modeling_gve.testing.mini_uvrb`, built once per session (read-only by convention)."""
    from modeling_gve.testing.mini_uvrb import make_mini_uvrb

    root = tmp_path_factory.getbasetemp() / "mini-uvrb"
    if not (root / ".complete").exists():
        make_mini_uvrb(root)
        (root / ".complete").write_text("")
    return root


class EncodeCounter:
    """Counts the inputs that reach `GVEModel.encode`; can raise after ``fail_after`` calls
    (an interruption in the middle of a run)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_after: int | None = None):
        from modeling_gve import GVEModel

        self.items = 0
        self.calls = 0
        original = GVEModel.encode

        def counting(model, inputs, *args, **kwargs):
            if fail_after is not None and self.calls >= fail_after:
                raise KeyboardInterrupt("simulated interruption")
            self.calls += 1
            self.items += len(inputs)
            return original(model, inputs, *args, **kwargs)

        monkeypatch.setattr(GVEModel, "encode", counting)
