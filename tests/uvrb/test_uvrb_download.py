"""UVRB from the Hub: `snapshot_download` is asked for the chosen tasks' files only (folders at
any nesting and per-task archives), against a local folder standing in for the Hub repo and
filtered by huggingface_hub's own pattern matching; offline or unreachable, `gve uvrb` says in
one line that it could not fetch Alibaba-NLP/UVRB and suggests --data DIR."""

import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from helpers import run_bounded, subprocess_env
from uvrb_helpers import mini_uvrb

from modeling_gve.uvrb import TASKS
from modeling_gve.uvrb.config import UVRBRunConfig
from modeling_gve.uvrb.data import load_task, load_tasks

COMMIT = "c" * 40


@pytest.fixture(scope="module")
def hub_repo(tmp_path_factory):
    """A stand-in for the Hub repo: every task, in the layouts the download may take."""
    mini = mini_uvrb(tmp_path_factory)
    repo = tmp_path_factory.mktemp("hub-repo")
    for task in TASKS.values():
        name = task.hub_folder
        if name in ("DiDeMo", "CRB-G"):  # archives, one split and in a subfolder
            (repo / "archives").mkdir(exist_ok=True)
            with tarfile.open(repo / "archives" / f"{name}.tar.gz", "w:gz") as tar:
                tar.add(mini / name, arcname=f"UVRB/{name}")
            if name == "CRB-G":
                whole = (repo / "archives" / "CRB-G.tar.gz").read_bytes()
                (repo / "archives" / "CRB-G.tar.gz.00").write_bytes(whole[:1000])
                (repo / "archives" / "CRB-G.tar.gz.01").write_bytes(whole[1000:])
                (repo / "archives" / "CRB-G.tar.gz").unlink()
        elif name in ("MSRVTT", "MSRVTT-I2V"):
            shutil.copytree(mini / name, repo / name / "UVRB" / name)
        else:
            shutil.copytree(mini / name, repo / "data" / name)
    return repo, mini


def fake_hub(monkeypatch, repo: Path, snapshots: Path) -> list:
    """``snapshot_download`` served from ``repo``, filtered by huggingface_hub's `filter_repo_objects`."""
    import huggingface_hub
    from huggingface_hub.utils import filter_repo_objects

    calls = []

    def snapshot_download(repo_id, *, repo_type, allow_patterns=None, ignore_patterns=None, **kwargs):
        calls.append({"repo_id": repo_id, "repo_type": repo_type, "allow": allow_patterns, **kwargs})
        files = [p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file()]
        target = snapshots / COMMIT
        for name in filter_repo_objects(files, allow_patterns=allow_patterns, ignore_patterns=ignore_patterns):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(repo / name, target / name)
        return str(target)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    return calls


def test_only_the_chosen_tasks_are_fetched_whatever_their_layout(hub_repo, tmp_path, monkeypatch):
    repo, mini = hub_repo
    calls = fake_hub(monkeypatch, repo, tmp_path / "snapshots")
    chosen = ["MSRVTT", "DiDeMo", "CRB-G", "LoVR-TH"]
    config = UVRBRunConfig(output=str(tmp_path / "out"), tasks=chosen, data_revision="v1")
    datas, source = load_tasks(config)
    ((call,),) = [calls]
    assert call["repo_id"] == "Alibaba-NLP/UVRB" and call["repo_type"] == "dataset" and call["revision"] == "v1"
    assert source["data"] == "Alibaba-NLP/UVRB" and source["revision"] == COMMIT
    snapshot = tmp_path / "snapshots" / COMMIT
    fetched = sorted(p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*")
                     if p.is_file() and ".uvrb-extracted" not in p.as_posix())  # fmt: skip
    assert (snapshot / "archives" / "DiDeMo.tar.gz.uvrb-extracted" / "UVRB" / "DiDeMo" / "jsonl").is_dir()
    tops = {name.split("/")[0] if not name.startswith("data/") else name.split("/")[1] for name in fetched}
    assert tops == {"MSRVTT", "archives", "LoVR-TH"}  # MSRVTT-I2V and the other tasks: not fetched
    archived = sorted(name for name in fetched if name.startswith("archives/"))
    assert archived == ["archives/CRB-G.tar.gz.00", "archives/CRB-G.tar.gz.01", "archives/DiDeMo.tar.gz"]
    assert [d.task.name for d in datas] == chosen
    for data in datas:  # the same files as the flat copy
        assert data.fingerprint == load_task(data.task, mini / data.task.hub_folder).fingerprint


def _gve_uvrb(tmp_path, **env) -> tuple[subprocess.CompletedProcess, float]:
    command = [sys.executable, "-m", "modeling_gve", "uvrb", "--tasks", "MSRVTT", "--output", str(tmp_path / "o")]
    start = time.perf_counter()
    done = run_bounded(command, timeout=300, env=subprocess_env(HF_HOME=str(tmp_path / "hf"), **env))
    return done, time.perf_counter() - start


@pytest.mark.parametrize(
    "env, why",
    [
        ({"HF_HUB_OFFLINE": "1"}, "HF_HUB_OFFLINE is set and it is not in the cache"),
        ({"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9"}, "no answer: ConnectError"),
    ],
    ids=["offline", "unreachable"],
)
def test_no_hub_is_one_line_naming_the_repo_and_the_fix(tmp_path, env, why):
    done, seconds = _gve_uvrb(tmp_path, **env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    first, *rest = done.stderr.strip().splitlines()
    assert first.startswith("gve uvrb: error: could not fetch Alibaba-NLP/UVRB from the Hugging Face Hub (")
    assert why in first and "pass --data DIR with a local copy" in first
    assert rest == ["(set GVE_DEBUG=1 for the traceback)"]
    assert seconds < 60  # no retry loop
