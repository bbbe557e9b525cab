"""GVEModel.encode equals an independent reference built only from stock pieces:

* media read and resized by ``qwen-vl-utils`` (the authors' preprocessing),
* the prompt rendered by Qwen2.5-VL's own chat template plus an appended ``<|endoftext|>``,
* tensors made by the stock ``Qwen2_5_VLProcessor`` (with the video metadata, so the
  temporal positions are right),
* hidden states from the stock ``Qwen2_5_VLForConditionalGeneration``
  (``hidden_states[-1]`` at the appended token), L2-normalised.
"""

import pytest
import torch
import torch.nn.functional as F

UVRB_MSRVTT = "Find the clip that corresponds to the described scene in the given video."
VIDEO_SETTINGS = {"fps": 1.0, "min_frames": 32, "max_frames": 8, "min_pixels": 128 * 28 * 28, "max_pixels": 200 * 28 * 28}
IMAGE_SETTINGS = {"min_pixels": 4 * 28 * 28, "max_pixels": 256 * 28 * 28}


@pytest.fixture(scope="module")
def reference(tiny_ckpt):
    from transformers import Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor

    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(tiny_ckpt).eval()
    processor = Qwen2_5_VLProcessor.from_pretrained(tiny_ckpt)
    return model, processor


def reference_inputs(processor, item: dict, instruction: str | None):
    from qwen_vl_utils import fetch_image, fetch_video

    content, images, videos, metadata, sample_fps = [], [], [], [], []
    if "video" in item:
        (video, meta), fps = fetch_video(
            {"video": str(item["video"]), **VIDEO_SETTINGS}, return_video_sample_fps=True, return_video_metadata=True
        )
        videos.append(video)
        metadata.append(meta)
        sample_fps.append(fps)
        content.append({"type": "video"})
    if "image" in item:
        images.append(fetch_image({"image": str(item["image"]), **IMAGE_SETTINGS}))
        content.append({"type": "image"})
    if "text" in item:
        content.append({"type": "text", "text": item["text"]})
    messages = [
        {"role": "system", "content": instruction or "You are a helpful assistant."},
        {"role": "user", "content": content},
    ]
    prompt = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) + "<|endoftext|>"
    inputs = processor(
        text=[prompt],
        images=images or None,
        videos=videos or None,
        video_metadata=metadata or None,
        do_sample_frames=False,
        return_tensors="pt",
    )
    return inputs, sample_fps


def reference_embedding(model, inputs) -> torch.Tensor:
    with torch.no_grad():
        out = model(**inputs, output_hidden_states=True, use_cache=False)
    return F.normalize(out.hidden_states[-1][0, -1].float(), dim=-1)


