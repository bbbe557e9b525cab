"""V-SynFlow stage 2: the captioner interface against a real HTTP server on loopback (valid,
malformed, schema-invalid, slow and failing answers) and against a local transformers model
(a tiny random Qwen2.5-VL: its answers are garbage, so this checks plumbing and failure records)."""

import base64
import json
import threading
import time

import pytest

from modeling_gve.synthesis.captioners import Job, OpenAICompatibleCaptioner, TransformersCaptioner
from modeling_gve.synthesis.config import SynthesisConfig
from modeling_gve.synthesis.enrich import Enrichment
from modeling_gve.testing.loopback import LoopbackChatServer
from modeling_gve.synthesis.plan import PoolVideo
from modeling_gve.synthesis.prompts import MediaRef, PromptLibrary
from modeling_gve.testing.media import make_image, make_video


@pytest.fixture(scope="module")
def pool_root(tmp_path_factory):
    """A dataset root holding a small asset pool (video, one frame, one clip per video)."""
    root = tmp_path_factory.mktemp("pool")
    make_video(root / "media/videos/base.mp4", seconds=2.0, fps=10, size=(112, 84))
    make_video(root / "media/clips/base/clip-000.mp4", seconds=1.0, fps=10, size=(112, 84))
    make_image(root / "media/frames/base/frame-000.jpg", size=(112, 84), seed=4)
    return root


def pool_of(ids, root):
    return [
        PoolVideo(
            id=i,
            source=str(root / "media/videos/base.mp4"),
            video="media/videos/base.mp4",
            caption=f"caption of {i}",
            frames=["media/frames/base/frame-000.jpg"],
            clips=["media/clips/base/clip-000.mp4"],
            duration=2.0,
        )
        for i in ids
    ]


def config_for(root, url, **overrides):
    values = {
        "input": str(root),
        "output_dir": str(root),
        "work_dir": str(root / f"work-{len(overrides)}"),
        "num_shards": 3,
        "captioner_model": "loopback",
        "captioner_base_url": url,
        "captioner_timeout": 0.4,
        "captioner_request_retries": 1,
        "captioner_backoff": 0.01,
        "captioner_generation_attempts": 3,
        "captioner_concurrency": 4,
        "enrich_kinds": ["video_captions"],
        "tasks": ["T2V"],
    }
    return SynthesisConfig.from_values(values | overrides)


BEHAVIOUR = {
    "ok": lambda attempt: "valid",
    "flaky": lambda attempt: "malformed" if attempt == 1 else "valid",
    "bad": lambda attempt: "malformed",
    "schema": lambda attempt: "invalid_schema",
    "slow": lambda attempt: "slow" if attempt == 1 else "valid",
    "e500": lambda attempt: "error500" if attempt == 1 else "valid",
    "down": lambda attempt: "slow",
}


def test_loopback_validates_retries_records_failures_and_finishes(pool_root, tmp_path):
    state = {"down_fixed": False}

    def behaviour(key, attempt):
        vid = key.split("/")[1]
        if vid == "down" and state["down_fixed"]:
            return "valid"
        return BEHAVIOUR[vid](attempt)

    pool = pool_of(list(BEHAVIOUR), pool_root)
    with LoopbackChatServer(behaviour, slow_seconds=1.5) as server:
        config = config_for(pool_root, server.url, work_dir=str(tmp_path / "work"))
        enrichment = Enrichment(config)
        counts = enrichment.run(pool, captioner_factory=lambda: _openai(config), show_progress=False)
        records = {r["video_id"]: r for r in enrichment.results().values()}
        assert counts == {"ok": 4, "failed": 2, "error": 1}
        for vid in ("ok", "slow", "e500"):  # transport retries are not generations
            assert records[vid]["status"] == "ok" and records[vid]["attempts"] == 1
        assert records["flaky"]["status"] == "ok" and records["flaky"]["attempts"] == 2
        # valid answers are parsed and validated objects with the five caption styles
        library = PromptLibrary()
        assert set(records["ok"]["output"]) == {"1", "2", "3", "4", "5"}
        library.parse("video_captions", json.dumps(records["ok"]["output"]))
        assert records["ok"]["conditions"].keys() == {"readability", "education_level", "information_profile"}
        # permanently invalid: three generations, every reason kept, the raw answer kept
        assert records["bad"]["status"] == "failed" and len(records["bad"]["errors"]) == 3
        assert "not a JSON object" in records["bad"]["errors"][0] and records["bad"]["raw"].startswith("Sure!")
        assert (
            records["schema"]["status"] == "failed" and "'1' is a required property" in records["schema"]["errors"][0]
        )
        # unreachable (always timing out): a transient error, left for the next run
        assert records["down"]["status"] == "error" and "timed out" in records["down"]["error"]
        assert server.requests["video_captions/down"] == 2  # first try + 1 retry
        assert server.requests["video_captions/bad"] == 3 and server.requests["video_captions/ok"] == 1

        # rerun: only the transient one is asked again; finished ones are not
        before = dict(server.requests)
        state["down_fixed"] = True
        counts2 = Enrichment(config).run(pool, captioner_factory=lambda: _openai(config), show_progress=False)
        assert counts2 == {"ok": 1}
        asked = {k: n - before.get(k, 0) for k, n in server.requests.items() if n != before.get(k, 0)}
        assert asked == {"video_captions/down": 1}
        stats = Enrichment(config).stats()
        assert stats["requests"] == {"video_captions": {"failed": 2, "ok": 5}}
        assert stats["failure_reasons"] == {"not JSON": 1, "schema violation": 1}


