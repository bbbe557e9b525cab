"""Segment embeddings (`GVEModel.encode_segments`): each segment embeds as the same frames cut into
a file would, one decoder reads each video in order, and the edges (tails, short videos, segments
of fewer than two frames) follow the documented rules."""

import pytest
import torch

from modeling_gve.modeling_gve import SegmentsResult
from modeling_gve.testing.media import make_video
from modeling_gve.video import GVEInputError, VideoFrames, read_segments, read_video, segment_windows


def test_the_segments_of_a_concatenation_are_its_clips(gve_model, three_clips):
    """The 30 s video made of three 10 s clips: its 10 s segments are the clips, each embedded as
    the clip file is (same 8 frames, same temporal positions), and the whole-video vector is
    `encode`'s."""
    (result,) = gve_model.encode_segments([three_clips["long"]], segment_seconds=10, include_video=True)
    assert result.spans == [(0.0, 10.0), (10.0, 20.0), (20.0, 30.0)]
    clips = gve_model.encode([{"video": str(p)} for p in three_clips["clips"]])
    torch.testing.assert_close(result.embeddings, clips, atol=1e-5, rtol=0)  # the same frames, not re-encoded
    assert (result.embeddings @ clips.T).argmax(dim=1).tolist() == [0, 1, 2]
    whole = gve_model.encode([{"video": str(three_clips["long"])}])[0]
    torch.testing.assert_close(result.video_embedding, whole, atol=1e-5, rtol=0)


def test_a_segment_is_sampled_as_a_video_of_its_own(three_clips):
    """The frame rule of `read_video` applied to the segment alone, with the per-call options."""
    long = three_clips["long"]
    for options in ({}, {"max_frames": 4}, {"num_frames": 6, "min_pixels": 16 * 28 * 28, "max_pixels": 64 * 28 * 28}):
        segments = list(read_segments(long, segment_seconds=10, **options))
        for segment, clip in zip(segments, three_clips["clips"]):
            expected = read_video(clip, **options)
            assert segment.video.frames_indices == expected.frames_indices
            assert segment.video.total_num_frames == expected.total_num_frames == 50
            assert segment.video.sampled_fps == pytest.approx(expected.sampled_fps)
            assert segment.video.frames.shape == expected.frames.shape


def test_one_decoder_per_video_and_every_frame_read_once_in_order(monkeypatch, three_clips):
    from torchcodec.decoders import VideoDecoder

    import modeling_gve.video as video

    opened, read = [], []
    original_open, original_get = video._open_decoder, VideoDecoder.get_frame_at
    monkeypatch.setattr(video, "_open_decoder", lambda *a, **k: opened.append(a[0]) or original_open(*a, **k))
    monkeypatch.setattr(VideoDecoder, "get_frame_at", lambda self, i: read.append(i) or original_get(self, i))
    segments = list(read_segments(three_clips["long"], segment_seconds=4, stride_seconds=2, include_video=True))
    assert len(opened) == 1
    assert read == sorted(set(read))  # increasing, none twice (overlapping segments share frames)
    assert len(segments) == 15 and segments[-1].whole and segments[-2].end == 30.0
    wanted = {
        s.video.frames_indices[i] + round(s.start * 5) for s in segments for i in range(len(s.video.frames_indices))
    }
    assert set(read) == wanted


@pytest.mark.parametrize(
    "total, fps, seconds, stride, expected",
    [
        (300, 10.0, 10, None, [(0, 100), (100, 200), (200, 300)]),
        (305, 10.0, 10, None, [(0, 100), (100, 200), (200, 300), (300, 305)]),  # a short tail is its own segment
        (301, 10.0, 10, None, [(0, 100), (100, 200), (200, 301)]),  # ...unless under 2 frames: it joins the last
        (50, 10.0, 10, None, [(0, 50)]),  # shorter than a segment: one segment, the whole video
        (250, 10.0, 10, 5, [(0, 100), (50, 150), (100, 200), (150, 250)]),  # overlapping, ends with the video
        (90, 30.0, 1, 2, [(0, 30), (60, 90)]),  # a stride longer than a segment leaves gaps
        (60, 29.97, 1, None, [(0, 30), (30, 60)]),  # NTSC: frame times are index / fps
        (6, 10.0, 0.25, None, [(0, 3), (3, 6)]),  # 2.5 frames a segment: 3, 2, then a 1-frame tail that joins
    ],
)
def test_segment_windows(total, fps, seconds, stride, expected):
    assert segment_windows(total, fps, seconds, stride) == expected


def test_segments_of_fewer_than_two_frames_are_refused_with_the_length_that_works(gve_model, three_clips):
    with pytest.raises(ValueError, match=r"segment_seconds=0.3 holds 1.5 frame\(s\) of a 5 fps video.*>= 0.4"):
        segment_windows(150, 5.0, 0.3)
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="segment_seconds must be a positive number"):
            gve_model.encode_segments([three_clips["long"]], segment_seconds=bad)
    with pytest.raises(ValueError, match="stride_seconds must be a positive number"):
        gve_model.encode_segments([three_clips["long"]], segment_seconds=2, stride_seconds=0)
    with pytest.raises(GVEInputError, match=r"videos\[0\] .*long.mp4: segment_seconds=0.2 holds 1 frame"):
        gve_model.encode_segments([three_clips["long"]], segment_seconds=0.2)


