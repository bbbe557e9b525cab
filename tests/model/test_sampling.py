"""Frame choice and resizing follow the Qwen2.5-VL reference (qwen-vl-utils) exactly."""

import itertools
import re

import numpy as np
import pytest
import torch
from PIL import Image

from modeling_gve.testing.media import make_image, make_video
from modeling_gve.video import VideoFrames, read_image, read_video, sample_indices, smart_nframes, smart_resize

from qwen_vl_utils import vision_process as qwen_vl_utils  # the reference (setup.cfg [test] extra)


@pytest.mark.parametrize(
    "total_frames,video_fps",
    [(2, 30.0), (3, 30.0), (7, 25.0), (8, 24.0), (9, 30.0), (60, 30.0), (301, 29.97), (1800, 30.0), (36000, 60.0), (90, 1.0)],
)
@pytest.mark.parametrize(
    "fps,min_frames,max_frames",
    [(1.0, 32, 8), (2.0, 4, 768), (1.0, 4, 48), (0.5, 2, 16), (4.0, 16, 64)],
)
def test_frame_count_rule_matches_reference(total_frames, video_fps, fps, min_frames, max_frames):
    settings = {"fps": fps, "min_frames": min_frames, "max_frames": max_frames}
    try:
        expected = qwen_vl_utils.smart_nframes(dict(settings), total_frames=total_frames, video_fps=video_fps)
    except ValueError:
        with pytest.raises(ValueError):
            smart_nframes(total_frames, video_fps, **settings)
        return
    assert smart_nframes(total_frames, video_fps, **settings) == expected
    assert expected % 2 == 0


def test_gve_default_is_eight_frames_spread_over_the_whole_video():
    for total in (8, 9, 300, 18000):
        n = smart_nframes(total, 30.0, fps=1.0, min_frames=32, max_frames=8)
        assert n == 8
        indices = sample_indices(total, n)
        assert indices[0] == 0 and indices[-1] == total - 1
        assert indices == torch.linspace(0, total - 1, 8).round().long().tolist()
    assert smart_nframes(5, 30.0, fps=1.0, min_frames=32, max_frames=8) == 4  # fewer only if fewer exist


SIZES = [(360, 640), (720, 1280), (1080, 1920), (2160, 3840), (144, 176), (272, 640), (28, 28), (10, 1000), (999, 17), (4000, 30)]
BOUNDS = [(128 * 784, 200 * 784), (4 * 784, 256 * 784), (4 * 784, 16384 * 784), (128 * 784, 768 * 784)]


@pytest.mark.parametrize("height,width", SIZES)
@pytest.mark.parametrize("min_pixels,max_pixels", BOUNDS)
def test_resize_rule_matches_reference(height, width, min_pixels, max_pixels):
    expected = qwen_vl_utils.smart_resize(height, width, factor=28, min_pixels=min_pixels, max_pixels=max_pixels)
    assert smart_resize(height, width, min_pixels=min_pixels, max_pixels=max_pixels) == expected
    h, w = expected
    assert h % 28 == 0 and w % 28 == 0


def test_resize_rejects_absurd_aspect_ratio_like_reference():
    with pytest.raises(ValueError):
        qwen_vl_utils.smart_resize(10, 2500, factor=28)
    with pytest.raises(ValueError, match="aspect ratio"):
        smart_resize(10, 2500, min_pixels=784, max_pixels=10**6)


