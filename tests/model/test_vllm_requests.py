"""vLLM requests carry GVE's prompt, frames and fps: checked on CPU by running the Hugging Face processor
the way vLLM runs it (prompt with one placeholder per media item, the request's media and
``mm_processor_kwargs``) and comparing with `GVEModel.encode`'s own inputs. The embeddings themselves
need vLLM on a GPU: ``recipes/vllm/parity.py``."""

import pytest
import torch

from modeling_gve import GVEInputError
from modeling_gve.processing_gve import EMBED_TOKEN, format_prompt
from modeling_gve.serving.vllm import CHAT_TEMPLATE_PATH, expected_prompt, pooler_config_kwargs, vllm_request

INSTRUCTION = "Find the video according to the text description."


@pytest.fixture(scope="module")
def processor(gve_model):
    return gve_model.processor


def cases(media):
    return {
        "text": "a man is playing a guitar on stage",
        "image": {"image": media["image2"]},
        "video": {"video": media["video"]},
        "text+image": {"text": "the same person, now riding a bike", "image": media["image"]},
        "text+video": {"text": "continue the motion", "video": media["video_long"]},
    }


def as_vllm_runs_it(processor, request):
    """What vLLM's multimodal processor does with a request: expand each placeholder through the
    Hugging Face processor, given the request's media and ``mm_processor_kwargs``."""
    from transformers import Qwen2_5_VLProcessor

    data = request.get("multi_modal_data", {})
    kwargs = dict(request.get("mm_processor_kwargs", {}))
    videos = [v[0] if isinstance(v, tuple) else v for v in data.get("video", [])]
    if videos and "video_metadata" not in kwargs:
        kwargs["video_metadata"] = [v[1] for v in data["video"]]
    text = processor.tokenizer.decode(request["prompt_token_ids"][:-1], skip_special_tokens=False)
    out = Qwen2_5_VLProcessor.__call__(
        processor,
        text=[text],
        images=data.get("image") or None,
        videos=[torch.from_numpy(v).permute(0, 3, 1, 2) for v in videos] or None,
        cap_pixels_per_frame=False,
        return_tensors="pt",
        **kwargs,
    )
    return out


@pytest.mark.parametrize("case", ["text", "image", "video", "text+image", "text+video"])
@pytest.mark.parametrize("mode", ["tuple", "kwargs"])
def test_request_reproduces_encode_inputs(case, mode, processor, media):
    item = cases(media)[case]
    request = vllm_request(item, processor, INSTRUCTION, video_metadata=mode)
    config = processor.sampling_config()
    ours = processor.tokenize_item(processor.load_item(item, config), INSTRUCTION, config)

    parts = ours.keys() - {"input_ids", "mm_token_type_ids"}
    if case == "text":
        assert "multi_modal_data" not in request
    else:
        theirs = as_vllm_runs_it(processor, request)
        expanded = torch.cat([theirs["input_ids"][0], torch.tensor([processor.embed_token_id])])
        assert torch.equal(expanded, ours["input_ids"])  # same tokens once vLLM expands the placeholders
        for key in parts:  # same pixels, grids and temporal step (second_per_grid_ts = 2 / sampled fps)
            assert torch.allclose(torch.as_tensor(theirs[key]).float(), ours[key].float()), key
    if "video" in case:
        video = ours["second_per_grid_ts"]
        sampled = processor.load_item(item, config).videos[0]
        assert torch.allclose(video, torch.tensor([2 / sampled.sampled_fps]))


def test_prompt_text_is_the_processor_prompt(processor, media):
    request = vllm_request({"text": "a dog", "video": media["video"]}, processor, INSTRUCTION)
    prompt = format_prompt(INSTRUCTION, "a dog", num_videos=1) + EMBED_TOKEN
    assert expected_prompt(processor, request) == prompt
    assert vllm_request("a dog", processor)["prompt_token_ids"][-1] == processor.embed_token_id


def test_frames_and_fps_are_the_readers(processor, media):
    from modeling_gve.video import read_video

    request = vllm_request({"video": media["video_long"]}, processor)
    ((frames, metadata),) = request["multi_modal_data"]["video"]
    sampled = read_video(media["video_long"])
    assert frames.shape == (8, *sampled.frames.shape[-2:], 3) and frames.dtype.name == "uint8"
    assert torch.equal(torch.from_numpy(frames).permute(0, 3, 1, 2), sampled.frames)
    assert metadata["fps"] == sampled.fps == 25.0
    assert metadata["frames_indices"] == sampled.frames_indices
    assert metadata["total_num_frames"] == sampled.total_num_frames
    assert request["mm_processor_kwargs"] == {"do_resize": False, "do_sample_frames": False}


def test_truncation_follows_encode(processor, media):
    config = processor.sampling_config(max_length=40)
    long_text = "word " * 100
    request = vllm_request(long_text, processor, sampling=config)
    ours = processor.tokenize_item(processor.load_item(long_text, config), None, config)
    assert request["prompt_token_ids"] == ours["input_ids"].tolist()
    with pytest.raises(GVEInputError, match="visual tokens would be cut"):
        vllm_request({"video": media["video"]}, processor, sampling=config)


def test_bad_inputs_fail_like_encode(processor, tmp_path):
    with pytest.raises(GVEInputError, match="missing.mp4: file not found"):
        vllm_request({"video": str(tmp_path / "missing.mp4")}, processor)


@pytest.mark.parametrize("order", ["text-first", "media-first"])
def test_chat_template_renders_the_gve_prompt(processor, order):
    template = CHAT_TEMPLATE_PATH.read_text()
    parts = [{"type": "video"}, {"type": "image"}, {"type": "text", "text": "a dog"}]
    if order == "text-first":
        parts = parts[::-1]
    messages = [{"role": "system", "content": INSTRUCTION}, {"role": "user", "content": parts}]
    rendered = processor.tokenizer.apply_chat_template(messages, chat_template=template, tokenize=False)
    assert rendered == format_prompt(INSTRUCTION, "a dog", num_images=1, num_videos=1) + EMBED_TOKEN
    only_text = [{"role": "user", "content": "a cat"}]
    rendered = processor.tokenizer.apply_chat_template(only_text, chat_template=template, tokenize=False)
    assert rendered == format_prompt("You are a helpful assistant.", "a cat") + EMBED_TOKEN


def test_pooler_fields_follow_the_installed_vllm():
    assert pooler_config_kwargs({"pooling_type", "normalize"}) == {"pooling_type": "LAST", "normalize": True}
    assert pooler_config_kwargs({"seq_pooling_type", "normalize"}) == {"seq_pooling_type": "LAST", "normalize": True}