def test_a_video_shorter_than_a_segment_is_one_segment_equal_to_the_video(gve_model, media):
    (result,) = gve_model.encode_segments(str(media["video"]), segment_seconds=60)
    assert result.spans == [(0.0, 3.0)] and result.video_embedding is None
    torch.testing.assert_close(
        result.embeddings, gve_model.encode([{"video": str(media["video"])}]), atol=1e-5, rtol=0
    )


def test_bad_videos_are_skipped_and_named_and_readers_do_not_change_vectors(gve_model, media, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video")
    videos = [str(media["video"]), str(broken), {"video": str(media["video_long"])}, {"text": "a dog"}]
    inline = gve_model.encode_segments(videos, segment_seconds=2, on_error="skip", num_workers=0, batch_size=3)
    threads = gve_model.encode_segments(videos, segment_seconds=2, on_error="skip", num_workers=2, batch_size=2)
    assert isinstance(inline, SegmentsResult) and inline.indices == threads.indices == [0, 2]
    assert [(e.index, e.input) for e in inline.errors] == [(1, str(broken)), (3, "{text='a dog'}")]
    assert "could not be opened as a video" in inline.errors[0].reason and "takes videos" in inline.errors[1].reason
    for a, b in zip(inline.videos, threads.videos):
        assert a.spans == b.spans
        torch.testing.assert_close(a.embeddings, b.embeddings, atol=1e-5, rtol=0)
    assert [len(v.segments) for v in inline.videos] == [2, 3]  # 3 s: [0, 2) [2, 3); 6 s: three
    with pytest.raises(GVEInputError, match=r"videos\[1\] .*broken.mp4: could not be opened"):
        gve_model.encode_segments(videos, segment_seconds=2)


def test_decoded_frames_are_segmented_too(gve_model):
    frames = torch.randint(0, 255, (40, 3, 56, 56), dtype=torch.uint8)
    (result,) = gve_model.encode_segments([VideoFrames(frames, fps=8.0)], segment_seconds=2.5)
    assert result.spans == [(0.0, 2.5), (2.5, 5.0)]
    first = gve_model.encode([VideoFrames(frames[:20], fps=8.0)])
    torch.testing.assert_close(result.embeddings[:1], first, atol=1e-5, rtol=0)


def test_an_unseekable_long_tail_is_read_once(tmp_path):
    """A 1-frame tail (the video has 2k+1 frames) joins the last segment rather than failing."""
    path = make_video(tmp_path / "odd.mp4", seconds=2.2, fps=5, size=(64, 48))  # 11 frames
    spans = [(s.start, s.end) for s in read_segments(path, segment_seconds=1)]
    assert spans == [(0.0, 1.0), (1.0, 2.2)]


def test_the_search_page_snippet_runs(tiny_converted, three_clips, media, capsys):
    """docs/search.md's encode_segments snippet, on the converted tiny checkpoint (AutoModel + remote code)."""
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "search.md"
    snippet = re.findall(r"^```python\n(.*?)^```", page.read_text(), re.S | re.M)[0]
    for old, new in {'"Alibaba-NLP/GVE-3B"': str(tiny_converted), '"match.mp4"': str(three_clips["long"]),
                     '"talk.mp4"': str(media["video"])}.items():  # fmt: skip
        assert old in snippet
        snippet = snippet.replace(old, repr(new))  # the comment's path too: harmless
    names: dict = {}
    exec(compile(snippet, str(page), "exec"), names)
    assert capsys.readouterr().out.split("\n")[:3] == [f"{s} {e} torch.Size([{names['matrix'].shape[1]}])" for s, e in
                                                       ((0.0, 10.0), (10.0, 20.0), (20.0, 30.0))]  # fmt: skip
    assert names["matrix"].shape[0] == 3
    torch.testing.assert_close(
        names["whole"], names["model"].encode([{"video": str(three_clips["long"])}])[0], atol=1e-5, rtol=0
    )


def test_shot_segments_are_the_clips_of_a_concatenation(gve_model, three_clips):
    """``segments="shots"``: PySceneDetect finds the two cuts, and each shot embeds as its clip file."""
    pytest.importorskip("scenedetect")
    (result,) = gve_model.encode_segments([three_clips["long"]], segments="shots")
    assert result.spans == [(0.0, 10.0), (10.0, 20.0), (20.0, 30.0)]
    clips = gve_model.encode([{"video": str(p)} for p in three_clips["clips"]])
    torch.testing.assert_close(result.embeddings, clips, atol=1e-5, rtol=0)
    (single,) = gve_model.encode_segments([three_clips["clips"][1]], segments="shots", include_video=True)
    assert single.spans == [(0.0, 10.0)]  # no cut: one shot, the whole video
    torch.testing.assert_close(single.embeddings[0], single.video_embedding, atol=1e-5, rtol=0)


def test_shot_segments_need_a_file_and_pyscenedetect(gve_model, three_clips, monkeypatch):
    pytest.importorskip("scenedetect")
    frames = read_video(three_clips["clips"][0])
    with pytest.raises(GVEInputError, match="segments='shots' needs a video file path"):
        gve_model.encode_segments([VideoFrames(frames.frames, fps=5.0, layout="TCHW")], segments="shots")
    with pytest.raises(ValueError, match="segments must be 'fixed' or 'shots', got 'scenes'"):
        gve_model.encode_segments([three_clips["long"]], segments="scenes")
    monkeypatch.setitem(__import__("sys").modules, "scenedetect", None)  # as if not installed
    with pytest.raises(ImportError, match=r'pip install -e "\.\[scenedetect\]"'):
        gve_model.encode_segments([three_clips["long"]], segments="shots")
