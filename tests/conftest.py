"""Shared fixtures: tiny random GVE checkpoints and real encoded media, built once per session.

Everything is offline: ``HF_HUB_OFFLINE=1`` is set before any Hugging Face import.
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # Ray's clusters in the tests report nowhere

import shutil
from pathlib import Path

import pytest
import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)  # one core per xdist worker


def pytest_configure(config):
    if shutil.which("ffmpeg") is None:
        raise pytest.UsageError("The tests need the ffmpeg command line (apt-get install -y ffmpeg).")


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory) -> Path:
    """A random-weight GVE checkpoint in the released layout (transformers 4.x key names)."""
    from modeling_gve.testing.tiny import make_tiny_checkpoint

    return make_tiny_checkpoint(tmp_path_factory.mktemp("tiny-gve-v4"), layout="v4", seed=0)


@pytest.fixture(scope="session")
def tiny_converted(tiny_ckpt, tmp_path_factory) -> Path:
    """`gve convert` output of `tiny_ckpt`: self-contained, with remote code."""
    from modeling_gve.convert import convert_checkpoint

    return convert_checkpoint(tiny_ckpt, tmp_path_factory.mktemp("tiny-gve-converted") / "ckpt")


@pytest.fixture(scope="session")
def gve_model(tiny_ckpt):
    from modeling_gve import GVEModel

    return GVEModel.from_pretrained(tiny_ckpt).eval()


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict:
    """Real encoded media: a few short videos of different lengths/sizes and two images."""
    from modeling_gve.testing.media import make_image, make_video

    root = tmp_path_factory.mktemp("media")
    return {
        "video": make_video(root / "clip.mp4", seconds=3.0, fps=10, size=(160, 120)),
        "video_long": make_video(root / "long.mp4", seconds=6.0, fps=25, size=(224, 128), pattern="mandelbrot"),
        "video_static": make_video(root / "static.mp4", seconds=2.0, fps=10, size=(160, 120), pattern="color=c=blue"),
        "image": make_image(root / "image.png", size=(96, 64), seed=1),
        "image2": make_image(root / "image2.jpg", size=(200, 150), seed=2),
        "root": root,
    }


@pytest.fixture(scope="session")
def three_clips(tmp_path_factory) -> dict:
    """Three distinct 10-second clips (testsrc2, mandelbrot, smptebars; 96x64 at 5 fps) and
    ``long.mp4``, the three one after another (30 s): the moments of the long video are the clips."""
    from modeling_gve.testing.media import concat_videos, make_video

    root = tmp_path_factory.mktemp("clips")
    clips = [
        make_video(root / f"{pattern}.mp4", seconds=10.0, fps=5, size=(96, 64), pattern=pattern)
        for pattern in ("testsrc2", "mandelbrot", "smptebars")
    ]
    return {"clips": clips, "long": concat_videos(clips, root / "long.mp4"), "root": root}
