"""Stage 3 defaults: the tasks follow the paper's UVRD proportions scaled to the input, and T2T
pairs the captions of frames as well as of videos (§A.6)."""

import pytest

from modeling_gve.synthesis.config import UVRD_ROWS, SynthesisConfig
from modeling_gve.synthesis.plan import PoolVideo, plan_video, request_key
from modeling_gve.synthesis.tasks import build_rows, proportional_caps


def test_proportions_scale_to_the_scarcest_task():
    counts = {"T2V": 5000, "T2T": 9000, "T2I": 5000, "I2V": 5000, "V2V": 5000, "TI2V": 5000, "TV2V": 5000}
    caps = proportional_caps(counts, UVRD_ROWS)
    # T2V has the largest share (879K of 1.55M) and limits the scale: 5000 / 879000 rows per paper row
    assert caps["T2V"] == 5000
    assert {t: caps[t] for t in ("T2I", "I2V", "T2T", "TI2V", "V2V", "TV2V")} == {
        t: round(5000 * UVRD_ROWS[t] / 879_000) for t in ("T2I", "I2V", "T2T", "TI2V", "V2V", "TV2V")
    }
    assert caps["T2I"] / caps["TV2V"] == pytest.approx(210 / 35, rel=0.02)
    # a scarce small task limits the scale instead; a task with no rows does not; one row at least
    assert proportional_caps({"T2V": 5000, "TV2V": 10, "I2V": 0}, UVRD_ROWS) == {"T2V": 251, "TV2V": 10}
    assert proportional_caps({"T2V": 3, "TV2V": 3}, UVRD_ROWS) == {"T2V": 3, "TV2V": 1}
    assert proportional_caps(counts, {}) == {}
    assert proportional_caps({"T2V": 7, "T2T": 4}, {"T2V": 1, "T2T": 0}) == {"T2V": 7, "T2T": 0}


def _pool_and_enrichment(num_videos: int):
    pool, enrichment = [], {}
    for i in range(num_videos):
        frames, clips = [f"media/frames/v{i}/{k}.jpg" for k in range(3)], [f"media/clips/v{i}/0.mp4"]
        video = PoolVideo(id=f"v{i}", source=f"/in/v{i}.mp4", video=f"media/videos/v{i}.mp4", caption="a clip",
                          frames=frames, clips=clips)  # fmt: skip
        pool.append(video)
        ok = {"status": "ok"}
        captions = {str(c): f"v{i} caption {c}" for c in range(1, 6)}
        enrichment[request_key("video_captions", video.id)] = ok | {"output": captions}
        for k in range(3):
            frame = {str(c): f"v{i} frame {k} caption {c}" for c in range(1, 6)}
            enrichment[request_key("frame_captions", video.id, k)] = ok | {"output": frame}
            enrichment[request_key("ti_query", video.id, k)] = ok | {"output": {"query": f"v{i} then {k}"}}
        enrichment[request_key("tv_query", video.id, 0)] = ok | {"output": {"query": f"v{i} clip"}}
    return pool, enrichment


def test_default_rows_follow_the_uvrd_proportions_and_t2t_pairs_frame_captions(tmp_path):
    values = {"input": "in", "output_dir": str(tmp_path), "captioner_model": "m"}
    config = SynthesisConfig.from_values(values)
    assert config.tasks.task_proportions == UVRD_ROWS  # the default
    pool, enrichment = _pool_and_enrichment(40)
    everything = build_rows(pool, enrichment, SynthesisConfig.from_values(values | {"task_proportions": {}}))
    # per video: 1 T2V, 1 T2T of video captions + 1 of the captioned frame's captions unused by T2I
    assert {t: len(r) for t, r in everything.items()} == {
        "T2V": 40, "T2T": 80, "T2I": 40, "I2V": 40, "V2V": 40, "TI2V": 40, "TV2V": 40
    }  # fmt: skip
    frame_pairs = [r for r in everything["T2T"] if "-f" in r["id"]]
    plan = plan_video(pool[0], config.captioner, config.tasks, config.data.seed)
    first = next(r for r in frame_pairs if r["id"].startswith("T2T-v0-"))
    t2i = next(r for r in everything["T2I"] if r["id"].startswith("T2I-v0-"))
    captioned = f"v0 frame {plan.caption_frames[0]} caption"
    assert first["query_text"].startswith(captioned) and first["pos_text"].startswith(captioned)
    assert t2i["query_text"] not in (first["query_text"], first["pos_text"])  # the unused captions only

    rows = build_rows(pool, enrichment, config)
    counts = {t: len(r) for t, r in rows.items()}
    assert counts == proportional_caps({t: len(r) for t, r in everything.items()}, UVRD_ROWS)
    assert counts["T2V"] == 40 and counts["TV2V"] == 2 and counts["T2I"] == 10  # 40 x 35/879, 40 x 210/879
    assert {r["id"] for r in rows["T2I"]} <= {r["id"] for r in everything["T2I"]}
    capped = build_rows(pool, enrichment, SynthesisConfig.from_values(values | {"max_rows": {"T2V": 7}}))
    assert len(capped["T2V"]) == 7 and len(capped["T2I"]) == 10  # max_rows cuts further, after the proportions