def _openai(config, **kw):
    from modeling_gve.synthesis.captioners import build_captioner

    return build_captioner(config.captioner, **kw)


def test_request_bodies_are_well_formed_multimodal_chat(pool_root):
    library = PromptLibrary()
    video = str(pool_root / "media/videos/base.mp4")
    frame = str(pool_root / "media/frames/base/frame-000.jpg")
    ti = library.request("ti_query", "ti_query/v/0", {"image_input": frame, "video_input": video}, seed=1)
    caption = library.request(
        "video_captions", "video_captions/v", {"video_input": video}, raw_caption="a red car", seed=1
    )
    with LoopbackChatServer(keep_bodies=True) as server:
        for mode in ("video_url", "frames"):
            captioner = OpenAICompatibleCaptioner(
                "m",
                server.url,
                video_input=mode,
                num_frames=4,
                max_pixels=64 * 28 * 28,
                guided_json=True,
                api_key="secret",
            )
            done = list(captioner.complete([Job(ti), Job(caption)]))
            assert all(d.text and d.error is None for d in done)
            body = server.bodies["ti_query/v/0"]
            parts = body["messages"][0]["content"]
            kinds = [p["type"] for p in parts]
            # interleaved as the template says: ... "Reference Image:" <image> "Video Clip:" <video>
            assert parts[0]["type"] == "text" and parts[0]["text"].rstrip().endswith("Reference Image:")
            assert kinds[1] == "image_url" and parts[2] == {"type": "text", "text": "\nVideo Clip: "}
            if mode == "video_url":
                assert kinds[3:] == ["video_url"]
                url = parts[3]["video_url"]["url"]
                assert url.startswith("data:video/mp4;base64,")
                assert base64.b64decode(url.split(",", 1)[1]) == (pool_root / "media/videos/base.mp4").read_bytes()
            else:
                assert kinds[3:] == ["image_url"] * 4  # the video as 4 frames sampled by GVE's reader
            assert body["response_format"]["type"] == "json_schema"
            assert "x-words" not in json.dumps(body["response_format"])
            content = server.bodies["video_captions/v"]["messages"][0]["content"]
            assert '"a red car"' in "".join(p["text"] for p in content if p["type"] == "text")
            assert body["seed"] == Job(ti).seed(0) and body["model"] == "m"


def _caption_jobs(pool_root, count):
    library = PromptLibrary()
    video = str(pool_root / "media/videos/base.mp4")
    return [
        Job(library.request("video_captions", f"video_captions/v{i}", {"video_input": video}, raw_caption="a clip"))
        for i in range(count)
    ]


def _captioner_threads():
    return [t for t in threading.enumerate() if t.name == "vsynflow-captioner"]


def test_openai_captioner_waits_for_a_slow_consumer_and_stops_with_it(pool_root):
    with LoopbackChatServer() as server:
        captioner = OpenAICompatibleCaptioner("m", server.url, concurrency=2, media_url="file")
        stream = captioner.complete(_caption_jobs(pool_root, 40))
        assert next(stream).text
        time.sleep(1.0)  # the consumer is busy: answers must not pile up meanwhile
        sent = sum(server.requests.values())
        assert sent <= 5  # the one consumed, a full queue (2 = concurrency), one waiting per slot (2)
        stream.close()
        assert not _captioner_threads()  # joined before close() returned
        time.sleep(0.3)
        assert sum(server.requests.values()) == sent  # nothing is sent once the consumer has stopped


def test_openai_captioner_cancels_requests_in_flight_when_the_consumer_stops(pool_root):
    def behaviour(key, attempt):
        return "valid" if key == "video_captions/v0" else "slow"

    with LoopbackChatServer(behaviour, slow_seconds=5.0) as server:
        captioner = OpenAICompatibleCaptioner("m", server.url, concurrency=3, media_url="file", timeout=30)
        stream = captioner.complete(_caption_jobs(pool_root, 10))
        for done in stream:  # a consumer that stops at the first answer (break, then the generator is closed)
            assert done.job.request.key == "video_captions/v0"
            break
        start = time.perf_counter()
        stream.close()
        assert time.perf_counter() - start < 2.0  # slow requests cancelled, not waited for
        assert not _captioner_threads()
        assert sum(server.requests.values()) <= 4  # v0, then at most one per slot (3)


