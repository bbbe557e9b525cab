"""Batch composition, batch size, padding side and prefetching never change an embedding."""

import pytest
import torch


@pytest.fixture(scope="module")
def mixed_items(media):
    return [
        "short",
        "a much longer text query about a person who walks a dog along a beach at sunset while waves roll in",
        {"image": media["image"]},
        {"video": media["video"]},
        {"text": "the same scene but at night", "image": media["image2"]},
        {"text": "then the camera pans left", "video": media["video_long"]},
        {"video": media["video_static"]},
        "x",
    ]


@pytest.fixture(scope="module")
def one_at_a_time(gve_model, mixed_items):
    return torch.cat([gve_model.encode([item]) for item in mixed_items])


@pytest.mark.parametrize("batch_size", [2, 3, 8])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_batched_equals_one_at_a_time(gve_model, mixed_items, one_at_a_time, batch_size, padding_side):
    batched = gve_model.encode(mixed_items, batch_size=batch_size, padding_side=padding_side)
    assert batched.shape == one_at_a_time.shape == (len(mixed_items), gve_model.config.text_config.hidden_size)
    assert (batched - one_at_a_time).abs().max() < 1e-4


def test_threaded_prefetch_gives_the_same_vectors_in_order(gve_model, mixed_items, one_at_a_time):
    threaded = gve_model.encode(mixed_items, batch_size=3, num_workers=3)
    assert (threaded - one_at_a_time).abs().max() < 1e-4


def test_embeddings_are_unit_norm_and_distinct(one_at_a_time):
    assert torch.allclose(one_at_a_time.norm(dim=-1), torch.ones(len(one_at_a_time)), atol=1e-5)
    similarity = one_at_a_time @ one_at_a_time.T
    off_diagonal = similarity[~torch.eye(len(similarity), dtype=torch.bool)]
    assert off_diagonal.max() < 0.999  # a tiny random model still separates different inputs


def test_forward_pads_either_side_identically(gve_model, mixed_items):
    processor = gve_model.processor
    config = processor.sampling_config()
    features = [processor.tokenize_item(processor.load_item(x, config), None, config) for x in mixed_items[:4]]
    with torch.no_grad():
        right = gve_model(**processor.collate(features, padding_side="right")).embeddings
        left = gve_model(**processor.collate(features, padding_side="left")).embeddings
    assert (right - left).abs().max() < 1e-4


def test_instruction_changes_queries_and_default_is_the_candidate_prompt(gve_model, media):
    item = {"video": media["video"]}
    default = gve_model.encode([item])
    explicit = gve_model.encode([item], instruction="You are a helpful assistant.")
    other = gve_model.encode([item], instruction="Find the video according to the image.")
    assert torch.allclose(default, explicit)
    assert float(default[0] @ other[0]) < 0.9999


def test_bfloat16_weights_give_the_same_directions(tiny_ckpt, mixed_items, one_at_a_time):
    from modeling_gve import GVEModel

    model = GVEModel.from_pretrained(tiny_ckpt, dtype=torch.bfloat16).eval()
    embeddings = model.encode(mixed_items, batch_size=4)
    assert embeddings.dtype == torch.float32  # pooled in float32 whatever the weights
    cosine = (embeddings * one_at_a_time).sum(-1)
    assert cosine.min() > 0.99, cosine
