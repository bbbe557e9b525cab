"""Every bad input gets an error naming the input and the reason; batch jobs can skip them."""


import pytest
import torch
from PIL import Image

from modeling_gve import EncodeResult, GVEInputError, VideoFrames
from modeling_gve.testing.media import make_audio_only, make_video


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


# --------------------------------------------------------------------------- every failure is a GVEInputError

FRAMES = torch.zeros(4, 32, 48, 3, dtype=torch.uint8)


@pytest.mark.parametrize(
    "fps,reason",
    [
        ("abc", "fps must be a number"),
        ("30", "fps must be a number"),
        (True, "fps must be a number"),
        (None, "fps must be a number"),
        (float("nan"), "fps must be a finite number between 0.001 and 100000"),
        (float("inf"), "fps must be a finite number between 0.001 and 100000"),
        (0, "fps must be positive"),
        (-25.0, "fps must be positive"),
        (1e-300, "fps must be a finite number between 0.001 and 100000"),
    ],
)
def test_bad_fps_of_decoded_frames(gve_model, fps, reason):
    item = {"text": "t", "video": {"frames": FRAMES, "fps": fps}}
    with pytest.raises(GVEInputError, match=r"inputs\[1\] <4 decoded frames at .* fps>: ") as info:
        gve_model.encode(["fine", item])
    assert reason in str(info.value)
    result = gve_model.encode(["fine", item, VideoFrames(FRAMES, fps=fps)], on_error="skip")
    assert result.indices == [0] and [e.index for e in result.errors] == [1, 2]
    assert all(reason in e.reason for e in result.errors)


def test_ambiguous_frame_layout_is_asked_for(gve_model):
    frames = torch.randint(0, 255, (4, 3, 60, 3), dtype=torch.uint8)  # (T, H=3, W, C) or (T, C, H, W=3)?
    with pytest.raises(GVEInputError, match=r"shape \(3, 60, 3\) is ambiguous.*layout='THWC'"):
        gve_model.encode([VideoFrames(frames, fps=4)])
    wide = gve_model.processor.process([VideoFrames(frames, fps=4, layout="THWC")])  # 3 rows x 60 columns
    tall = gve_model.processor.process([{"video": {"frames": frames, "fps": 4, "layout": "TCHW"}}])  # 60 x 3
    assert wide["video_grid_thw"][0, 1] < wide["video_grid_thw"][0, 2]  # (t, h, w): wider than high
    assert tall["video_grid_thw"][0, 1] > tall["video_grid_thw"][0, 2]
    with pytest.raises(GVEInputError, match="layout must be 'THWC', 'TCHW' or None"):
        gve_model.encode([VideoFrames(frames, fps=4, layout="HWC")])


@pytest.mark.parametrize("key", ["video", "image"])
def test_empty_media_list_is_an_error_not_a_text_only_item(gve_model, key):
    with pytest.raises(GVEInputError, match=rf"'{key}' is an empty list"):
        gve_model.encode([{"text": "a dog", key: []}])
    assert gve_model.encode([{"text": "a dog", key: None}]).shape[0] == 1  # None is "no media", as documented


def test_frames_of_the_wrong_kind(gve_model):
    cases = [
        ({"frames": 42, "fps": 4}, "frames must be an array or a sequence"),
        ({"frames": [["a", "b"]] * 4, "fps": 4}, "frames must be uint8 arrays or images, got an array of <U1"),
        ({"frames": [object()] * 4, "fps": 4}, "frames must be uint8 arrays or images, got an array of object"),
    ]
    for video, reason in cases:
        result = gve_model.encode(["fine", {"video": video}], on_error="skip")
        assert result.indices == [0], video
        assert reason in result.errors[0].reason


def test_any_failure_while_reading_is_reported_and_skipped(gve_model, media, tmp_path):
    """Failures nobody foresaw (a frame source that raises, a lazily opened image whose file is
    broken) are GVEInputErrors naming the input, with the original error kept as the cause."""

    class FlakyFrames:
        def __len__(self):
            return 4

        def __getitem__(self, index):
            raise KeyError(f"frame {index} went missing")

    data = media["image2"].read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    lazy = Image.open(tmp_path / "cut.jpg")  # header only: the pixels fail later
    items = ["fine", VideoFrames(FlakyFrames(), fps=4), lazy, {"image": media["image"]}]
    result = gve_model.encode(items, on_error="skip")
    assert result.indices == [0, 3]
    assert "could not be read (KeyError: 'frame 0 went missing')" in result.errors[0].reason
    assert "truncated" in result.errors[1].reason
    with pytest.raises(GVEInputError, match=r"inputs\[1\] <4 decoded frames at 4 fps>: could not be read") as info:
        gve_model.encode(items)
    assert isinstance(info.value.__cause__, KeyError)
