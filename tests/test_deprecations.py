"""Names and modules that moved keep working for one release, with a FutureWarning naming their new home."""

import importlib
import warnings

import pytest
import torch

from modeling_gve import directions, embedding_cache, encoders, pairs
from modeling_gve.checkpoint import REMOTE_CODE_FILES
from modeling_gve.modeling_gve import EncodeResult
from modeling_gve.uvrb.tasks import task_prompts

MOVED_MODULES = {
    "modeling_gve.prompts": "modeling_gve.uvrb.tasks",
    "modeling_gve.inference": "modeling_gve.encoders",
    "modeling_gve.uvrb.encoders": "modeling_gve.encoders",
    "modeling_gve.synthesis.embedders": "modeling_gve.encoders",
    "modeling_gve.sentence_transformers_checkpoint": "modeling_gve.checkpoint",
}


@pytest.mark.parametrize("module", MOVED_MODULES)
def test_moved_modules_warn_and_still_import(module):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        importlib.import_module(module)  # the first import warns too, unless another test imported it
    with pytest.warns(FutureWarning, match=f"{module} is deprecated.*use {MOVED_MODULES[module]}"):
        importlib.reload(importlib.import_module(module))


def test_moved_modules_hand_on_the_new_objects():
    with pytest.warns(FutureWarning):
        prompts = importlib.reload(importlib.import_module("modeling_gve.prompts"))
        uvrb_encoders = importlib.reload(importlib.import_module("modeling_gve.uvrb.encoders"))
        inference = importlib.reload(importlib.import_module("modeling_gve.inference"))
    assert prompts.UVRB_PROMPTS == task_prompts() and prompts.DIRECTION_PROMPTS is directions.INSTRUCTIONS
    assert uvrb_encoders.GVEEncoder is encoders.GVEEncoder and uvrb_encoders.UVRBEncoder is encoders.Encoder
    assert inference.load_gve is encoders.load_gve and inference.DEFAULT_MODEL == encoders.DEFAULT_MODEL


def test_encode_cached_still_encodes_through_the_cache(tmp_path):
    class Model:
        dimension = 2

        def __init__(self):
            self.seen = []

        def encode(self, inputs, instruction=None, batch_size=8, on_error="skip", num_workers=0):
            self.seen += inputs
            return EncodeResult(embeddings=torch.ones(len(inputs), 2), indices=list(range(len(inputs))), errors=[])

    with pytest.warns(FutureWarning):
        inference = importlib.reload(importlib.import_module("modeling_gve.inference"))
    model, cache = Model(), embedding_cache.EmbeddingCache(tmp_path, {"model": "m"})
    assert inference.encode_cached(model, ["a", "b"], ["ka", "kb"], cache, show_progress_bar=False).indices == [0, 1]
    inference.encode_cached(model, ["a", "b"], ["ka", "kb"], cache, show_progress_bar=False)
    assert model.seen == ["a", "b"]  # the second call read the cache


MOVED_NAMES = [
    ("modeling_gve.training.data", "DEFAULT_INSTRUCTIONS", lambda v: v is directions.INSTRUCTIONS),
    ("modeling_gve.training.data", "default_instruction", lambda f: f("T2V") == directions.instruction("T2V")),
    ("modeling_gve.training.data", "LETTERS", lambda v: v is directions.LETTERS),
    ("modeling_gve.training.data", "SCHEMA_COLUMNS", lambda v: v is pairs.COLUMNS),
    ("modeling_gve.training.data", "direction_of", lambda f: f is pairs.direction_of),
    ("modeling_gve.training.data", "write_task", lambda f: f is pairs.write_task),
    ("modeling_gve.training", "write_task", lambda f: f is pairs.write_task),
    ("modeling_gve.training", "default_tier", lambda f: f("TI2V") == 4),
    ("modeling_gve.training.curriculum", "default_tier", lambda f: f("T2T") == 1),
    ("modeling_gve.search", "QUERY_INSTRUCTIONS", lambda v: v["text+image"] == directions.instruction("TI2V")),
    ("modeling_gve.search", "query_direction", lambda f: f("text+video") == "TV2V"),
    ("modeling_gve.search", "LETTERS", lambda v: v is directions.LETTERS),
    ("modeling_gve.synthesis.negatives", "TASK_INSTRUCTIONS", lambda v: v is directions.INSTRUCTIONS),
    ("modeling_gve.synthesis.tasks", "ROW_FIELDS", lambda v: v == pairs.COLUMNS[:-1]),
    ("modeling_gve.synthesis.tasks", "TASK_PATTERNS", lambda v: v["TI2V"] == (("query_text", "query_image"), "pos_video")),
    ("modeling_gve.synthesis.writer", "ROW_SCHEMA", lambda v: v is pairs.SCHEMA),
    ("modeling_gve.synthesis.writer", "write_task", lambda f: f is pairs.write_task),
    ("modeling_gve.synthesis.writer", "config_entry", lambda f: f is pairs.config_entry),
    ("modeling_gve.synthesis.consistency", "video_key", lambda f: f("x.mp4") == embedding_cache.item_key({"video": "x.mp4"})),
    ("modeling_gve.convert", "REMOTE_CODE_FILES", lambda v: v is REMOTE_CODE_FILES),
    ("modeling_gve.embedding_cache", "file_fingerprint", lambda f: f is embedding_cache.content_key),
]  # fmt: skip


@pytest.mark.parametrize(("module", "name", "check"), MOVED_NAMES, ids=[f"{m}.{n}" for m, n, _ in MOVED_NAMES])
def test_moved_names_warn_and_still_work(module, name, check):
    with pytest.warns(FutureWarning, match=f"{module}.{name} is deprecated"):
        value = getattr(importlib.import_module(module), name)
    assert check(value)