@pytest.mark.parametrize(
    "seconds,fps,size,codec",
    [(3.0, 30, (320, 240), "libx264"), (4.0, 25, (640, 360), "libx264"), (0.3, 25, (176, 144), "mpeg4"), (2.0, 12, (200, 500), "libvpx-vp9")],
)
def test_sampled_frames_are_pixel_identical_to_reference(tmp_path, seconds, fps, size, codec):
    suffix = ".webm" if codec == "libvpx-vp9" else ".mp4"
    path = make_video(tmp_path / f"v{suffix}", seconds=seconds, fps=fps, size=size, codec=codec)
    settings = {"fps": 1.0, "min_frames": 32, "max_frames": 8, "min_pixels": 128 * 784, "max_pixels": 200 * 784}
    (expected, meta), sample_fps = qwen_vl_utils.fetch_video(
        {"video": str(path), **settings}, return_video_sample_fps=True, return_video_metadata=True
    )
    ours = read_video(
        path, fps=1.0, min_frames=32, max_frames=8, min_pixels=128 * 784, max_pixels=200 * 784
    )
    assert ours.frames.dtype == torch.uint8
    assert ours.frames.shape == expected.shape
    assert torch.equal(ours.frames.float(), expected)
    assert ours.frames_indices == list(meta["frames_indices"])
    assert ours.total_num_frames == meta["total_num_frames"]
    assert ours.sampled_fps == pytest.approx(sample_fps)


def test_images_are_pixel_identical_to_reference(tmp_path):
    for i, size in enumerate([(96, 64), (1000, 700), (30, 30), (1500, 20)]):
        path = make_image(tmp_path / f"i{i}.png", size=size, seed=i)
        expected = qwen_vl_utils.fetch_image({"image": str(path), "min_pixels": 4 * 784, "max_pixels": 256 * 784})
        ours = read_image(path)
        assert ours.size == expected.size
        assert np.array_equal(np.asarray(ours), np.asarray(expected))


def test_rgba_images_are_composited_on_white_like_reference(tmp_path):
    rgba = Image.new("RGBA", (64, 64), (255, 0, 0, 0))  # fully transparent red
    path = tmp_path / "t.png"
    rgba.save(path)
    expected = qwen_vl_utils.fetch_image({"image": str(path), "min_pixels": 4 * 784, "max_pixels": 256 * 784})
    assert np.array_equal(np.asarray(read_image(path)), np.asarray(expected))
    assert np.asarray(read_image(path)).min() == 255


def test_all_video_sources_give_the_same_frames(tmp_path):
    from torchcodec.decoders import VideoDecoder

    path = make_video(tmp_path / "v.mp4", seconds=2.0, fps=15, size=(160, 120))
    data = path.read_bytes()
    decoded = VideoDecoder(str(path))[:]  # every frame, (T, 3, H, W) uint8
    reference = read_video(path)
    sources = {
        "bytes": data,
        "file": open(path, "rb"),
        "decoder": VideoDecoder(str(path)),
        "frames_tchw": VideoFrames(decoded.data, fps=15),
        "frames_thwc_numpy": VideoFrames(decoded.data.permute(0, 2, 3, 1).numpy(), fps=15),
        "frames_dict": {"frames": [Image.fromarray(f.permute(1, 2, 0).numpy()) for f in decoded.data], "fps": 15},
    }
    for name, source in sources.items():
        video = read_video(source)
        assert torch.equal(video.frames, reference.frames), name
        assert video.frames_indices == reference.frames_indices, name
        assert video.sampled_fps == pytest.approx(reference.sampled_fps), name
    sources["file"].close()


def test_frame_folder_reads_only_the_sampled_files(tmp_path, monkeypatch):
    folder = tmp_path / "frames"
    for i in range(40):
        make_image(folder / f"frame_{i + 1}.jpg", size=(64, 48), seed=i)  # natural order: 1, 2, ..., 10, 11
    opened = []
    import modeling_gve.video as video_module

    original = video_module.load_pil
    monkeypatch.setattr(video_module, "load_pil", lambda src, *a, **k: opened.append(str(src)) or original(src, *a, **k))
    video = read_video(VideoFrames.from_folder(folder, fps=1.0))
    assert len(opened) == 8 == video.frames.shape[0]
    assert [int(p.rsplit("_", 1)[1].split(".")[0]) - 1 for p in opened] == video.frames_indices


