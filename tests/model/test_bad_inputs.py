"""Every bad input gets an error naming the input and the reason; batch jobs can skip them."""

import shutil

import pytest
import torch
from PIL import Image

from modeling_gve import EncodeResult, GVEInputError
from modeling_gve.testing.media import make_audio_only, make_image, make_video


@pytest.fixture(scope="module")
def bad(tmp_path_factory, media):
    root = tmp_path_factory.mktemp("bad")
    good = media["video"]
    (root / "empty.mp4").write_bytes(b"")
    (root / "notes.mp4").write_text("this is a text file, not a video\n")
    data = good.read_bytes()
    (root / "truncated.mp4").write_bytes(data[: len(data) // 3])  # moov atom (at the end) lost
    faststart = make_video(root / "faststart.mp4", seconds=3.0, fps=30, size=(320, 240), faststart=True)
    fs = faststart.read_bytes()
    (root / "truncated_faststart.mp4").write_bytes(fs[: len(fs) // 2])  # index intact, frames missing
    make_audio_only(root / "audio.mp4")
    make_video(root / "one_frame.mp4", seconds=0.1, fps=10, size=(64, 64))
    make_video(root / "sliver.mp4", seconds=1.0, fps=10, size=(2040, 8))
    Image.new("RGB", (1000, 4)).save(root / "sliver.png")
    (root / "empty.png").write_bytes(b"")
    (root / "notes.png").write_text("not an image")
    return root


CASES = {
    "missing video": (lambda r: {"video": r / "missing.mp4"}, "missing.mp4", "file not found"),
    "empty video file": (lambda r: {"video": r / "empty.mp4"}, "empty.mp4", "empty"),
    "text file named .mp4": (lambda r: {"video": r / "notes.mp4"}, "notes.mp4", "could not be opened as a video"),
    "truncated mp4": (lambda r: {"video": r / "truncated.mp4"}, "truncated.mp4", "could not be opened as a video"),
    "truncated faststart mp4": (lambda r: {"video": r / "truncated_faststart.mp4"}, "truncated_faststart.mp4", "truncated or corrupt"),
    "audio-only file": (lambda r: {"video": r / "audio.mp4"}, "audio.mp4", "no video stream"),
    "one-frame video": (lambda r: {"video": r / "one_frame.mp4"}, "one_frame.mp4", "only 1 frame"),
    "video aspect ratio over 200:1": (lambda r: {"video": r / "sliver.mp4"}, "sliver.mp4", "aspect ratio 255.0:1"),
    "image aspect ratio over 200:1": (lambda r: {"image": r / "sliver.png"}, "sliver.png", "aspect ratio 250.0:1"),
    "missing image": (lambda r: {"image": r / "nope.png"}, "nope.png", "file not found"),
    "empty image": (lambda r: {"image": r / "empty.png"}, "empty.png", "empty"),
    "not an image": (lambda r: {"image": r / "notes.png"}, "notes.png", "could not be read as an image"),
    "empty text": (lambda r: "", "''", "text is empty"),
    "blank text in a composed query": (lambda r: {"text": "   ", "image": r / "sliver.png"}, "text=", "text is empty"),
    "unknown key": (lambda r: {"txt": "hello"}, "txt", "unknown key"),
    "empty dict": (lambda r: {}, "{}", "no text, image or video"),
    "unsupported type": (lambda r: 42, "int", "unsupported input"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_error_names_input_and_reason(gve_model, bad, case):
    make, name, reason = CASES[case]
    with pytest.raises(GVEInputError) as info:
        gve_model.encode(["a fine text", make(bad)])
    message = str(info.value)
    assert message.startswith("inputs[1]"), message
    assert name in message, message
    assert reason in message, message


def test_huge_resolution_is_refused_before_decoding(gve_model, media, tmp_path):
    with pytest.raises(GVEInputError, match=r"resolution 160x120 \(19200 pixels\) exceeds max_source_pixels=10000"):
        gve_model.encode([{"video": media["video"]}], max_source_pixels=10_000)
    big = tmp_path / "big.png"
    Image.new("RGB", (9000, 8000)).save(big)  # 72 MP: over the default 64 MP limit
    with pytest.raises(GVEInputError, match="big.png: resolution 9000x8000"):
        gve_model.encode([{"image": big}])


def test_bad_decoded_frames_are_reported(gve_model):
    with pytest.raises(GVEInputError, match="uint8"):
        gve_model.encode([{"video": {"frames": torch.rand(4, 32, 32, 3), "fps": 4}}])
    with pytest.raises(GVEInputError, match="fps must be positive"):
        gve_model.encode([{"video": {"frames": torch.zeros(4, 32, 32, 3, dtype=torch.uint8), "fps": 0}}])
    with pytest.raises(GVEInputError, match="needs 'frames' and 'fps'"):
        gve_model.encode([{"video": {"frames": torch.zeros(4, 32, 32, 3, dtype=torch.uint8)}}])


def test_skip_mode_returns_good_items_and_a_report(gve_model, bad, media):
    items = [
        "a good text",
        {"video": bad / "notes.mp4"},
        {"video": media["video"]},
        "",
        {"image": media["image"]},
        {"video": bad / "audio.mp4"},
    ]
    result = gve_model.encode(items, batch_size=2, on_error="skip")
    assert isinstance(result, EncodeResult)
    assert result.indices == [0, 2, 4]
    assert [e.index for e in result.errors] == [1, 3, 5]
    assert "notes.mp4" in result.errors[0].input and "could not be opened" in result.errors[0].reason
    assert "no video stream" in result.errors[2].reason
    expected = gve_model.encode([items[i] for i in result.indices])
    assert result.embeddings.shape == expected.shape
    assert (result.embeddings - expected).abs().max() < 1e-4
    assert torch.all(result.embeddings.norm(dim=-1) > 0.99)  # no zero vectors passed off as results


def test_skip_mode_with_nothing_good(gve_model, bad):
    result = gve_model.encode([{"video": bad / "empty.mp4"}], on_error="skip")
    assert result.embeddings.shape == (0, gve_model.config.text_config.hidden_size)
    assert result.indices == [] and len(result.errors) == 1


def test_on_error_is_validated(gve_model):
    with pytest.raises(ValueError, match="on_error must be 'raise' or 'skip'"):
        gve_model.encode(["x"], on_error="ignore")
