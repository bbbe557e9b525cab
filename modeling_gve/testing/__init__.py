# Copyright 2026 The GVE package authors. Apache-2.0.
"""Test doubles for tests, docs and benchmarks (nothing here is used to embed real data):

* `tiny`: tiny random-weight GVE checkpoints in the released or transformers 5 layout;
* `media`: real encoded videos, an audio-only file and images, made offline;
* `mini_uvrb`: a miniature UVRB in the authors' layout;
* `synthetic_tasks`: tiny training tasks with learnable structure (``python -m
  modeling_gve.testing.synthetic_tasks OUT``);
* `loopback`: an OpenAI-compatible chat server on 127.0.0.1 that answers schema-valid JSON.

Import the module you need (``from modeling_gve.testing.media import make_video``): each one
imports only its own dependencies, so making a video does not load torch.
"""

from .._deprecation import moved_names

# `modeling_gve.testing` was one module; its names keep working for one release.
__getattr__ = moved_names(
    __name__,
    {
        **{
            name: f"modeling_gve.testing.tiny:{name}"
            for name in ("QWEN2_5_VL_CHAT_TEMPLATE", "build_tiny_tokenizer", "make_tiny_checkpoint")
        },
        **{
            name: f"modeling_gve.testing.media:{name}"
            for name in ("ffmpeg_available", "make_audio_only", "make_image", "make_video")
        },
    },
)