def test_only_sampled_frames_are_decoded(tmp_path, monkeypatch):
    """The reader seeks to the sampled frames; it never decodes the whole file."""
    from torchcodec.decoders import VideoDecoder

    path = make_video(tmp_path / "long.mp4", seconds=20.0, fps=30, size=(160, 120))
    calls = {"get_frame_at": 0, "bulk": 0}
    real = VideoDecoder.get_frame_at

    def counting(self, index):
        calls["get_frame_at"] += 1
        return real(self, index)

    def forbidden(self, *args, **kwargs):
        calls["bulk"] += 1
        raise AssertionError("bulk decoding")

    monkeypatch.setattr(VideoDecoder, "get_frame_at", counting)
    for name in ("get_frames_in_range", "get_frames_played_in_range", "get_frames_at", "__getitem__"):
        monkeypatch.setattr(VideoDecoder, name, forbidden)
    video = read_video(path)
    assert calls == {"get_frame_at": 8, "bulk": 0}
    assert video.total_num_frames == 600


@pytest.mark.parametrize("max_frames,video_max_pixels", list(itertools.product([4, 16], [64 * 784, 400 * 784])))
def test_sampling_overrides_per_call(gve_model, media, max_frames, video_max_pixels):
    processor = gve_model.processor
    batch = processor.process(
        [{"video": media["video_long"]}], max_frames=max_frames, min_frames=max_frames, video_min_pixels=16 * 784,
        video_max_pixels=video_max_pixels,
    )
    t, h, w = batch["video_grid_thw"][0].tolist()
    assert t * 2 == max_frames
    assert h * 14 * w * 14 <= video_max_pixels
    # saved defaults are untouched by a per-call override
    assert processor.sampling["max_frames"] == 8


def test_unknown_sampling_option_suggests_the_right_name(gve_model):
    with pytest.raises(TypeError, match="did you mean 'max_frames'"):
        gve_model.encode(["x"], max_frame=4)


@pytest.mark.parametrize("nframes", [2, 8, 48, 768])
@pytest.mark.parametrize("min_pixels,max_pixels", [(128 * 784, 200 * 784), (128 * 784, 1024 * 784), (700 * 784, 2000 * 784), (750 * 784, 2000 * 784), (4 * 784, 768 * 784)])
@pytest.mark.parametrize("max_total_pixels", [int(128000 * 784 * 0.9), 24576 * 784])
@pytest.mark.filterwarnings("ignore:video max_pixels=.* is above the per-frame cap")
def test_per_frame_pixel_limit_matches_reference(nframes, min_pixels, max_pixels, max_total_pixels):
    """`video_pixel_bounds` is the reference `fetch_video` limit, including the per-frame cap of
    VIDEO_MAX_TOKEN_NUM * 28 * 28 that applies whatever max_pixels asks for."""
    from modeling_gve.video import video_pixel_bounds

    factor = 28
    limit = max(
        min(qwen_vl_utils.VIDEO_MAX_TOKEN_NUM * factor * factor, max_total_pixels / nframes * qwen_vl_utils.FRAME_FACTOR),
        int(min_pixels * 1.05),
    )
    expected = min(max_pixels, limit)  # fetch_video: min(max_pixels_supposed, max_pixels)
    assert video_pixel_bounds(nframes, min_pixels, max_pixels, max_total_pixels) == (min_pixels, int(expected))


@pytest.mark.filterwarnings("ignore:video max_pixels=.* is above the per-frame cap")
def test_frames_above_the_reference_cap_are_pixel_identical_to_reference(tmp_path):
    """A 1280x720 source asked for up to 1024*28*28 pixels per frame: the reference caps each
    frame at 768*28*28, and so does read_video."""
    path = make_video(tmp_path / "big.mp4", seconds=1.0, fps=8, size=(1280, 720))
    settings = {"fps": 1.0, "min_frames": 32, "max_frames": 8, "min_pixels": 128 * 784, "max_pixels": 1024 * 784}
    expected = qwen_vl_utils.fetch_video({"video": str(path), **settings})
    ours = read_video(path, fps=1.0, min_frames=32, max_frames=8, min_pixels=128 * 784, max_pixels=1024 * 784)
    assert ours.frames.shape == expected.shape
    assert ours.frames.shape[-2] * ours.frames.shape[-1] <= 768 * 784
    assert torch.equal(ours.frames.float(), expected)


