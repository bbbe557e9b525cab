"""Half precision and SDPA against the float32 eager reference, on CPU (the part of the GPU parity matrix
a CPU can run; ``benchmarks/parity_precision.py`` runs the whole matrix, flash-attention included, on a
GPU). Worst cosines measured here on the tiny random checkpoint (``docs/gpu.md``), batch 1 and 8, both
padding sides: bfloat16 + sdpa 0.9988 (video), float16 + sdpa 0.99999. The floors leave a margin for
other CPUs' kernels."""

import pytest
import torch

FLOORS = {torch.bfloat16: 0.997, torch.float16: 0.9995}


@pytest.fixture(scope="module")
def items_by_kind(media):
    return {
        "text": ["a man is playing a guitar on stage", "x"],
        "image": [{"image": media["image"]}, {"image": media["image2"]}],
        "video": [{"video": media["video"]}, {"video": media["video_long"]}],
        "composed": [
            {"text": "the same person, now riding a bike", "image": media["image"]},
            {"text": "continue the motion", "video": media["video_long"]},
        ],
    }


@pytest.fixture(scope="module")
def features(gve_model, items_by_kind):
    """Each item read and tokenized once; the models below differ only after this point."""
    processor = gve_model.processor
    # small frames keep the test fast; precision does not depend on the frame size
    config = processor.sampling_config(video_min_pixels=8 * 28 * 28, video_max_pixels=16 * 28 * 28)
    return [
        processor.tokenize_item(processor.load_item(x, config), None, config)
        for g in items_by_kind.values()
        for x in g
    ]


def embed(model, features, batch_size, padding_side):
    out = []
    with torch.inference_mode():
        for start in range(0, len(features), batch_size):
            batch = model.processor.collate(features[start : start + batch_size], padding_side=padding_side)
            out.append(model(**model.prepare_inputs(batch)).embeddings)
    return torch.cat(out)


@pytest.fixture(scope="module")
def fp32_eager(tiny_ckpt, features):
    from modeling_gve import GVEModel

    model = GVEModel.from_pretrained(tiny_ckpt, attn_implementation="eager").eval()
    return embed(model, features, batch_size=1, padding_side="right")


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
def test_half_precision_sdpa_matches_fp32_eager_per_kind(dtype, tiny_ckpt, items_by_kind, features, fp32_eager):
    from modeling_gve import GVEModel

    model = GVEModel.from_pretrained(tiny_ckpt, dtype=dtype, attn_implementation="sdpa").eval()
    assert model.dtype == dtype and model.config._attn_implementation == "sdpa"
    kinds = [kind for kind, group in items_by_kind.items() for _ in group]
    for batch_size in (1, 8):
        for padding_side in ("right", "left"):
            embeddings = embed(model, features, batch_size, padding_side)
            assert embeddings.dtype == torch.float32
            cosine = (embeddings * fp32_eager).sum(-1)
            for kind in items_by_kind:
                worst = min(float(c) for c, k in zip(cosine, kinds) if k == kind)
                assert worst >= FLOORS[dtype], (kind, batch_size, padding_side, worst)
