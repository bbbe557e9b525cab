"""The prompt template, the appended embedding token and truncation."""

import pytest
import torch

from modeling_gve import GVEInputError, format_prompt
from modeling_gve.testing.tiny import QWEN2_5_VL_CHAT_TEMPLATE


def render_with_qwen_template(tokenizer, instruction, content):
    messages = [{"role": "system", "content": instruction}, {"role": "user", "content": content}]
    return tokenizer.apply_chat_template(
        messages, chat_template=QWEN2_5_VL_CHAT_TEMPLATE, tokenize=False, add_generation_prompt=True
    )


@pytest.mark.parametrize(
    "text,num_images,num_videos",
    [("a cat", 0, 0), (None, 1, 0), (None, 0, 1), ("and now", 1, 0), ("then", 0, 1), ("both", 1, 1), (None, 2, 2)],
)
def test_prompt_equals_qwen_chat_template(gve_model, text, num_images, num_videos):
    content = [{"type": "video"}] * num_videos + [{"type": "image"}] * num_images
    if text is not None:
        content.append({"type": "text", "text": text})
    instruction = "Find the video according to the text description."
    expected = render_with_qwen_template(gve_model.processor.tokenizer, instruction, content)
    assert format_prompt(instruction, text, num_images, num_videos) == expected


def test_spec_layout_literally():
    assert format_prompt("SYS", "hello", num_images=1, num_videos=1) == (
        "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\n"
        "<|vision_start|><|video_pad|><|vision_end|><|vision_start|><|image_pad|><|vision_end|>hello"
        "<|im_end|>\n<|im_start|>assistant\n"
    )


def test_embedding_token_is_appended_and_pooled(gve_model):
    processor = gve_model.processor
    batch = processor.process(["hello"])
    ids = batch["input_ids"][0]
    tokenizer = processor.tokenizer
    assert ids[-1] == tokenizer.convert_tokens_to_ids("<|endoftext|>")
    assert tokenizer.decode(ids).endswith("<|im_start|>assistant\n<|endoftext|>")
    assert batch["mm_token_type_ids"].sum() == 0


def test_long_text_is_truncated_but_keeps_the_embedding_token(gve_model):
    processor = gve_model.processor
    eot = processor.tokenizer.convert_tokens_to_ids("<|endoftext|>")
    long_text = "word " * 500
    batch = processor.process([long_text], max_length=64)
    assert batch["input_ids"].shape[1] == 64
    assert batch["input_ids"][0, -1] == eot
    full = gve_model.encode([long_text])
    cut = gve_model.encode([long_text], max_length=64)
    assert full.shape == cut.shape and float(full[0] @ cut[0]) < 0.9999  # truncation really happened
    # the cut equals encoding the first max_length-1 tokens with the embedding token appended
    manual = batch["input_ids"]
    with torch.no_grad():
        expected = gve_model(input_ids=manual).embeddings
    assert torch.allclose(cut, expected, atol=1e-5)


def test_truncation_that_would_cut_visual_tokens_is_an_error(gve_model, media):
    with pytest.raises(GVEInputError, match=r"max_length=32.*visual tokens would be cut"):
        gve_model.encode([{"text": "x", "video": media["video"]}], max_length=32)


def test_mm_token_type_ids_mark_images_and_videos(gve_model, media):
    batch = gve_model.processor.process([{"text": "t", "image": media["image"], "video": media["video"]}])
    ids, types = batch["input_ids"][0], batch["mm_token_type_ids"][0]
    config = gve_model.config
    assert torch.equal(types == 1, ids == config.image_token_id)
    assert torch.equal(types == 2, ids == config.video_token_id)
    # forward derives the same types when they are not given
    with torch.no_grad():
        given = gve_model(**batch).embeddings
        derived = gve_model(**{k: v for k, v in batch.items() if k != "mm_token_type_ids"}).embeddings
    assert torch.allclose(given, derived)
