"""V-SynFlow end to end: captioned videos → dataset folder with one config per task that
`datasets.load_dataset(folder, task)` reads (the training-data contract), the dataset card,
hard negatives, the Hub push (mocked), kill-and-resume, and two processes splitting the work."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
import yaml
from helpers import REPO, accelerate_launch, run_bounded, started, stop, subprocess_env

from modeling_gve.directions import parse
from modeling_gve.synthesis.config import TASKS, SynthesisConfig
from modeling_gve.synthesis.pipeline import run
from modeling_gve.testing.loopback import LoopbackChatServer
from modeling_gve.testing.media import make_video

COLUMNS = ["id", "query_text", "query_image", "query_video", "pos_text", "pos_image", "pos_video", "negatives"]


@pytest.fixture(scope="module")
def captioned(tmp_path_factory):
    """Five moving videos, one static, one missing file, one non-descriptive caption."""
    root = tmp_path_factory.mktemp("captioned")
    rows = []
    for i in range(5):
        make_video(
            root / "clips" / f"m{i}.mp4", seconds=2.0 + 0.5 * i, fps=10, size=(96 + 16 * i, 64), pattern="testsrc2"
        )
        rows.append({"file_name": f"clips/m{i}.mp4", "caption": f"A test card number {i} with a sweeping clock hand"})
    make_video(root / "clips" / "still.mp4", seconds=2.0, fps=10, size=(96, 64), pattern="color=c=green")
    rows.append({"file_name": "clips/still.mp4", "caption": "A green screen that never changes at all"})
    rows.append({"file_name": "clips/gone.mp4", "caption": "A file that was deleted before the run"})
    rows.append({"file_name": "clips/m0.mp4", "id": "noise", "caption": "VID_20240101.mp4"})
    (root / "metadata.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def settings(captioned, out, url, **extra):
    return {
        "input": str(captioned),
        "output_dir": str(out),
        "num_shards": 4,
        "captioner_model": "loopback",
        "captioner_base_url": url,
        "captioner_video_input": "frames",
        "captioner_num_frames": 4,
        "captioner_max_pixels": 64 * 28 * 28,
        "captioner_concurrency": 4,
        "frames_per_video": 2,
        "clip_seconds": 1.0,
        "qc_workers": 2,
        # every row of the five videos, no consistency cut: the defaults (the paper's proportions, a
        # quantile threshold) are tested on their own (test_synthesis_tasks.py, test_synthesis_qc.py)
        "task_proportions": {},
        "consistency_quantile": None,
    } | extra


def load_all(root, cache):
    import datasets

    return {
        t: datasets.load_dataset(str(root), t, split="train", cache_dir=str(cache)).to_list()
        for t in datasets.get_dataset_config_names(str(root))
    }


def test_end_to_end_dataset_loads_per_task(captioned, tmp_path):
    import datasets
    from huggingface_hub import DatasetCard

    out = tmp_path / "uvrd"
    with LoopbackChatServer() as server:
        stats = run(SynthesisConfig.from_values(settings(captioned, out, server.url)))
    assert stats["quality"]["outcome"] == {"kept": 5, "static": 1, "unreadable": 1}
    assert stats["quality"]["rectification"]["dropped"] == {"pattern": 1}
    # one row per video and task; T2T also pairs two captions of each video's captioned frame
    rows = {t: 10 if t == "T2T" else 5 for t in TASKS}
    assert {t: s["rows"] for t, s in stats["tasks"].items()} == rows

    assert sorted(datasets.get_dataset_config_names(str(out))) == sorted(TASKS)
    for task in TASKS:
        ds = datasets.load_dataset(str(out), task, split="train", cache_dir=str(tmp_path / "hf"))
        assert ds.column_names == COLUMNS and len(ds) == rows[task]
        assert ds.features["negatives"].feature["video"].dtype == "string"
        direction = parse(task)
        expected = {f"query_{m}" for m in direction.query} | {f"pos_{m}" for m in direction.candidate}
        for row in ds:
            present = {c for c in COLUMNS[1:-1] if row[c] is not None}
            assert present == expected, (task, row)
            for column in present - {"query_text", "pos_text"}:
                assert (out / row[column]).is_file(), row[column]  # media paths are relative to the root
        assert len(set(ds["id"])) == len(ds)
    t2v = datasets.load_dataset(str(out), "T2V", split="train", cache_dir=str(tmp_path / "hf"))
    assert sorted(t2v["pos_video"]) == [f"media/videos/clips_m{i}.mp4" for i in range(5)]  # ids from the paths
    card = DatasetCard.load(out / "README.md")
    assert [c["config_name"] for c in card.data.configs] == ["T2T", "T2I", "T2V", "I2V", "V2V", "TI2V", "TV2V"]
    assert "| `TV2V` | composed text + clip | video | 5 |" in card.text
    assert "Annotation rectification kept 7; dropped pattern: 1" in card.text
    assert "threshold 0.005: 1 below" in card.text  # the static video, in the motion statistics
    assert not (out / ".vsynflow" / "stats.json").read_text().count(str(tmp_path))  # no local paths in stats

    # the stages run one at a time give the same dataset
    with LoopbackChatServer() as server:
        for stage in ("qc", "enrich", "tasks"):
            run(SynthesisConfig.from_values(settings(captioned, tmp_path / "staged", server.url, stages=[stage])))
    assert load_all(tmp_path / "staged", tmp_path / "hf") == load_all(out, tmp_path / "hf")

    # a rerun with a stricter motion threshold drops videos and their media; nothing is captioned again
    with LoopbackChatServer() as server:
        stats = run(SynthesisConfig.from_values(settings(captioned, out, server.url, motion_threshold=0.105)))
        assert sum(server.requests.values()) == 0
    kept = stats["quality"]["pool"]["videos"]
    assert 0 < kept < 5 and stats["tasks"]["T2V"]["rows"] == kept
    assert len(list((out / "media" / "videos").iterdir())) == kept


def test_hard_negatives_and_push_to_hub(captioned, tiny_ckpt, tmp_path):
    out = tmp_path / "uvrd"
    api = mock.MagicMock()
    uploaded = {}

    def upload_folder(**kwargs):  # the staged folder is temporary: record what it held at upload time
        folder = Path(kwargs["folder_path"])
        uploaded["files"] = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        return "commit-info"

    api.upload_folder.side_effect = upload_folder
    with LoopbackChatServer() as server, mock.patch("huggingface_hub.HfApi", return_value=api):
        stats = run(
            SynthesisConfig.from_values(
                settings(
                    captioned,
                    out,
                    server.url,
                    embedder=str(tiny_ckpt),
                    mine_hard_negatives=True,
                    negative_margin=None,
                    hard_negatives={"T2V": 2, "I2V": 1},
                    tasks=["T2V", "I2V", "T2T"],
                    push_to_hub=True,
                    hub_repo_id="my-org/my-uvrd",
                    hub_revision="v1",
                    hub_private=True,
                )
            )
        )
    assert stats["negatives"]["tasks"]["T2V"] | {"embedding_failures": 0} == {
        "rows": 5,
        "full": 5,
        "partial": 0,
        "none": 0,
        "embedding_failures": 0,
        "k": 2,
    }
    tables = load_all(out, tmp_path / "hf")
    assert set(tables) == {"T2V", "I2V", "T2T"}
    for task, k in (("T2V", 2), ("I2V", 1)):
        for row in tables[task]:
            assert len(row["negatives"]) == k
            for negative in row["negatives"]:
                assert negative["text"] is None and negative["image"] is None
                assert negative["video"] != row["pos_video"] and (out / negative["video"]).is_file()
    assert all(row["negatives"] == [] for row in tables["T2T"])
    # the push: repo + branch created, the folder uploaded without the work state
    api.create_repo.assert_called_once_with("my-org/my-uvrd", repo_type="dataset", private=True, exist_ok=True)
    api.create_branch.assert_called_once_with("my-org/my-uvrd", branch="v1", repo_type="dataset", exist_ok=True)
    kwargs = api.upload_folder.call_args.kwargs
    assert kwargs["repo_id"] == "my-org/my-uvrd" and kwargs["repo_type"] == "dataset" and kwargs["revision"] == "v1"
    expected = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and ".vsynflow" not in p.parts)
    assert uploaded["files"] == expected and "README.md" in expected  # the dataset, not the work state
    assert api.upload_folder.call_count == 1


def _write_config(path, values):
    path.write_text(yaml.safe_dump(values))
    return path


def _lines(folder):
    return sum(len(p.read_text().splitlines()) for p in Path(folder).glob("enrich-*/shard-*.jsonl"))


@pytest.mark.slow
def test_kill_mid_stage_and_resume_gives_the_uninterrupted_output(captioned, tmp_path):
    # reference: one uninterrupted run
    with LoopbackChatServer() as server:
        run(SynthesisConfig.from_values(settings(captioned, tmp_path / "reference", server.url)))
    reference = load_all(tmp_path / "reference", tmp_path / "hf")

    with LoopbackChatServer(latency=0.15) as server:  # slow enough to be killed during stage 2
        config = _write_config(
            tmp_path / "cfg.yaml", settings(captioned, tmp_path / "resumed", server.url, captioner_concurrency=1)
        )
        command = [sys.executable, "-m", "modeling_gve", "synthesize", "--config", str(config)]
        process = started(command, env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        work = tmp_path / "resumed" / ".vsynflow"
        deadline = time.time() + 120
        while _lines(work) < 5 and process.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        stop(process, signal.SIGKILL)
        assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()[-2000:]
        finished = {
            json.loads(line)["key"]
            for p in work.glob("enrich-*/shard-*.jsonl")
            for line in p.read_text().splitlines()
            if line.endswith("}")
        }
        assert 5 <= len(finished) < 20  # killed in the middle of stage 2
        qc_logs = {p: p.read_bytes() for p in (work / "qc").rglob("*.jsonl")}
        frame = next((tmp_path / "resumed" / "media" / "frames").rglob("*.jpg"))
        frame_mtime = frame.stat().st_mtime_ns
        assert not (tmp_path / "resumed" / "README.md").exists()

        result = run_bounded(command, timeout=600, env=subprocess_env())
        assert result.returncode == 0, result.stderr[-3000:]
        # nothing finished was asked again; stage 1 was not redone
        assert all(server.requests[key] == 1 for key in finished)
        assert sum(server.requests.values()) <= 20 + 1  # 20 requests, plus at most the one in flight at the kill
        assert {p: p.read_bytes() for p in (work / "qc").rglob("*.jsonl")} == qc_logs
        assert frame.stat().st_mtime_ns == frame_mtime
    records = [json.loads(line) for p in work.glob("enrich-*/shard-*.jsonl") for line in p.read_text().splitlines()]
    assert len(records) == len({r["key"] for r in records}) == 20  # each request recorded once
    assert load_all(tmp_path / "resumed", tmp_path / "hf") == reference


@pytest.mark.slow
def test_two_processes_split_the_shards(captioned, tiny_ckpt, tmp_path):
    # consistency scoring and hard-negative mining included: both embed in two processes
    extra = {"embedder": str(tiny_ckpt), "mine_hard_negatives": True, "negative_margin": None}
    with LoopbackChatServer() as server:
        stats = run(SynthesisConfig.from_values(settings(captioned, tmp_path / "one", server.url, **extra)))
    assert stats["negatives"]["tasks"]["TI2V"]["full"] == 5
    reference = load_all(tmp_path / "one", tmp_path / "hf")
    with LoopbackChatServer() as server:
        config = _write_config(tmp_path / "cfg.yaml", settings(captioned, tmp_path / "two", server.url, **extra))
        # torchrun processes (recipes/accelerate/multi_cpu.yaml) that the pipeline runs on gloo
        command = accelerate_launch(REPO / "recipes" / "synthesize.py", "--config", str(config))
        result = run_bounded(command, timeout=300, env=subprocess_env())
        assert result.returncode == 0, result.stderr[-3000:]
        assert set(server.requests.values()) == {1} and len(server.requests) == 20  # each request once, overall
    assert "process 0/2: stage 2" in result.stdout and "process 1/2: stage 2" in result.stdout
    assert result.stdout.count("[V-SynFlow] stage 3") == 1  # the main process writes the dataset
    assert load_all(tmp_path / "two", tmp_path / "hf") == reference


@pytest.mark.parametrize(
    "use_cpu, has_accelerator, expected",
    [("true", True, True), (None, True, False), (None, False, True), ("false", False, True)],
)
def test_cpu_process_group_follows_accelerate_use_cpu(
    captioned, tmp_path, monkeypatch, use_cpu, has_accelerator, expected
):
    """`accelerate launch --cpu` (ACCELERATE_USE_CPU) on a GPU machine gives a CPU process group,
    in V-SynFlow as in the UVRB runner (one rule for both)."""
    import accelerate
    import torch

    from modeling_gve.distributed import cpu_process_group

    made = []

    class Recorded(Exception):
        pass

    def partial_state(cpu=False, **kwargs):
        made.append(cpu)
        raise Recorded  # stop before any work: only the process group matters here

    if use_cpu is None:
        monkeypatch.delenv("ACCELERATE_USE_CPU", raising=False)
    else:
        monkeypatch.setenv("ACCELERATE_USE_CPU", use_cpu)
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: has_accelerator)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: has_accelerator)
    monkeypatch.setattr(accelerate, "PartialState", partial_state)
    with pytest.raises(Recorded):
        run(SynthesisConfig.from_values(settings(captioned, tmp_path / "out", "http://127.0.0.1:9")))
    assert made == [expected] and cpu_process_group() is expected  # the rule the UVRB runner's process_state uses