def test_transformers_backend_with_tiny_generative_model(tiny_ckpt, pool_root, tmp_path):
    config = SynthesisConfig.from_values(
        {
            "input": str(pool_root),
            "output_dir": str(pool_root),
            "work_dir": str(tmp_path / "work"),
            "num_shards": 2,
            "captioner_backend": "transformers",
            "captioner_model": str(tiny_ckpt),
            "captioner_max_tokens": 12,
            "captioner_num_frames": 4,
            "captioner_max_pixels": 64 * 28 * 28,
            "captioner_generation_attempts": 2,
            "captioner_batch_size": 2,
            "enrich_kinds": ["video_captions", "ti_query"],
            "tasks": ["T2V", "TI2V"],
        }
    )
    captioner = TransformersCaptioner(
        str(tiny_ckpt), max_new_tokens=12, num_frames=4, max_pixels=64 * 28 * 28, batch_size=2
    )
    enrichment = Enrichment(config)
    pool = pool_of(["a", "b"], pool_root)
    requests = enrichment.requests(pool[0])
    assert [r.kind for r in requests] == ["video_captions", "ti_query"]
    prompt, images, videos, metadata = captioner._load(Job(requests[1]))
    # the chat template places the media where the prompt's markers are, in order
    assert prompt.index("<|image_pad|>") < prompt.index("Video Clip:") < prompt.index("<|video_pad|>")
    assert len(images) == 1 and videos[0].shape[0] == 4 and metadata[0]["fps"] == pytest.approx(10.0)

    first = [c.text for c in captioner.complete([Job(requests[0]), Job(requests[1])])]
    again = [c.text for c in captioner.complete([Job(requests[0]), Job(requests[1])])]
    assert first == again and all(isinstance(t, str) for t in first)  # seeded per attempt: reproducible

    # garbage answers from a random model: every request is retried, then recorded as failed
    broken = PoolVideo(id="c", source="", video="media/videos/missing.mp4", caption="gone")
    counts = enrichment.run(pool + [broken], captioner=captioner, show_progress=False)
    records = enrichment.results()
    assert counts == {"failed": 5}
    for key in ("video_captions/a", "ti_query/a/0", "video_captions/b", "ti_query/b/0"):
        assert records[key]["status"] == "failed" and records[key]["attempts"] == 2
        assert len(records[key]["errors"]) == 2
    # unreadable media is not retried
    assert (
        records["video_captions/c"]["attempts"] == 1 and "file not found" in records["video_captions/c"]["errors"][0]
    )


def test_prompt_library_files_and_validation(tmp_path):
    library = PromptLibrary()
    assert set(library.templates) == {"video_captions", "frame_captions", "ti_query", "tv_query"}
    request = library.request(
        "tv_query", "tv_query/v/0", {"reference_clip_input": "/c.mp4", "target_video_input": "/v.mp4"}
    )
    assert [p.type for p in request.media] == ["video", "video"] and request.media[0].path == "/c.mp4"
    # the information profile follows the paper's 30/60/10 mix
    drawn = [library.draw_conditions(f"k{i}", 0)["information_profile"]["name"] for i in range(3000)]
    assert abs(drawn.count("temporal") / 3000 - 0.6) < 0.04 and abs(drawn.count("spatial") / 3000 - 0.3) < 0.04
    good = {
        "1": " ".join(["w"] * 15),
        "2": " ".join(["w"] * 100),
        "3": " ".join(["w"] * 40),
        "4": "a b c d e f",
        "5": " ".join(["w"] * 20),
    }
    assert library.parse("video_captions", "```json\n" + json.dumps(good) + "\n```") == good
    with pytest.raises(ValueError, match="2: 3 words, expected 40-300"):
        library.parse("video_captions", json.dumps(good | {"2": "too short here"}))
    with pytest.raises(ValueError, match="Additional properties"):
        library.parse("video_captions", json.dumps(good | {"6": "extra"}))
    # a prompt folder overrides single files; a template without media marker is refused
    (tmp_path / "tv_query.txt").write_text('Describe it as JSON {"query": ...}')
    with pytest.raises(ValueError, match="tv_query.txt: no media marker"):
        PromptLibrary(tmp_path)
    (tmp_path / "tv_query.txt").write_text(
        "<reference_clip_input><target_video_input> Write a query for {readability}."
    )
    custom = PromptLibrary(tmp_path)
    parts = custom.request("tv_query", "k", {"reference_clip_input": "/c.mp4", "target_video_input": "/v.mp4"}).parts
    assert isinstance(parts[0], MediaRef) and parts[2].startswith(" Write a query for ")
    assert custom.digest() != library.digest()
