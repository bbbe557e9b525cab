"""`CachedEncoder`: any encoder through the on-disk cache. The caller calls ``encode`` once and gets
the same vectors whether they came from disk or not; the cache is keyed by model, dtype, commit and
prompt; bad inputs are recorded (briefly named) while other failures are raised and retried; an
interrupted job resumes."""

import json

import numpy as np
import pytest
import torch

from modeling_gve.encoders import CachedEncoder, GVEEncoder, load_encoder
from modeling_gve.modeling_gve import GVEModel
from modeling_gve.testing import make_video
from modeling_gve.video import VideoFrames


def _encoder(kind, ckpt, **kwargs):
    return load_encoder(str(ckpt), kind=kind, device="cpu", **kwargs)


def _settings(folder):
    (namespace,) = [p for p in folder.iterdir() if p.is_dir()]
    return json.loads((namespace / "settings.json").read_text())


def test_cached_vectors_are_the_encoder_s_own(tiny_ckpt, media, tmp_path):
    """Same vectors and one cache namespace, whoever reads it (`gve uvrb`, V-SynFlow, `gve search`)."""
    encoder = _encoder("sentence-transformers", tiny_ckpt)
    items = [{"video": str(media["video"])}, {"image": str(media["image"])}]
    reference = encoder.encode(items, batch_size=2, role="document")
    first = CachedEncoder(encoder, tmp_path / "cache").encode(items, batch_size=2, role="document")
    again = CachedEncoder(encoder, tmp_path / "cache")
    second = again.encode(items, batch_size=2, role="document")  # from disk
    assert first.indices == second.indices == reference.indices == [0, 1] and not first.errors
    assert torch.allclose(first.embeddings, reference.embeddings, atol=1e-5)
    assert torch.equal(first.embeddings, second.embeddings) and again.num_encoded == 0
    settings = _settings(tmp_path / "cache")
    assert settings == json.loads(json.dumps(encoder.cache_settings(None), default=str))
    assert settings["dtype"] == "torch.float32" and "commit" in settings


@pytest.mark.parametrize("kind", ["gve", "sentence-transformers"])
def test_cache_is_keyed_by_dtype_and_commit(kind, tiny_ckpt, media, tmp_path):
    items = [{"video": str(media["video"])}]
    full = CachedEncoder(_encoder(kind, tiny_ckpt), tmp_path).encode(items, role="document")
    half_encoder = _encoder(kind, tiny_ckpt, dtype="bfloat16")
    half = CachedEncoder(half_encoder, tmp_path).encode(items, role="document")
    # bfloat16 vectors are computed, not read back from the float32 entries
    assert not torch.equal(full.embeddings, half.embeddings)
    assert torch.nn.functional.cosine_similarity(full.embeddings, half.embeddings).item() > 0.9
    namespaces = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert sorted(json.loads((p / "settings.json").read_text())["dtype"] for p in namespaces) == [
        "torch.bfloat16",
        "torch.float32",
    ]
    # another Hub commit of the weights is another namespace
    cached = CachedEncoder(half_encoder, tmp_path)
    before = cached.store("document").root
    config = half_encoder.model.config if kind == "gve" else half_encoder.model[0].auto_model.config
    config._commit_hash = "0123456789abcdef0123456789abcdef01234567"
    after = CachedEncoder(half_encoder, tmp_path).store("document")
    settings = json.loads((after.root / "settings.json").read_text())
    commit = settings["model"]["commit"] if kind == "gve" else settings["commit"]  # as each encoder records it
    assert after.root != before and commit == config._commit_hash


