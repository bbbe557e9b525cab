"""The UVRB runner end to end on a mini-UVRB (all 16 tasks in the authors' layout, real
encoded videos and frame folders) with the tiny checkpoint: results against a brute-force
reference, encode-once sharing, resume after an interruption, cache invalidation,
skip-and-report of a corrupt video, the sentence-transformers encoder and the CLI."""

import json
import shutil

import pytest
import torch
from uvrb_helpers import TEST_SAMPLING, EncodeCounter, mini_uvrb

from modeling_gve.uvrb import TASKS, aggregate
from modeling_gve.uvrb.data import load_task
from modeling_gve.uvrb.metrics import METRIC_NAMES, task_metrics
from modeling_gve.uvrb.runner import Fingerprints, UVRBRunConfig, plan_encoding, run_uvrb
from modeling_gve.uvrb.tasks import segment_tasks


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    return mini_uvrb(tmp_path_factory)


def _config(tiny_ckpt, data, output, **overrides) -> UVRBRunConfig:
    settings = {
        "model": str(tiny_ckpt),
        "output": str(output),
        "data": str(data),
        "sampling": dict(TEST_SAMPLING),
        "num_workers": 0,
        "flush_every": 8,
        "show_progress_bar": False,
    }
    settings.update(overrides)
    return UVRBRunConfig(**settings)


@pytest.fixture(scope="module")
def full_run(tiny_ckpt, mini, tmp_path_factory):
    output = tmp_path_factory.mktemp("uvrb-full")
    return run_uvrb(_config(tiny_ckpt, mini, output)), output


def _brute_force(model, data, frames_fps=1.0) -> dict:
    """Direct `model.encode` (no cache), the full similarity matrix and a full sort."""
    task = data.task
    corpus_ids = list(data.corpus)
    corpus = model.encode([{"video": data.corpus[c].as_input(frames_fps)} for c in corpus_ids], **TEST_SAMPLING)
    queries = model.encode([q.as_input(frames_fps) for q in data.queries], instruction=task.prompt, **TEST_SAMPLING)
    scores = queries @ corpus.T  # (Q, C)
    rankings = []
    for row, query in enumerate(data.queries):
        allowed = data.candidates[query.id] if data.candidates else corpus_ids
        order = sorted(allowed, key=lambda c: -float(scores[row, corpus_ids.index(c)]))
        rankings.append(order)
    return task_metrics(task.name, rankings, [data.relevant[q.id] for q in data.queries])


