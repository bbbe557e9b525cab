"""Shared pieces of the Hub tests: a real `gve uvrb` results.json (the runner on the mini-UVRB
with the tiny converted checkpoint) and a real V-SynFlow output folder, each built once per session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from uvrb_helpers import TEST_SAMPLING, mini_uvrb

BASE_MODEL = "Qwen/Qwen2.5-VL-3B-Instruct"  # the tiny checkpoint's hidden size maps to no GVE backbone


def uvrb_results_file(tmp_path_factory: pytest.TempPathFactory, checkpoint: Path) -> Path:
    """``results.json`` of `run_uvrb` on all 16 mini-UVRB tasks with ``checkpoint``."""
    from modeling_gve.uvrb.runner import UVRBRunConfig, run_uvrb

    output = tmp_path_factory.getbasetemp() / "hub-uvrb-run"
    path = output / "results.json"
    if not path.is_file():
        config = UVRBRunConfig(
            model=str(checkpoint),
            output=str(output),
            data=str(mini_uvrb(tmp_path_factory)),
            sampling=dict(TEST_SAMPLING),
            num_workers=0,
            flush_every=8,
            show_progress_bar=False,
        )
        run_uvrb(config)
    return path


def vsynflow_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A V-SynFlow dataset folder made by the pipeline (loopback captioner, three real videos)."""
    from modeling_gve.synthesis.config import SynthesisConfig
    from modeling_gve.testing.loopback import LoopbackChatServer
    from modeling_gve.synthesis.pipeline import run
    from modeling_gve.testing.media import make_video

    base = tmp_path_factory.getbasetemp()
    out = base / "hub-vsynflow"
    if (out / "README.md").is_file():
        return out
    source = base / "hub-vsynflow-input"
    rows = []
    for i in range(3):
        make_video(source / "clips" / f"m{i}.mp4", seconds=2.0 + 0.5 * i, fps=10, size=(96 + 16 * i, 64))
        rows.append({"file_name": f"clips/m{i}.mp4", "caption": f"A test card number {i} with a sweeping clock hand"})
    (source / "metadata.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with LoopbackChatServer() as server:
        settings = {
            "input": str(source),
            "output_dir": str(out),
            "num_shards": 2,
            "captioner_model": "loopback",
            "captioner_base_url": server.url,
            "captioner_video_input": "frames",
            "captioner_num_frames": 4,
            "captioner_max_pixels": 64 * 28 * 28,
            "captioner_concurrency": 2,
            "frames_per_video": 2,
            "clip_seconds": 1.0,
            "qc_workers": 1,
            "pretty_name": "My UVRD",
        }
        run(SynthesisConfig.from_values(settings))
    return out