@pytest.mark.parametrize("kind", ["gve", "sentence-transformers"])
def test_bad_inputs_are_recorded_other_failures_raised_and_retried(kind, tiny_ckpt, media, tmp_path, monkeypatch):
    encoder = _encoder(kind, tiny_ckpt)
    missing = str(tmp_path / "gone.mp4")
    caption = "a very long caption " * 50
    items = [{"video": str(media["video"])}, {"video": missing, "text": caption}]
    model_class = type(encoder.model)

    def out_of_memory(*args, **kwargs):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    method = "_embed_features" if kind == "gve" else "encode"
    with monkeypatch.context() as patch:
        patch.setattr(model_class, method, out_of_memory)
        with pytest.raises(RuntimeError, match="out of memory"):
            CachedEncoder(encoder, tmp_path).encode(items, role="document")
    cache = CachedEncoder(encoder, tmp_path).store("document")
    assert cache.errors == {} and len(cache) == 0  # nothing recorded: the next run tries again

    result = CachedEncoder(encoder, tmp_path).encode(items, role="document")
    assert result.indices == [0] and [e.index for e in result.errors] == [1]
    error = result.errors[0]
    assert "gone.mp4" in error.reason and "file not found" in error.reason
    # the record names the input briefly: its media path and the start of its text
    assert "gone.mp4" in error.input and caption[:20] in error.input and len(error.input) < 200
    with pytest.raises(ValueError, match=r"inputs\[1\] .*gone.mp4.*file not found"):
        CachedEncoder(encoder, tmp_path).encode(items, role="document", on_error="raise")


def test_interrupted_encoding_resumes_without_redoing_work(tmp_path, gve_model, monkeypatch):
    videos = [make_video(tmp_path / f"v{i}.mp4", seconds=1.0, fps=8, size=(64 + 16 * i, 64)) for i in range(5)]
    items = [{"video": str(v)} for v in videos]
    calls = []
    original = GVEModel.encode

    def flaky(self, inputs, *args, **kwargs):
        calls.append(len(inputs))
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed while encoding the second chunk
        return original(self, inputs, *args, **kwargs)

    monkeypatch.setattr(GVEModel, "encode", flaky)
    with pytest.raises(KeyboardInterrupt):
        CachedEncoder(GVEEncoder(gve_model), tmp_path / "cache", flush_every=2).encode(items, role="document")
    assert len(CachedEncoder(GVEEncoder(gve_model), tmp_path / "cache").store("document")) == 2  # on disk

    calls.clear()
    monkeypatch.setattr(GVEModel, "encode", original)
    resumed_encoder = CachedEncoder(GVEEncoder(gve_model), tmp_path / "cache", flush_every=2)
    resumed = resumed_encoder.encode(items, role="document")
    assert resumed.indices == list(range(5)) and resumed_encoder.num_encoded == 3
    assert (resumed.embeddings - gve_model.encode(items)).abs().max() < 1e-4


def test_failed_inputs_are_named_briefly(tmp_path, gve_model):
    """A failed input is reported by a short name, never the whole input (a long text, a frame array)."""
    long_text = "a very long description " * 2000
    items = [
        "fine",
        {"text": long_text, "video": str(tmp_path / "missing.mp4")},
        {"video": VideoFrames(np.zeros((1, 64, 64, 3), dtype=np.uint8), fps=1.0)},  # one frame: refused
    ]
    result = CachedEncoder(GVEEncoder(gve_model), tmp_path / "cache").encode(items)
    assert result.indices == [0]
    (missing, one_frame) = result.errors
    assert missing.index == 1 and missing.input.startswith(f"{{video={tmp_path / 'missing.mp4'}, text='a very long")
    assert one_frame.input == "{video=<1 decoded frames at 1.0 fps>}"
    assert all(len(e.input) < 200 for e in result.errors)
    assert "file not found" in missing.reason and "only 1 frame" in one_frame.reason


def test_per_call_sampling_is_refused(tmp_path, gve_model):
    """Sampling options change the vectors but not the cache namespace: set them on the encoder."""
    with pytest.raises(TypeError, match="set sampling options on the wrapped encoder"):
        CachedEncoder(GVEEncoder(gve_model), tmp_path).encode(["x"], max_frames=4)
    small = CachedEncoder(GVEEncoder(gve_model, {"max_frames": 4}), tmp_path)
    assert small.store("document").root != CachedEncoder(GVEEncoder(gve_model), tmp_path).store("document").root
