"""V-SynFlow's embedders are the UVRB encoders used by role: same vectors and cache namespace as
`gve uvrb`, a cache keyed by dtype and model commit, bad inputs recorded (briefly named) while
other failures are raised and retried on the next run."""

import json

import pytest
import torch

from modeling_gve.synthesis.embedders import GVEEmbedder, SentenceTransformerEmbedder


def _embedder(kind, ckpt, **kwargs):
    cls = GVEEmbedder if kind == "gve" else SentenceTransformerEmbedder
    return cls(str(ckpt), device="cpu", batch_size=2, **kwargs)


def _settings(folder):
    (namespace,) = [p for p in folder.iterdir() if p.is_dir()]
    return json.loads((namespace / "settings.json").read_text())


def test_sentence_transformers_embedder_is_the_uvrb_encoder(tiny_ckpt, media, tmp_path):
    from modeling_gve.uvrb.encoders import load_encoder

    embedder = _embedder("sentence-transformers", tiny_ckpt)
    items = [{"video": str(media["video"])}, {"image": str(media["image"])}]
    got = embedder.embed(items, ["v", "i"], tmp_path / "cache", role="document", show_progress_bar=False)
    uvrb = load_encoder(str(tiny_ckpt), kind="sentence-transformers", device="cpu")
    reference = uvrb.encode(items, batch_size=2, on_error="skip")
    assert got.indices == reference.indices == [0, 1] and not got.errors
    assert torch.allclose(got.embeddings, reference.embeddings, atol=1e-5)
    # one cache namespace for both: what `gve uvrb` cached is what V-SynFlow reads, and back
    settings = _settings(tmp_path / "cache")
    assert settings == json.loads(json.dumps(uvrb.cache_settings(None), default=str))
    assert settings["dtype"] == "torch.float32" and "commit" in settings


@pytest.mark.parametrize("kind", ["gve", "sentence-transformers"])
def test_cache_is_keyed_by_dtype_and_commit(kind, tiny_ckpt, media, tmp_path):
    items, keys = [{"video": str(media["video"])}], ["v"]
    full = _embedder(kind, tiny_ckpt).embed(items, keys, tmp_path, role="document", show_progress_bar=False)
    half_embedder = _embedder(kind, tiny_ckpt, dtype="bfloat16")
    half = half_embedder.embed(items, keys, tmp_path, role="document", show_progress_bar=False)
    # bfloat16 vectors are computed, not read back from the float32 entries
    assert not torch.equal(full.embeddings, half.embeddings)
    assert torch.nn.functional.cosine_similarity(full.embeddings, half.embeddings).item() > 0.9
    assert sorted(json.loads((p / "settings.json").read_text())["dtype"] for p in tmp_path.iterdir()) == [
        "torch.bfloat16",
        "torch.float32",
    ]
    # another Hub commit of the weights is another namespace
    before = half_embedder.cache(tmp_path, None).root
    config = half_embedder.model.config if kind == "gve" else half_embedder.model[0].auto_model.config
    config._commit_hash = "0123456789abcdef0123456789abcdef01234567"
    after = half_embedder.cache(tmp_path, None)
    settings = json.loads((after.root / "settings.json").read_text())
    commit = settings["model"]["commit"] if kind == "gve" else settings["commit"]  # as each encoder records it
    assert after.root != before and commit == config._commit_hash


@pytest.mark.parametrize("kind", ["gve", "sentence-transformers"])
def test_bad_inputs_are_recorded_other_failures_raised_and_retried(kind, tiny_ckpt, media, tmp_path, monkeypatch):
    embedder = _embedder(kind, tiny_ckpt)
    missing = str(tmp_path / "gone.mp4")
    caption = "a very long caption " * 50
    items = [{"video": str(media["video"])}, {"video": missing, "text": caption}]
    keys = ["good", "bad"]
    model_class = type(embedder.model)

    def out_of_memory(*args, **kwargs):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    method = "_embed_features" if kind == "gve" else "encode"
    with monkeypatch.context() as patch:
        patch.setattr(model_class, method, out_of_memory)
        with pytest.raises(RuntimeError, match="out of memory"):
            embedder.embed(items, keys, tmp_path, role="document", show_progress_bar=False)
    cache = embedder.cache(tmp_path, embedder.instruction_for("document", None))
    assert cache.errors == {} and len(cache) == 0  # nothing recorded: the next run tries again

    result = embedder.embed(items, keys, tmp_path, role="document", show_progress_bar=False)
    assert result.indices == [0] and [e.index for e in result.errors] == [1]
    error = result.errors[0]
    assert "gone.mp4" in error.reason and "file not found" in error.reason
    # the record names the input briefly: its media path and the start of its text
    assert "gone.mp4" in error.input and caption[:20] in error.input and len(error.input) < 200
