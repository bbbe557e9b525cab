"""The encoder layer (`modeling_gve.encoders`): a GVE checkpoint loaded as a SentenceTransformer
honours the sampling overrides exactly like the GVE path; roles pick the prompt; the encoder kind
is never guessed from a failed Hub call."""

import httpx
import pytest
import torch
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RemoteEntryNotFoundError

from modeling_gve.encoders import Encoder, GVEEncoder, SentenceTransformerEncoder, detect_encoder

OVERRIDES = {"max_frames": 4, "min_frames": 4, "video_min_pixels": 16 * 784, "video_max_pixels": 64 * 784}


@pytest.fixture(scope="module")
def encoders(tiny_converted):
    from sentence_transformers import SentenceTransformer

    from modeling_gve import GVEModel

    st = SentenceTransformer(str(tiny_converted), trust_remote_code=True, device="cpu")
    gve = GVEModel.from_pretrained(tiny_converted).eval()
    return {
        "gve": GVEEncoder(gve, sampling=OVERRIDES),
        "st": SentenceTransformerEncoder(st, str(tiny_converted), sampling=OVERRIDES),
        "st-default": SentenceTransformerEncoder(st, str(tiny_converted)),
    }


def test_gve_sentence_transformer_applies_the_sampling_overrides_like_the_gve_path(encoders, media):
    items = [
        {"video": str(media["video_long"])},
        {"text": "then it turns", "video": str(media["video"])},
        {"image": str(media["image2"])},
        "a red car",
    ]
    instruction = "Find the video according to the text description."
    gve = encoders["gve"].encode(items, instruction=instruction, batch_size=3, on_error="skip")
    st = encoders["st"].encode(items, instruction=instruction, batch_size=3, on_error="skip")
    assert st.indices == gve.indices == [0, 1, 2, 3]
    assert torch.allclose(st.embeddings, gve.embeddings, atol=1e-5)
    default = encoders["st-default"].encode(items[:1], on_error="skip").embeddings
    assert (default - st.embeddings[:1]).abs().max() > 1e-3  # the overrides matter on this video
    # what results.json and the cache namespace record is what was applied
    assert encoders["st"].describe()["sampling"] == encoders["gve"].settings()
    assert encoders["st"].describe()["sampling"]["max_frames"] == 4
    assert encoders["st"].cache_settings(None) != encoders["st-default"].cache_settings(None)


def test_gve_sentence_transformer_skips_and_names_bad_inputs(encoders, media, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video")
    items = [{"video": str(media["video"])}, {"video": str(broken)}, "text", {"image": str(tmp_path / "none.png")}]
    result = encoders["st"].encode(items, batch_size=2, on_error="skip")
    assert result.indices == [0, 2]
    assert [(e.index, e.input) for e in result.errors] == [(1, str(broken)), (3, str(tmp_path / "none.png"))]
    assert "could not be opened as a video" in result.errors[0].reason and result.errors[1].reason == "file not found"
    good = encoders["gve"].encode([items[0], items[2]], on_error="skip").embeddings
    assert torch.allclose(result.embeddings, good, atol=1e-5)
    with pytest.raises(ValueError, match=r"inputs\[1\] .*broken.mp4: could not be opened"):
        encoders["st"].encode(items, batch_size=2, on_error="raise")


def test_roles_choose_the_prompt(encoders, gve_model, media):
    """A query is embedded with the instruction, a document (candidate) with the default prompt."""
    items = [{"video": str(media["video"])}, "a red car"]
    instruction = "Find the video according to the text description."
    gve = GVEEncoder(gve_model)
    assert isinstance(gve, Encoder) and gve.dimension == gve_model.config.text_config.hidden_size
    document = gve.encode(items, instruction, role="document").embeddings
    assert torch.equal(document, gve_model.encode(items))  # the instruction does not apply to documents
    query = gve.encode(items, instruction, role="query").embeddings
    assert torch.equal(query, gve_model.encode(items, instruction=instruction))
    st = encoders["st-default"]
    assert torch.allclose(st.encode(items, instruction, role="document").embeddings, document, atol=1e-5)
    assert torch.allclose(st.encode(items, instruction, role="query").embeddings, query, atol=1e-5)
    with pytest.raises(ValueError, match="role must be 'query' or 'document', got 'doc'"):
        gve.encode(items, role="doc")


def test_a_sentence_transformer_uses_its_own_role_prompts_first(tiny_ckpt):
    """As ``encode_query`` / ``encode_document`` (and mteb) do."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_ckpt), device="cpu")
    encoder = SentenceTransformerEncoder(model, str(tiny_ckpt))
    assert encoder.instruction_for("query", "Find the video.") == "Find the video."
    assert encoder.instruction_for("document", "Find the video.") is None
    model.prompts = {"query": "query: ", "document": "passage: "}
    assert encoder.instruction_for("query", "Find the video.") == "query: "
    assert encoder.instruction_for("document", None) == "passage: "
    got = encoder.encode(["a red car"], "Find the video.", role="query").embeddings
    direct = model.encode(["a red car"], prompt="query: ", convert_to_tensor=True, normalize_embeddings=True)
    assert torch.allclose(got, direct.float(), atol=1e-6)


def test_other_sentence_transformers_refuse_gve_only_options(tiny_ckpt):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_ckpt), device="cpu")  # stock module + mean pooling: not GVE
    with pytest.raises(ValueError, match="max_length applies to GVE checkpoints only"):
        SentenceTransformerEncoder(model, str(tiny_ckpt), sampling={"max_length": 512})
    encoder = SentenceTransformerEncoder(model, str(tiny_ckpt), sampling={"max_frames": 4})
    assert encoder.gve_module is None and encoder.describe()["sampling"]["max_frames"] == 4


def _response(status: int) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("HEAD", "https://huggingface.co/org/model/config.json"))


@pytest.mark.parametrize(
    "error",
    [
        HfHubHTTPError("503 Service Unavailable", response=_response(503)),
        HfHubHTTPError("401 Unauthorized", response=_response(401)),
        TimeoutError("read timed out"),
        LocalEntryNotFoundError("An error happened while trying to locate the file on the Hub"),
    ],
    ids=["5xx", "401", "timeout", "offline-not-cached"],
)
def test_detect_encoder_does_not_guess_when_the_hub_cannot_answer(monkeypatch, error):
    import huggingface_hub

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fail)
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda *a, **k: None)
    with pytest.raises(OSError, match="Could not read config.json of 'org/model'.*--encoder gve"):
        detect_encoder("org/model")


def test_detect_encoder_without_config_json_is_sentence_transformers(monkeypatch, tmp_path):
    import huggingface_hub

    def missing(*args, **kwargs):
        raise RemoteEntryNotFoundError("404 config.json", response=_response(404))

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", missing)
    assert detect_encoder("org/model") == "sentence-transformers"

    def offline(*args, **kwargs):
        raise LocalEntryNotFoundError("offline")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", offline)
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda *a, **k: huggingface_hub._CACHED_NO_EXIST)
    assert detect_encoder("org/model") == "sentence-transformers"  # known from an earlier download
    (tmp_path / "st-only").mkdir()
    assert detect_encoder(str(tmp_path / "st-only")) == "sentence-transformers"  # a local folder without one