def test_max_pixels_above_the_reference_cap_warns_and_the_cap_can_be_lifted(tmp_path):
    """A.12's 800 tokens per frame: above the reference's 768*28*28 cap, which applies with a warning
    (it used to apply silently); ``cap_pixels_per_frame=False`` lifts it, also as a sampling option."""
    import warnings

    from modeling_gve.processing_gve import SamplingConfig, read_item

    path = make_video(tmp_path / "big.mp4", seconds=1.0, fps=4, size=(1280, 720))
    settings = {"min_frames": 2, "max_frames": 2, "min_pixels": 128 * 784, "max_pixels": 800 * 784}
    with pytest.warns(UserWarning, match=r"above the per-frame cap .*cap_pixels_per_frame=False to lift"):
        capped = read_video(path, **settings)
    assert capped.frames.shape[-2] * capped.frames.shape[-1] <= 768 * 784
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # lifting the cap explicitly is not warned about
        lifted = read_video(path, **settings, cap_pixels_per_frame=False)
        config = SamplingConfig(max_frames=2, video_max_pixels=800 * 784, cap_pixels_per_frame=False)
        through_config = read_item({"video": str(path)}, config).videos[0]
    assert 768 * 784 < lifted.frames.shape[-2] * lifted.frames.shape[-1] <= 800 * 784
    assert torch.equal(through_config.frames, lifted.frames)
    with pytest.raises(ValueError, match="cap_pixels_per_frame must be True or False"):
        SamplingConfig(cap_pixels_per_frame="no")
    # segments follow the same rule: the whole video read by read_segments is read_video's
    from modeling_gve.video import read_segments

    whole = list(read_segments(path, segment_seconds=1.0, include_video=True, **settings, cap_pixels_per_frame=False))
    assert torch.equal(whole[-1].video.frames, lifted.frames)


