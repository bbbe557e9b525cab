"""Frame folders as model input (``--frames-protocol``): ``reference`` is what
``qwen_vl_utils.fetch_video`` does given the frame list (frames, metadata and the embedding of
the stock model on them), ``uniform`` takes N numpy-linspace frames, and the protocol is part
of a frame folder's cache key and of results.json."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from uvrb_helpers import TEST_SAMPLING, EncodeCounter, mini_uvrb

from modeling_gve.testing.media import make_image
from modeling_gve.uvrb.config import UVRBRunConfig
from modeling_gve.uvrb.frames import FramesReading, reference_frames
from modeling_gve.uvrb.runner import run_uvrb
from modeling_gve.video import DEFAULT_MAX_TOTAL_PIXELS, VideoFrames, read_video

GVE_VIDEO = {"min_pixels": 128 * 28 * 28, "max_pixels": 200 * 28 * 28, "total_pixels": DEFAULT_MAX_TOTAL_PIXELS}
SMALL = {"min_pixels": 4 * 28 * 28, "max_pixels": 16 * 28 * 28, "total_pixels": 40 * 28 * 28}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Five frames of an odd size (not multiples of 28), as a frame folder holds them."""
    folder = tmp_path_factory.mktemp("frames") / "clip"
    for i in range(5):
        make_image(folder / f"frame_{i + 1:04d}.jpg", size=(330, 190), seed=i)
    return folder


@pytest.mark.parametrize("settings", [GVE_VIDEO, SMALL], ids=["gve-video-settings", "small-budget"])
def test_reference_protocol_is_fetch_video_given_the_frame_list(folder, settings):
    from qwen_vl_utils import fetch_video

    files = VideoFrames.from_folder(folder, fps=1.0).frames
    (expected, metadata), sample_fps = fetch_video(
        {"video": files, "sample_fps": 2.5, **settings}, return_video_sample_fps=True, return_video_metadata=True
    )
    ours = reference_frames(files, 2.5, **settings)
    assert ours.frames.dtype == torch.uint8 and ours.frames.shape[0] == 6  # 5 frames, the last repeated
    assert torch.equal(ours.frames.float(), expected)
    assert (ours.fps, ours.frames_indices, ours.total_num_frames) == (
        metadata["fps"], metadata["frames_indices"], metadata["total_num_frames"]
    ) and sample_fps == 2.5
    assert read_video(ours) is ours  # a sampled video is embedded as given


def test_reference_protocol_embeds_like_the_stock_model_on_fetch_video_output(folder, tiny_ckpt, gve_model):
    from qwen_vl_utils import fetch_video
    from transformers import Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor

    reading = FramesReading(protocol="reference", fps=2.0, min_pixels=SMALL["min_pixels"],
                            max_pixels=SMALL["max_pixels"], max_total_pixels=SMALL["total_pixels"])  # fmt: skip
    ours = gve_model.encode([{"video": reading.model_input(folder), "text": "a clip"}], instruction="Find it.")[0]

    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(tiny_ckpt).eval()
    processor = Qwen2_5_VLProcessor.from_pretrained(tiny_ckpt)
    files = VideoFrames.from_folder(folder, fps=2.0).frames
    (video, metadata) = fetch_video({"video": files, "sample_fps": 2.0, **SMALL}, return_video_metadata=True)
    messages = [{"role": "system", "content": "Find it."},
                {"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "a clip"}]}]  # fmt: skip
    prompt = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) + "<|endoftext|>"
    inputs = processor(text=[prompt], videos=[video], video_metadata=[metadata], do_sample_frames=False,
                       return_tensors="pt")  # fmt: skip
    with torch.no_grad():
        hidden = model(**inputs, output_hidden_states=True, use_cache=False).hidden_states[-1][0, -1]
    assert F.cosine_similarity(ours, F.normalize(hidden.float(), dim=-1), dim=0) > 0.99999


def test_uniform_protocol_takes_numpy_linspace_frames(folder, tmp_path):
    reading = FramesReading(protocol="uniform", fps=1.0, num_frames=4)
    clip = reading.model_input(folder)
    files = VideoFrames.from_folder(folder, fps=1.0).frames
    assert clip.frames == [files[i] for i in np.linspace(0, 4, 4, dtype=int)] and clip.fps == pytest.approx(4 / 5)
    sampled = read_video(clip, min_pixels=SMALL["min_pixels"], max_pixels=SMALL["max_pixels"])
    assert sampled.frames_indices == [0, 1, 2, 3]  # GVE keeps the N frames, in order
    short = FramesReading(protocol="uniform", num_frames=8).model_input(folder)  # fewer frames than N: repeated
    assert short.frames == [files[i] for i in (0, 0, 1, 1, 2, 2, 3, 4)]
    assert FramesReading.for_sampling("uniform", 1.0, {"max_frames": 7, "num_frames": None}).num_frames == 6


def test_the_protocol_keys_frame_folders_only_and_is_recorded(tiny_ckpt, tmp_path_factory, tmp_path, monkeypatch):
    mini = mini_uvrb(tmp_path_factory)

    def run(protocol):
        return run_uvrb(UVRBRunConfig(model=str(tiny_ckpt), output=str(tmp_path / protocol), data=str(mini),
                                      tasks=["DiDeMo", "MSRVTT"], frames_protocol=protocol, num_workers=0,
                                      sampling=dict(TEST_SAMPLING), show_progress_bar=False,
                                      cache_dir=str(tmp_path / "cache")))  # fmt: skip

    first = run("video")
    assert first["data"]["frames"] == {"protocol": "video", "fps": 1.0}
    for protocol in ("reference", "uniform"):
        counter = EncodeCounter(monkeypatch)
        results = run(protocol)
        assert counter.items == results["encoding"]["encoded_this_run"] == 3  # DiDeMo's frame folders, nothing else
        assert results["data"]["frames"]["protocol"] == protocol
        assert results["tasks"]["MSRVTT"] == first["tasks"]["MSRVTT"]
        assert f"frame folders: `{protocol}` protocol" in (tmp_path / protocol / "results.md").read_text()
    assert results["data"]["frames"]["num_frames"] == TEST_SAMPLING["max_frames"]
