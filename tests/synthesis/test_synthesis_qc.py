"""V-SynFlow stage 1: caption rectification rules, the temporal-dynamics filter on real encoded
static vs moving videos, the consistency filter with a tiny embedder (checked against GVE's own
encode), and frame/clip extraction."""

import json
import subprocess

import pytest

from modeling_gve.synthesis.config import SynthesisConfig
from modeling_gve.synthesis.consistency import consistency_scores, score_distribution
from modeling_gve.synthesis.dynamics import motion_score
from modeling_gve.synthesis.extract import clip_windows, cut_clips, extract_frames, probe
from modeling_gve.synthesis.quality import QualityControl
from modeling_gve.synthesis.rectify import RectificationRules, rectify
from modeling_gve.synthesis.sources import SourceVideo, load_sources
from modeling_gve.testing.media import make_image, make_video
from modeling_gve.video import GVEInputError


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("qc-videos")
    still = make_image(root / "still.png", size=(160, 120), seed=3)
    looped = root / "looped_still.mp4"  # a photo looped: real encoded frames, no motion
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-loop",
            "1",
            "-i",
            str(still),
            "-t",
            "2",
            "-r",
            "10",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            str(looped),
        ],
        check=True,
        timeout=300,
    )
    return {
        "moving": make_video(root / "moving.mp4", seconds=3.0, fps=10, size=(160, 120), pattern="testsrc2"),
        "moving2": make_video(root / "moving2.mp4", seconds=2.0, fps=12, size=(128, 96), pattern="testsrc"),
        "red": make_video(root / "red.mp4", seconds=2.0, fps=10, size=(160, 120), pattern="color=c=red"),
        "looped": looped,
        "root": root,
    }


# --------------------------------------------------------------------------- rectification


@pytest.mark.parametrize(
    "caption, reason, cleaned",
    [
        ("A man surfs a large wave at sunset. Stock footage 4K", None, "A man surfs a large wave at sunset."),
        ("Drone flight over a forest https://example.com #nature #drone", None, "Drone flight over a forest"),
        ("", "empty", ""),
        ("   #tag  ", "empty", ""),
        ("IMG_4512", "pattern", "IMG_4512"),
        ("DSC01234 beach day with friends", "pattern", None),
        ("untitled", "pattern", "untitled"),
        ("clip_0001.mp4", "pattern", None),
        ("Subscribe for more videos like this", "pattern", None),
        ("two words", "too_short", "two words"),
        ("1234 5678 9999 0000 1111", "non_alpha", None),
        ("wow wow wow wow wow wow so nice", "repetitive", None),
    ],
)
def test_rectification_rules(caption, reason, cleaned):
    text, got = RectificationRules().check(caption)
    assert got == reason
    if cleaned is not None:
        assert text == cleaned


def test_rectification_shared_captions_and_custom_rules():
    sources = [
        SourceVideo(f"v{i}", f"/v{i}.mp4", c)
        for i, c in enumerate(
            [
                "Aerial view of the city",
                "aerial view of the city!",
                "A dog catches a frisbee",
                "A cat sleeps on a sofa",
            ]
        )
    ]
    kept, dropped = rectify(sources, RectificationRules())
    assert [s.id for s in kept] == ["v2", "v3"]
    assert dropped == {"v0": "shared_caption", "v1": "shared_caption"}
    kept, dropped = rectify(
        sources, RectificationRules(max_videos_per_caption=None, drop_patterns=[r"\bcat\b"], min_words=4)
    )
    assert [s.id for s in kept] == ["v0", "v1", "v2"] and dropped == {"v3": "pattern"}
    long = RectificationRules(max_words=3).check("a b c d e")
    assert long[1] == "too_long"
    with pytest.raises(ValueError, match="drop_patterns: invalid regular expression"):
        RectificationRules(drop_patterns=["(unclosed"])


# --------------------------------------------------------------------------- temporal dynamics