def test_reader_defaults_are_the_sampling_config_defaults():
    """`read_video` / `read_image` and `SamplingConfig` take their defaults from one place
    (video.py's DEFAULT_* constants), so they cannot drift apart."""
    import inspect

    from modeling_gve import video
    from modeling_gve.processing_gve import SamplingConfig

    config = SamplingConfig()
    video_names = {
        "fps": "fps", "min_frames": "min_frames", "max_frames": "max_frames", "num_frames": "num_frames",
        "min_pixels": "video_min_pixels", "max_pixels": "video_max_pixels", "max_total_pixels": "max_total_pixels",
        "max_source_pixels": "max_source_pixels", "seek_mode": "seek_mode", "num_threads": "num_threads",
        "decode_device": "decode_device", "image_reader": "image_reader",
        "cap_pixels_per_frame": "cap_pixels_per_frame",
    }
    image_names = {
        "min_pixels": "image_min_pixels", "max_pixels": "image_max_pixels", "max_source_pixels": "max_source_pixels",
        "image_reader": "image_reader",
    }
    for function, names in ((read_video, video_names), (read_image, image_names)):
        parameters = inspect.signature(function).parameters
        assert {p for p in parameters if p not in ("source", "name")} == set(names), function.__name__
        for parameter, option in names.items():
            assert parameters[parameter].default == getattr(config, option), (function.__name__, parameter)
    # the single copy: SamplingConfig's field defaults are video.py's constants
    constants = {
        "fps": "DEFAULT_FPS", "min_frames": "DEFAULT_MIN_FRAMES", "max_frames": "DEFAULT_MAX_FRAMES",
        "video_min_pixels": "DEFAULT_VIDEO_MIN_PIXELS", "video_max_pixels": "DEFAULT_VIDEO_MAX_PIXELS",
        "image_min_pixels": "DEFAULT_IMAGE_MIN_PIXELS", "image_max_pixels": "DEFAULT_IMAGE_MAX_PIXELS",
        "max_total_pixels": "DEFAULT_MAX_TOTAL_PIXELS", "max_source_pixels": "DEFAULT_MAX_SOURCE_PIXELS",
        "seek_mode": "DEFAULT_SEEK_MODE", "num_threads": "DEFAULT_NUM_THREADS", "image_reader": "DEFAULT_IMAGE_READER",
        "decode_device": "DEFAULT_DECODE_DEVICE", "cap_pixels_per_frame": "DEFAULT_CAP_PIXELS_PER_FRAME",
    }
    for option, constant in constants.items():
        assert getattr(config, option) == getattr(video, constant), option


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"max_frames": 0}, "max_frames must be an integer >= 2, got 0"),
        ({"max_frames": 1}, "max_frames must be an integer >= 2, got 1"),
        ({"max_length": None}, "max_length must be an integer >= 2, got None"),
        ({"max_length": 1}, "max_length must be an integer >= 2, got 1"),
        ({"fps": 0}, "fps must be a positive number, got 0"),
        ({"fps": "2"}, "fps must be a positive number, got '2'"),
        ({"min_frames": 0}, "min_frames must be an integer >= 1, got 0"),
        ({"num_frames": 1}, "num_frames must be an integer >= 2 or None, got 1"),
        ({"max_frames": 8.5}, "max_frames must be an integer >= 2, got 8.5"),
        ({"video_max_pixels": -1}, "video_max_pixels must be an integer >= 1, got -1"),
        ({"video_max_pixels": 64 * 784}, "video_min_pixels (100352) must not exceed video_max_pixels (50176)"),
        ({"image_min_pixels": 300 * 784}, "image_min_pixels (235200) must not exceed image_max_pixels (200704)"),
        ({"max_source_pixels": 0}, "max_source_pixels must be an integer >= 1 or None, got 0"),
        ({"num_threads": -1}, "num_threads must be an integer >= 0, got -1"),
        ({"seek_mode": "fast"}, "seek_mode must be 'exact' or 'approximate', got 'fast'"),
    ],
)
def test_sampling_config_refuses_bad_values_naming_the_option(overrides, message):
    from modeling_gve.processing_gve import SamplingConfig

    with pytest.raises(ValueError, match=re.escape(message)):
        SamplingConfig().replace(**overrides)
    with pytest.raises(ValueError, match=re.escape(message)):
        SamplingConfig(**overrides)


def test_bad_sampling_value_fails_the_call_not_every_input(gve_model, media):
    """A bad value is the call's error, raised before any input is read: with on_error="skip" it
    must not be recorded as a failure of every input."""
    with pytest.raises(ValueError, match="max_frames must be an integer >= 2, got 0"):
        gve_model.encode([{"video": media["video"]}, "a text"], on_error="skip", max_frames=0)


def test_sampling_config_accepts_the_protocol_and_the_open_ends():
    from modeling_gve.processing_gve import SamplingConfig

    # GVE's own protocol has min_frames > max_frames (the clamp order makes it "exactly 8")
    config = SamplingConfig().replace(min_frames=32, max_frames=8, num_frames=2, max_source_pixels=None, num_threads=0)
    assert (config.min_frames, config.max_frames, config.max_source_pixels) == (32, 8, None)
    assert SamplingConfig(fps=2, video_min_pixels=784, video_max_pixels=784).fps == 2


def test_frame_folders_are_read_as_videos_unlike_the_reference_frame_list(tmp_path):
    """What README and uvrb/data.py document: a folder of frames is sampled and resized like a
    video (8 frames, video bounds); `qwen_vl_utils.fetch_video` given the same frames as a list
    keeps all of them (padded to even) and resizes each by the image rules."""
    folder = tmp_path / "frames"
    for i in range(11):
        make_image(folder / f"{i:03d}.jpg", size=(320, 240), seed=i)
    ours = read_video(VideoFrames.from_folder(folder, fps=1.0))
    assert ours.frames.shape[0] == 8 and ours.frames_indices == sample_indices(11, 8)
    reference = qwen_vl_utils.fetch_video({"video": [str(p) for p in sorted(folder.iterdir())]})
    assert reference.shape[0] == 12  # every frame, the last repeated to make the count even
