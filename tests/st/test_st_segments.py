"""Segments through sentence-transformers (`modeling_gve.segments.encode_segments`): a GVE
checkpoint loaded as a SentenceTransformer gives `GVEModel.encode_segments`' vectors."""

import pytest
import torch
from sentence_transformers import SentenceTransformer

from modeling_gve.encoders import SentenceTransformerEncoder
from modeling_gve.segments import encode_segments


@pytest.fixture(scope="module")
def st_model(tiny_converted):
    return SentenceTransformer(str(tiny_converted), trust_remote_code=True, device="cpu")


@pytest.mark.parametrize("sampling", [{}, {"max_frames": 4}])
def test_sentence_transformer_segments_equal_the_models(st_model, gve_model, three_clips, media, sampling):
    videos = [str(three_clips["long"]), str(media["video_long"])]
    expected = gve_model.encode_segments(videos, segment_seconds=10, stride_seconds=5, include_video=True, **sampling)
    got = encode_segments(st_model, videos, segment_seconds=10, stride_seconds=5, include_video=True, **sampling)
    wrapped = encode_segments(SentenceTransformerEncoder(st_model, "tiny", sampling=sampling), videos, 10, 5)
    for e, g, w in zip(expected, got, wrapped):
        assert e.spans == g.spans == w.spans
        torch.testing.assert_close(g.embeddings, e.embeddings, atol=1e-5, rtol=0)
        torch.testing.assert_close(w.embeddings, e.embeddings, atol=1e-5, rtol=0)
        torch.testing.assert_close(g.video_embedding, e.video_embedding, atol=1e-5, rtol=0)
    assert [len(v.segments) for v in expected] == [5, 1]


def test_bad_videos_are_skipped_on_the_sentence_transformers_path_too(st_model, tmp_path, media):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\0" * 100)
    result = encode_segments(st_model, [str(broken), str(media["video"])], segment_seconds=1, on_error="skip")
    assert result.indices == [1] and result.errors[0].input == str(broken)
    assert len(result.videos[0].segments) == 3


def test_shot_segments_on_the_sentence_transformers_path(st_model, gve_model, three_clips):
    pytest.importorskip("scenedetect")
    (expected,) = gve_model.encode_segments([str(three_clips["long"])], segments="shots")
    (got,) = encode_segments(st_model, [str(three_clips["long"])], segments="shots")
    assert got.spans == expected.spans == [(0.0, 10.0), (10.0, 20.0), (20.0, 30.0)]
    torch.testing.assert_close(got.embeddings, expected.embeddings, atol=1e-5, rtol=0)