def test_motion_score_separates_static_from_moving(videos):
    static = [motion_score(str(videos[k])).score for k in ("red", "looped")]
    moving = [motion_score(str(videos[k])).score for k in ("moving", "moving2")]
    assert max(static) < 0.001, static
    assert min(moving) > 0.005, moving  # the default threshold sits between the two
    assert motion_score(str(videos["moving"]), num_frames=4).num_frames == 4


def test_motion_score_of_a_bad_file_names_it(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all" * 10)
    with pytest.raises(GVEInputError, match="broken.mp4"):
        motion_score(str(bad))


# --------------------------------------------------------------------------- extraction


def test_frames_and_clips(videos, tmp_path):
    info = probe(str(videos["moving"]))
    assert info.duration == pytest.approx(3.0, abs=0.05) and (info.width, info.height) == (160, 120)
    frames = extract_frames(str(videos["moving"]), tmp_path / "frames", 3, max_side=80)
    assert [p.name for p in frames] == ["frame-000.jpg", "frame-001.jpg", "frame-002.jpg"]
    from PIL import Image

    assert Image.open(frames[0]).size == (80, 60)
    clips = cut_clips(str(videos["moving"]), tmp_path / "clips", 2, seconds=1.0)
    assert [probe(str(c)).duration for c in clips] == [pytest.approx(1.0, abs=0.11)] * 2
    # clips are centred on equal segments and never longer than half the video
    assert clip_windows(3.0, 2, 1.0) == [(0.25, 1.0), (1.75, 1.0)]
    assert clip_windows(1.0, 1, 3.0) == [(0.25, 0.5)]
    assert not list((tmp_path / "clips").glob(".*"))  # no temporary files left


def test_cut_clips_error_names_the_file(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(GVEInputError, match="bad.mp4"):
        cut_clips(str(bad), tmp_path / "c", 1, seconds=1.0, duration=2.0)


def test_cut_clips_stops_a_stuck_ffmpeg(tmp_path):
    import os
    import time

    stuck = tmp_path / "stuck.mp4"
    os.mkfifo(stuck)  # nobody ever writes: ffmpeg blocks opening it, like a file on a hung mount
    start = time.perf_counter()
    with pytest.raises(GVEInputError, match=r"stuck.mp4.*did not finish cutting 1 clip\(s\) within 1 s"):
        cut_clips(str(stuck), tmp_path / "c", 1, seconds=1.0, duration=2.0, timeout=1.0)
    assert time.perf_counter() - start < 10
    assert not list((tmp_path / "c").iterdir())  # ffmpeg was killed and nothing it started is left


# --------------------------------------------------------------------------- consistency


def test_consistency_scores_match_gve_encode(gve_model, tiny_ckpt, videos, tmp_path):
    from modeling_gve.encoders import CachedEncoder, load_encoder

    embedder = CachedEncoder(load_encoder(str(tiny_ckpt), kind="gve", device="cpu"), tmp_path / "cache")
    pairs = [
        SourceVideo("a", str(videos["moving"]), "a colourful test pattern with a clock"),
        SourceVideo("b", str(videos["red"]), "a plain red screen"),
    ]
    instruction = "Find the video according to the text description."
    scores, errors = consistency_scores(embedder, pairs, instruction=instruction, batch_size=2, show_progress_bar=False)
    assert errors == {}
    # independent reference: the core encode path, caption as query (with instruction), video as document
    for pair in pairs:
        text = gve_model.encode([pair.caption], instruction=instruction)
        video = gve_model.encode([{"video": pair.video}])
        assert scores[pair.id] == pytest.approx(float(text[0] @ video[0]), abs=1e-4)
    # a missing video is reported, not raised
    scores2, errors2 = consistency_scores(
        embedder,
        pairs + [SourceVideo("c", str(tmp_path / "nope.mp4"), "gone")],
        instruction=instruction,
        show_progress_bar=False,
    )
    assert set(scores2) == {"a", "b"} and "nope.mp4" in errors2["c"]


def test_sentence_transformers_embedder(tiny_ckpt, videos, tmp_path):
    from sentence_transformers import SentenceTransformer

    from modeling_gve.encoders import CachedEncoder, load_encoder

    encoder = load_encoder(str(tiny_ckpt), kind="sentence-transformers", device="cpu")
    pairs = [SourceVideo("a", str(videos["moving"]), "a test pattern")]
    scores, errors = consistency_scores(
        CachedEncoder(encoder, tmp_path / "cache"), pairs, instruction="x", batch_size=2, show_progress_bar=False
    )
    reference = SentenceTransformer(str(tiny_ckpt), device="cpu")
    q = reference.encode_query(["a test pattern"], prompt="x", convert_to_tensor=True, normalize_embeddings=True)
    # the video as `gve uvrb` embeds it with this model (GVE's frame sampler, then the model): one encoder layer
    uvrb = load_encoder(str(tiny_ckpt), kind="sentence-transformers", device="cpu")
    d = uvrb.encode([{"video": str(videos["moving"])}], role="document", on_error="skip").embeddings
    assert errors == {} and scores["a"] == pytest.approx(float(q[0].float() @ d[0]), abs=1e-4)


def test_score_distribution():
    dist = score_distribution([0.1, 0.2, 0.3, 0.4], bins=4, threshold=0.25)
    assert dist["count"] == 4 and dist["histogram"]["counts"] == [1, 1, 1, 1]
    assert dist["below_threshold"] == 2 and dist["quantiles"]["0.5"] == pytest.approx(0.25)


def two_moving_one_static(videos):
    """The videos folder with captions for its two moving videos and its static one."""
    folder = videos["root"]
    rows = [
        {"file_name": "moving.mp4", "caption": "a colourful test pattern with a clock"},
        {"file_name": "moving2.mp4", "caption": "an old test card with moving stripes"},
        {"file_name": "red.mp4", "caption": "a plain red screen for testing"},
    ]
    (folder / "metadata.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def test_stage1_threshold_drops_low_pairs_and_reruns_embed_nothing(tiny_ckpt, videos, tmp_path, monkeypatch):
    folder = two_moving_one_static(videos)
    values = {
        "input": str(folder),
        "output_dir": str(tmp_path / "out"),
        "num_shards": 2,
        "stages": ["qc"],
        "embedder": str(tiny_ckpt),
        "frames_per_video": 1,
        "clips_per_video": 1,
        "clip_seconds": 0.5,
        "qc_report_only": True,
        "consistency_quantile": None,  # no threshold: scores reported, nothing dropped
    }
    qc = QualityControl(SynthesisConfig.from_values(values))
    loads = []

    def embedder():
        from modeling_gve.encoders import CachedEncoder, load_encoder

        loads.append(1)
        return CachedEncoder(load_encoder(str(tiny_ckpt), kind="gve", device="cpu"), tmp_path / "embeddings")

    qc.run(range(2), embedder, show_progress=False)
    stats = qc.stats()
    assert stats["outcome"] == {"not_extracted": 2, "static": 1}  # report only: scored, nothing extracted
    dist = stats["consistency"]["distribution"]
    assert stats["consistency"]["distribution"]["count"] == 2 and not (tmp_path / "out" / "media").exists()

    # choose a threshold between the two scores: the lower pair is dropped, nothing is embedded again
    low, high = dist["min"], dist["max"]
    qc2 = QualityControl(SynthesisConfig.from_values(values | {"qc_report_only": False, "consistency_threshold": (low + high) / 2}))
    qc2.run(range(2), embedder, show_progress=False)
    assert len(loads) == 1
    stats2 = qc2.stats()
    assert stats2["outcome"] == {"inconsistent": 1, "kept": 1, "static": 1}
    pool = qc2.pool()
    assert len(pool) == 1 and pool[0].consistency == pytest.approx(high)
    root = tmp_path / "out"
    assert (root / pool[0].video).is_file() and all((root / p).is_file() for p in pool[0].frames + pool[0].clips)
    assert stats2["pool"] == {"videos": 1, "frames": 1, "clips": 1}


def test_load_sources_layouts(tmp_path, monkeypatch):
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "metadata.csv").write_text("file_name,text\nsub/a b.mp4,hello there\n")
    from modeling_gve.synthesis.config import DataArguments

    with pytest.raises(ValueError, match=r"column\(s\) \['caption'\] not found; columns are \['file_name', 'text'\]"):
        load_sources(DataArguments(input=str(tmp_path / "v")))
    sources = load_sources(DataArguments(input=str(tmp_path / "v"), caption_column="text"))
    assert sources == [SourceVideo("sub_a_b", str((tmp_path / "v" / "sub" / "a b.mp4").resolve()), "hello there")]
    # a Hub dataset repo id is downloaded with snapshot_download (mocked: no network in tests)
    calls = []
    monkeypatch.setattr(
        "huggingface_hub.snapshot_download", lambda repo, **kw: calls.append((repo, kw)) or str(tmp_path / "v")
    )
    hub = load_sources(DataArguments(input="my-org/captioned-videos", input_revision="v1", caption_column="text"))
    assert hub == sources and calls == [("my-org/captioned-videos", {"repo_type": "dataset", "revision": "v1"})]
    with pytest.raises(FileNotFoundError, match="not a Hub dataset repo id"):
        load_sources(DataArguments(input=str(tmp_path / "missing")))


def test_default_consistency_threshold_is_a_quantile_of_the_scores(tiny_ckpt, videos, tmp_path):
    """The paper gives no threshold: without one, the pairs under the ``consistency_quantile`` of the
    scores of the videos that pass the motion filter are dropped (0.1 by default)."""
    from modeling_gve.synthesis.config import DEFAULT_CONSISTENCY_QUANTILE

    folder = two_moving_one_static(videos)
    values = {"input": str(folder), "output_dir": str(tmp_path / "out"), "num_shards": 2, "stages": ["qc"],
              "embedder": str(tiny_ckpt), "frames_per_video": 1, "clip_seconds": 0.5}  # fmt: skip
    assert SynthesisConfig.from_values(values).quality.consistency_quantile == DEFAULT_CONSISTENCY_QUANTILE == 0.1

    def embedder():
        from modeling_gve.encoders import CachedEncoder, load_encoder

        return CachedEncoder(load_encoder(str(tiny_ckpt), kind="gve", device="cpu"), tmp_path / "embeddings")

    qc = QualityControl(SynthesisConfig.from_values(values | {"consistency_quantile": 0.5}))
    qc.score(range(2), embedder, show_progress=False)
    qc.extract(range(2), show_progress=False)
    stats = qc.stats()["consistency"]
    low, high = stats["distribution"]["min"], stats["distribution"]["max"]
    assert stats["threshold"] == pytest.approx((low + high) / 2)  # the median of the two moving videos
    assert stats["threshold_from"] == "quantile 0.5 of the scores"
    assert qc.stats()["outcome"] == {"inconsistent": 1, "kept": 1, "static": 1}
    assert [v.consistency for v in qc.pool()] == [pytest.approx(high)]
    given = QualityControl(SynthesisConfig.from_values(values | {"consistency_threshold": low - 1}))
    assert given.consistency_threshold() == low - 1 and given.stats()["consistency"]["threshold_from"] == (
        "consistency_threshold"
    )
    off = QualityControl(SynthesisConfig.from_values(values | {"consistency_quantile": None}))
    assert off.consistency_threshold() is None  # nothing dropped: the low pair just awaits extraction
    assert off.stats()["outcome"] == {"kept": 1, "not_extracted": 1, "static": 1}
