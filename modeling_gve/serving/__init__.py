# Copyright 2026 The GVE package authors. Apache-2.0.
"""Serving GVE with inference engines: `vllm` builds vLLM pooling requests that reproduce
`GVEModel.encode`'s prompts, frames and temporal positions (``recipes/vllm/``)."""