CASES = {
    "text": lambda m: {"text": "a man is playing a guitar on stage"},
    "image": lambda m: {"image": m["image2"]},
    "video": lambda m: {"video": m["video"]},
    "text+image": lambda m: {"text": "the same person, now riding a bike", "image": m["image"]},
    "text+video": lambda m: {"text": "continue the motion", "video": m["video_long"]},
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("instruction", [None, UVRB_MSRVTT])
def test_encode_matches_stock_reference(case, instruction, gve_model, reference, media):
    ref_model, ref_processor = reference
    item = CASES[case](media)
    ours = gve_model.encode([item if case != "text" else item["text"]], instruction=instruction)[0]

    inputs, sample_fps = reference_inputs(ref_processor, item, instruction)
    expected = reference_embedding(ref_model, inputs)
    cosine = float(ours @ expected)
    assert cosine > 0.9999, f"{case}: cosine {cosine}"

    # Same tokens, and for videos the temporal step the authors' sampling implies.
    batch = gve_model.processor.process([item], instruction=instruction)
    assert torch.equal(batch["input_ids"], inputs["input_ids"])
    if sample_fps:
        assert batch["second_per_grid_ts"].tolist() == pytest.approx([2 / fps for fps in sample_fps])


def test_reference_would_catch_a_wrong_pooling_token(gve_model, reference, media):
    """The parity check is sharp: pooling the last template token instead of the appended
    <|endoftext|> gives a clearly different vector."""
    ref_model, ref_processor = reference
    item = {"text": "a dog catches a frisbee", "video": media["video"]}
    inputs, _ = reference_inputs(ref_processor, item, None)
    with torch.no_grad():
        out = ref_model(**inputs, output_hidden_states=True, use_cache=False)
    wrong = F.normalize(out.hidden_states[-1][0, -2].float(), dim=-1)
    ours = gve_model.encode([item])[0]
    assert float(ours @ wrong) < 0.99


def test_released_v5_and_sharded_layouts_load_to_identical_embeddings(tmp_path, gve_model, media):
    from modeling_gve import GVEModel
    from modeling_gve.testing.tiny import make_tiny_checkpoint

    item = {"text": "a red car", "video": media["video"]}
    expected = gve_model.encode([item])
    for layout, shards in (("v5", 1), ("v4", 3)):
        folder = make_tiny_checkpoint(tmp_path / f"{layout}-{shards}", layout=layout, seed=0, num_shards=shards)
        model = GVEModel.from_pretrained(folder).eval()
        assert torch.allclose(model.encode([item]), expected, atol=1e-6), layout


def test_lm_head_is_never_read(tiny_ckpt, monkeypatch):
    """Released checkpoints carry an unused lm_head; loading must not read its bytes."""
    import safetensors

    from modeling_gve import GVEModel

    read: list[str] = []
    original = safetensors.safe_open

    class LazySlice:
        def __init__(self, inner, name):
            self._inner, self._name = inner, name

        def __getitem__(self, index):
            read.append(self._name)
            return self._inner[index]

        def __getattr__(self, attr):
            return getattr(self._inner, attr)

    class Spy:
        def __init__(self, *args, **kwargs):
            self._inner = original(*args, **kwargs)

        def __enter__(self):
            self._inner.__enter__()
            return self

        def __exit__(self, *exc):
            return self._inner.__exit__(*exc)

        def get_slice(self, name):  # lazy: only indexing it reads bytes
            return LazySlice(self._inner.get_slice(name), name)

        def get_tensor(self, name):
            read.append(name)
            return self._inner.get_tensor(name)

        def __getattr__(self, attr):
            return getattr(self._inner, attr)

    import transformers.modeling_utils as modeling_utils

    monkeypatch.setattr(safetensors, "safe_open", Spy)
    if hasattr(modeling_utils, "safe_open"):
        monkeypatch.setattr(modeling_utils, "safe_open", Spy)
    model = GVEModel.from_pretrained(tiny_ckpt)
    assert read, "the spy saw no tensor reads; the test would be vacuous"
    assert not [name for name in read if name.startswith("lm_head")]
    assert not any("lm_head" in name for name, _ in model.named_parameters())


@pytest.fixture(scope="module")
def odd_images(tmp_path_factory):
    """Images where image_reader="gve" deliberately differs from qwen-vl-utils."""
    import numpy as np
    from PIL import Image

    root = tmp_path_factory.mktemp("odd-images")
    photo = Image.effect_mandelbrot((120, 80), (-2.0, -1.0, 1.0, 1.0), 60).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways, "rotate 90° clockwise to view"
    photo.save(root / "exif.jpg", exif=exif)
    ramp = np.tile(np.linspace(0, 65535, 90), (60, 1))
    Image.fromarray(ramp.astype(np.uint16)).save(root / "gray16.png")
    Image.fromarray(ramp.astype(np.float32)).save(root / "float.tif")
    Image.fromarray(np.dstack([np.full((60, 90), 90, np.uint8), (ramp / 257).astype(np.uint8)]), "LA").save(root / "la.png")
    return {name: root / name for name in ("exif.jpg", "gray16.png", "float.tif", "la.png")}


@pytest.mark.parametrize("image_reader", ["gve", "reference"])
def test_ordinary_image_matches_reference_in_both_image_reader_modes(image_reader, gve_model, reference, media):
    ref_model, ref_processor = reference
    item = {"text": "a photo", "image": media["image2"]}
    ours = gve_model.encode([item], image_reader=image_reader)[0]
    inputs, _ = reference_inputs(ref_processor, item, None)
    assert float(ours @ reference_embedding(ref_model, inputs)) > 0.9999
    assert torch.equal(gve_model.processor.process([item], image_reader=image_reader)["input_ids"], inputs["input_ids"])


@pytest.mark.parametrize("name", ["exif.jpg", "gray16.png", "float.tif", "la.png"])
def test_odd_images_match_reference_with_the_reference_reader(name, gve_model, reference, odd_images):
    ref_model, ref_processor = reference
    item = {"image": odd_images[name]}
    inputs, _ = reference_inputs(ref_processor, item, None)
    expected = reference_embedding(ref_model, inputs)
    assert float(gve_model.encode([item], image_reader="reference")[0] @ expected) > 0.9999
    batch = gve_model.processor.process([item], image_reader="reference")
    assert torch.equal(batch["pixel_values"], inputs["pixel_values"])
    # the default reader differs on purpose (docs/model.md, "How images are read")
    assert not torch.equal(gve_model.processor.process([item])["pixel_values"], inputs["pixel_values"])
