"""Files FFmpeg can play are read even where torchcodec cannot seek, animated WebP (which FFmpeg
cannot decode) is read with Pillow, and decoder errors keep their informative line."""

import io
import subprocess

import numpy as np
import pytest
import torch
from PIL import Image

from modeling_gve import GVEInputError
from modeling_gve.video import SequentialDecoder, read_image, read_video
from modeling_gve.testing.media import make_video


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *map(str, args)], check=True, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def negative_mkv(tmp_path_factory):
    """A playable Matroska file whose timestamps start 5 s before zero: torchcodec cannot seek in
    it ("Could not seek file to pts=0 ... does not support seeking"), FFmpeg plays it."""
    root = tmp_path_factory.mktemp("mkv")
    source = make_video(root / "source.mp4", seconds=3.0, fps=10, size=(160, 120))
    ffmpeg("-i", source, "-c", "copy", "-output_ts_offset", "-5", "-avoid_negative_ts", "disabled", root / "neg.mkv")
    return source, root / "neg.mkv"


def test_unseekable_mkv_is_read_in_order(gve_model, negative_mkv):
    source, mkv = negative_mkv
    expected = read_video(source)  # the same stream, muxed with ordinary timestamps
    for given in (mkv, mkv.read_bytes(), open(mkv, "rb")):
        video = read_video(given)
        assert video.total_num_frames == 30 and video.fps == 10.0
        assert video.frames_indices == expected.frames_indices
        assert torch.equal(video.frames, expected.frames)
    assert torch.allclose(gve_model.encode([{"video": mkv}]), gve_model.encode([{"video": source}]), atol=1e-6)


def test_unseekable_file_that_cannot_be_read_in_order_says_why(negative_mkv, monkeypatch):
    import modeling_gve.video as video_module

    def refuse(*args, **kwargs):
        raise RuntimeError("get_next_frame, /src/SingleStreamDecoder.cpp:9, Could not decode: End of file")

    monkeypatch.setattr(video_module, "SequentialDecoder", refuse)
    with pytest.raises(GVEInputError) as info:
        read_video(negative_mkv[1])
    message = str(info.value)
    # the whole informative line of torchcodec's error (its commas included), not its last fragment
    assert (
        "FFmpeg cannot seek in this file (Could not seek file to pts=0: Operation not permitted. This is " in message
    )
    assert "or because the 'matroska,webm' format does not support seeking.)" in message
    assert "reading it in order failed too (Could not decode: End of file); remux it" in message


def test_approximate_seek_failure_points_to_exact_mode(tmp_path):
    source = make_video(tmp_path / "source.mp4", seconds=2.0, fps=10, size=(96, 64))
    shifted = tmp_path / "shifted.mkv"  # header timestamps from 0.2 s, packets without any
    ffmpeg("-i", source, "-c:v", "libx264", "-output_ts_offset", "-1", "-avoid_negative_ts", "disabled", shifted)
    with pytest.raises(
        GVEInputError, match=r"FFmpeg cannot seek to frame 0 of \d+ \(Could not seek .*seek_mode='exact'"
    ):
        read_video(shifted, seek_mode="approximate")
    assert read_video(shifted).total_num_frames == 20  # exact mode reads it in order: every frame


def test_sequential_decoder_reads_each_requested_frame(negative_mkv):
    from torchcodec.decoders import VideoDecoder

    source, mkv = negative_mkv
    every = VideoDecoder(str(source))[:].data
    decoder = SequentialDecoder(str(mkv))
    assert len(decoder) == 30
    for index in (0, 3, 4, 29, 1):  # going back starts over
        assert torch.equal(decoder.get_frame_at(index).data, every[index])
    with pytest.raises(IndexError, match="past the end"):
        decoder.get_frame_at(30)


@pytest.fixture(scope="module")
def animated_webp(tmp_path_factory):
    """12 lossless frames of distinct solid colors, 125 ms each (8 fps)."""
    root = tmp_path_factory.mktemp("webp")
    colors = [(20 * i, 255 - 20 * i, (60 * i) % 256) for i in range(12)]
    frames = [Image.new("RGB", (64, 48), color) for color in colors]
    path = root / "anim.webp"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=125, loop=0, lossless=True)
    frames[0].save(root / "still.webp", lossless=True)
    return path, colors, root / "still.webp"


def test_animated_webp_is_read_as_a_video(gve_model, animated_webp):
    path, colors, _ = animated_webp
    for given in (path, path.read_bytes(), io.BytesIO(path.read_bytes())):
        video = read_video(given)
        assert video.total_num_frames == 12 and video.fps == pytest.approx(8.0)
        assert video.frames_indices == [0, 2, 3, 5, 6, 8, 9, 11]
        for frame, index in zip(video.frames, video.frames_indices):
            assert frame[:, 5, 5].tolist() == list(colors[index]), index
    assert gve_model.encode([{"video": path}]).shape[0] == 1


def test_animated_webp_as_an_image_is_its_first_frame(animated_webp):
    path, colors, _ = animated_webp
    assert np.asarray(read_image(path))[5, 5].tolist() == list(colors[0])


def test_still_webp_as_a_video_is_one_frame(animated_webp):
    with pytest.raises(GVEInputError, match="has only 1 frame; a video needs at least 2"):
        read_video(animated_webp[2])


def test_ffmpeg_made_animated_webp(tmp_path):
    source = make_video(tmp_path / "source.mp4", seconds=1.0, fps=10, size=(96, 64))
    path = tmp_path / "anim.webp"
    ffmpeg("-i", source, "-c:v", "libwebp_anim", "-lossless", "1", "-loop", "0", path)
    video = read_video(path)
    assert video.total_num_frames == 10 and video.fps == pytest.approx(10.0)