def test_all_16_tasks_match_a_brute_force_reference(full_run, gve_model, mini):
    results, output = full_run
    assert list(results["tasks"]) == list(TASKS)
    for name, task in TASKS.items():
        data = load_task(task, mini / task.hub_folder)
        expected = _brute_force(gve_model, data)
        got = results["tasks"][name]
        assert got["complete"] and got["main_metric"] == task.main_metric
        for metric in (*METRIC_NAMES, "main_score"):
            assert got[metric] == pytest.approx(expected[metric], abs=1e-9), (name, metric)
    assert results["aggregate"] == aggregate({n: r["main_score"] for n, r in results["tasks"].items()}, strict=True)
    # the outputs a user reads
    saved = json.loads((output / "results.json").read_text())
    assert (
        saved["tasks"] == results["tasks"]
        and saved["data"]["tasks"]["MSRVTT"]["fingerprint"] == load_task(TASKS["MSRVTT"], mini / "MSRVTT").fingerprint
    )
    markdown = (output / "results.md").read_text()
    assert "| GVE-3B (paper) | 0.544 | 0.431 |" in markdown and "| GVE-7B (paper) | 0.600 | 0.657 |" in markdown
    assert (output / "radar.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (output / "tasks").iterdir()) == sorted(f"{n}.json" for n in TASKS)


def _brute_force_segments(model, data, seconds, frames_fps) -> dict:
    """Each corpus video by its best segment: `GVEModel.encode_segments` directly (no cache), the
    full (query, segment) similarity matrix, max per video, a full sort."""
    corpus_ids = list(data.corpus)
    videos = model.encode_segments([data.corpus[c].as_input(frames_fps) for c in corpus_ids], seconds, **TEST_SAMPLING)
    queries = model.encode([q.as_input(frames_fps) for q in data.queries], instruction=data.task.prompt, **TEST_SAMPLING)
    best = torch.stack([(queries @ video.embeddings.T).max(dim=1).values for video in videos], dim=1)  # (Q, C)
    rankings = [sorted(corpus_ids, key=lambda c: -float(best[row, corpus_ids.index(c)])) for row in range(len(queries))]
    return task_metrics(data.task.name, rankings, [data.relevant[q.id] for q in data.queries]), videos


def test_segments_score_the_pr_and_lc_videos_by_their_best_segment(full_run, tiny_ckpt, gve_model, mini, tmp_path,
                                                                     monkeypatch):  # fmt: skip
    """``segment_seconds``: the five partially relevant / long-context tasks rank their videos by the
    best 0.5 s segment (a brute-force reference agrees), the other tasks are scored as before, and
    a second run encodes nothing (the segments have a namespace of their own in the cache)."""
    segmented = [t.name for t in segment_tasks()]
    assert segmented == ["DREAM-E", "LoVR-TH", "PEV-K", "LoVR-V", "VDC-D"]
    config = _config(tiny_ckpt, mini, tmp_path, tasks=[*segmented, "MSRVTT"], segment_seconds=0.5, frames_fps=4.0)
    results = run_uvrb(config)
    assert results["encoding"]["segments"] == {"seconds": 0.5, "tasks": sorted(segmented), "videos_unique": 15}
    for name in segmented:
        data = load_task(TASKS[name], mini / TASKS[name].hub_folder)
        expected, videos = _brute_force_segments(gve_model, data, 0.5, frames_fps=4.0)
        assert all(len(video.segments) >= 2 for video in videos)  # a max over more than one segment
        got = results["tasks"][name]
        assert got["complete"] and got["segments"] == {"seconds": 0.5, "scored_by": "best segment (max cosine)"}
        for metric in (*METRIC_NAMES, "main_score"):
            assert got[metric] == pytest.approx(expected[metric], abs=1e-9), (name, metric)
    assert "segments" not in results["tasks"]["MSRVTT"]
    note = "videos ranked by their best 0.5-second segment (--segment-seconds), not by one vector per video"
    assert f"- LoVR-V: {note}" in (tmp_path / "results.md").read_text()
    assert results["tasks"]["MSRVTT"] == full_run[0]["tasks"]["MSRVTT"]  # not a segmented task: as before
    counter = EncodeCounter(monkeypatch)
    again = run_uvrb(config)
    assert counter.items == 0 and again["tasks"] == results["tasks"]


def test_shared_videos_are_encoded_once(full_run):
    encoding = full_run[0]["encoding"]
    # mini-UVRB: 11 corpus groups x 3 videos + 1 extra clip for MS-TI and MS-TV = 35 distinct videos,
    # listed 50 times by the 16 tasks (CRB-G/S/T, VDC-O/D, MSRVTT(-I2V), LoVR-V/C2V share theirs)
    assert (encoding["candidates_unique"], encoding["candidates_per_task_total"]) == (35, 50)
    assert encoding["encoded_this_run"] == encoding["unique_inputs"]


def test_second_run_encodes_nothing(full_run, tiny_ckpt, mini, monkeypatch):
    results, output = full_run
    counter = EncodeCounter(monkeypatch)
    again = run_uvrb(_config(tiny_ckpt, mini, output))
    assert counter.items == 0 and again["encoding"]["encoded_this_run"] == 0
    assert again["tasks"] == results["tasks"]


def test_interrupted_run_resumes_encoding_only_what_was_missing(full_run, tiny_ckpt, mini, tmp_path, monkeypatch):
    results, _ = full_run
    with monkeypatch.context() as patch:
        interrupted = EncodeCounter(patch, fail_after=3)  # dies in the 4th chunk of 8 inputs
        with pytest.raises(KeyboardInterrupt):
            run_uvrb(_config(tiny_ckpt, mini, tmp_path))
    assert interrupted.items == 24
    on_disk = sum(len(json.loads(p.read_text())["keys"]) for p in (tmp_path / "embedding_cache").rglob("shard-*.json"))
    assert on_disk == 24
    resumed = EncodeCounter(monkeypatch)
    again = run_uvrb(_config(tiny_ckpt, mini, tmp_path))
    unique = results["encoding"]["unique_inputs"]
    assert resumed.items == unique - 24 == again["encoding"]["encoded_this_run"]
    assert again["tasks"] == results["tasks"]


def test_changed_preprocessing_invalidates_the_cache(full_run, tiny_ckpt, mini, monkeypatch):
    results, output = full_run
    counter = EncodeCounter(monkeypatch)
    changed = run_uvrb(
        _config(tiny_ckpt, mini, output, sampling={**TEST_SAMPLING, "max_frames": 4}, tasks=["CRB-G", "LoVR-C2V"])
    )
    assert counter.items == changed["encoding"]["unique_inputs"] == 3 + 3 + 3 + 3  # videos + queries of both
    # reading frame folders at another fps changes only the frame-folder videos' keys
    counter.items = 0
    refps = run_uvrb(_config(tiny_ckpt, mini, output, frames_fps=2.0))
    assert counter.items == refps["encoding"]["encoded_this_run"] == 3 + 3 + 3  # DiDeMo, VDC-O/D (shared), LoVR-TH
    assert refps["tasks"]["MSRVTT"] == results["tasks"]["MSRVTT"]


def test_corrupt_video_is_skipped_and_reported(tiny_ckpt, mini, tmp_path):
    data = tmp_path / "data"
    for name in ("MSRVTT", "MSRVTT-I2V"):
        shutil.copytree(mini / name, data / name)
    (data / "MSRVTT" / "videos" / "msrvtt_01.mp4").write_bytes(b"not a video at all" * 100)
    results = run_uvrb(_config(tiny_ckpt, data, tmp_path / "out", tasks=["MSRVTT", "MSRVTT-I2V"]))
    msrvtt = results["tasks"]["MSRVTT"]
    assert not msrvtt["complete"] and [s["id"] for s in msrvtt["skipped_candidates"]] == ["v1"]
    assert "msrvtt_01.mp4" in msrvtt["skipped_candidates"][0]["reason"]
    assert "could not be opened as a video" in msrvtt["skipped_candidates"][0]["reason"]
    assert msrvtt["R@10"] == pytest.approx(2 / 3)  # the query whose only positive failed cannot hit
    assert results["tasks"]["MSRVTT-I2V"]["complete"]  # its own intact copy of the video was encoded
    assert "**no** (0 queries, 1 videos skipped)" in (tmp_path / "out" / "results.md").read_text()


def test_sentence_transformers_encoder(tiny_ckpt, mini, tmp_path):
    from sentence_transformers import SentenceTransformer

    tasks = ["MSRVTT", "DiDeMo", "MS-TV", "MSRVTT-I2V", "LoVR-C2V"]
    results = run_uvrb(_config(tiny_ckpt, mini, tmp_path, encoder="sentence-transformers", tasks=tasks))
    assert results["encoder"]["encoder"] == "sentence-transformers"
    assert list(results["tasks"]) == tasks and all(r["complete"] for r in results["tasks"].values())
    assert results["encoding"]["encoded_this_run"] == results["encoding"]["unique_inputs"]
    # the cached query embeddings are the model's own, with the task prompt as ST's prompt
    from modeling_gve.embedding_cache import EmbeddingCache, item_key
    from modeling_gve.encoders import SentenceTransformerEncoder

    model = SentenceTransformer(str(tiny_ckpt), device="cpu")
    encoder = SentenceTransformerEncoder(model, str(tiny_ckpt), sampling=TEST_SAMPLING)
    cache = EmbeddingCache(tmp_path / "embedding_cache", encoder.cache_settings(TASKS["MSRVTT"].prompt))
    queries = load_task(TASKS["MSRVTT"], mini / "MSRVTT").queries
    keys = [item_key(q.text) for q in queries]
    direct = model.encode(
        [q.text for q in queries], prompt=TASKS["MSRVTT"].prompt, convert_to_tensor=True, normalize_embeddings=True
    )
    assert torch.allclose(cache.get(keys), direct.float(), atol=1e-5)
    again = run_uvrb(_config(tiny_ckpt, mini, tmp_path, encoder="sentence-transformers", tasks=tasks))
    assert again["encoding"]["encoded_this_run"] == 0 and again["tasks"] == results["tasks"]


def test_gve_sentence_transformers_checkpoint_gives_the_gve_scores(tiny_converted, mini, tmp_path):
    """A converted GVE checkpoint is also a SentenceTransformer: scored through the ST encoder
    protocol (paper sampling) it gives the embeddings and scores of the GVE path."""
    from modeling_gve.embedding_cache import EmbeddingCache

    tasks = ["MSRVTT", "DiDeMo", "MS-TV", "MSRVTT-I2V", "LoVR-C2V"]
    runs = {
        kind: run_uvrb(
            _config(
                tiny_converted, mini, tmp_path / kind, encoder=kind, tasks=tasks, sampling={}, trust_remote_code=True
            )
        )
        for kind in ("gve", "sentence-transformers")
    }
    for name in tasks:
        for metric in (*METRIC_NAMES, "main_score"):
            assert runs["gve"]["tasks"][name][metric] == pytest.approx(
                runs["sentence-transformers"]["tasks"][name][metric]
            )
    datas = [load_task(TASKS[name], mini / name) for name in tasks]
    video_keys = plan_encoding(datas, Fingerprints(None)).candidates.keys
    assert len(video_keys) == 13  # MSRVTT (shared with MSRVTT-I2V) 3, DiDeMo 3, MS-TV 4, LoVR 3
    embeddings = {}
    for kind in runs:  # the candidate (video) namespace of each run's cache
        (settings,) = [
            json.loads(p.read_text())
            for p in (tmp_path / kind / "embedding_cache").glob("*/settings.json")
            if json.loads(p.read_text())["instruction"] in (None, "You are a helpful assistant.")
        ]
        embeddings[kind] = EmbeddingCache(tmp_path / kind / "embedding_cache", settings).get(video_keys)  # (13, D)
    assert torch.allclose(embeddings["gve"], embeddings["sentence-transformers"], atol=1e-5)


def test_videos_v_synflow_embedded_are_not_embedded_again(tiny_ckpt, mini, tmp_path, monkeypatch):
    """One key scheme and one encoder layer: with the same model, settings and cache folder, a video
    V-SynFlow's consistency filter embedded is read back by `gve uvrb` (only the queries are encoded)."""
    from modeling_gve.encoders import CachedEncoder, load_encoder
    from modeling_gve.synthesis.consistency import consistency_scores
    from modeling_gve.synthesis.sources import SourceVideo

    cache = tmp_path / "shared-cache"
    encoder = CachedEncoder(load_encoder(str(tiny_ckpt), kind="gve", device="cpu", sampling=TEST_SAMPLING), cache)
    data = load_task(TASKS["MSRVTT"], mini / "MSRVTT")
    corpus = data.corpus
    pairs = [SourceVideo(cid, str(source.path), f"caption {cid}") for cid, source in corpus.items()]
    scores, errors = consistency_scores(encoder, pairs, instruction="Find the video.", show_progress_bar=False)
    assert len(scores) == len(corpus) and not errors
    counter = EncodeCounter(monkeypatch)
    results = run_uvrb(_config(tiny_ckpt, mini, tmp_path / "out", tasks=["MSRVTT"], cache_dir=str(cache)))
    assert counter.items == results["encoding"]["encoded_this_run"] == len(data.queries)  # the videos: from disk
    assert results["encoding"]["cache_problems"] == []


def test_cli(tiny_ckpt, mini, tmp_path, capsys):
    from modeling_gve.cli import main

    def uvrb(*args: str, data=mini) -> int:
        """``gve uvrb`` on the tiny checkpoint -> its exit status."""
        return main(["uvrb", "--model", str(tiny_ckpt), "--data", str(data), "--output", str(tmp_path), *args])

    sampling = [f"{k}={v}" for k, v in TEST_SAMPLING.items()]
    code = uvrb("--tasks", "CMP", "--num-workers", "0", "--no-progress", "--label", "tiny", "--sampling", *sampling)
    assert code == 0
    printed = capsys.readouterr().out
    assert "| **tiny** (this run) |" in printed and "## Abilities (paper Table 2)" in printed
    results = json.loads((tmp_path / "results.json").read_text())
    assert list(results["tasks"]) == ["MS-TI", "MS-TV"] and results["aggregate"]["CMP"] is not None
    assert results["aggregate"]["AVG-D"] is None  # a subset: no 16-task average
    assert not (tmp_path / "radar.png").exists()  # one ability column only: no radar plot
    assert uvrb("--tasks", "MS_TI") == 2
    assert "gve uvrb: error: Unknown UVRB task 'MS_TI'; did you mean 'MS-TI'?" in capsys.readouterr().err
    assert uvrb("--sampling", "max_frame=4") == 2
    assert "Unknown sampling option 'max_frame'; did you mean 'max_frames'?" in capsys.readouterr().err
    bad = tmp_path / "bad"
    shutil.copytree(mini / "CMRB", bad / "CMRB")
    (bad / "CMRB" / "jsonl" / "corpus.jsonl").write_text('{"id": "v0", "video": "cmrb_00.mp4"}\n{"id": "v1",\n')
    assert uvrb("--tasks", "CMRB", data=bad) == 2
    assert "CMRB/jsonl/corpus.jsonl:2: invalid JSON" in capsys.readouterr().err
