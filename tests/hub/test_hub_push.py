"""`gve hub`: dry-run folders are complete (the checkpoint in one loads through AutoModel and
SentenceTransformer in a process without this package; dataset configs load; the metric module
computes), pushes reach `HfApi.upload_folder` with the checked folder and the right arguments (the
Hub API is mocked: no network), Hub ids are converted through the offline cache at a pinned revision,
and what must not be published is refused before any upload."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
import torch
import yaml
from helpers import BLOCK_PACKAGE, run_bounded, started, stop
from hub_helpers import BASE_MODEL, uvrb_results_file, vsynflow_output
from huggingface_hub import DatasetCard, ModelCard
from uvrb_helpers import mini_uvrb

from modeling_gve.cli import main
from modeling_gve.hub.checks import BLOCK_PACKAGES
from modeling_gve.uvrb import TASKS

REPO = Path(__file__).resolve().parents[2]
WITHOUT_PACKAGE = BLOCK_PACKAGE  # a machine with only the Hub files: the gve package cannot be imported


def run_python(code: str, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    """``python -c code args...`` in a fresh offline process."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", **env}
    command = [sys.executable, "-c", code, *args]
    return run_bounded(command, timeout=600, cwd=cwd, env=env)


def files_of(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


class FakeApi:
    """A mocked `HfApi` whose `upload_folder` records the folder as it is at upload time."""

    def __init__(self):
        self.api = mock.MagicMock()
        self.uploaded: dict[str, bytes] = {}
        self.api.upload_folder.side_effect = self._upload

    def _upload(self, **kwargs):
        folder = Path(kwargs["folder_path"])
        self.uploaded = {name: (folder / name).read_bytes() for name in files_of(folder)}
        return SimpleNamespace(commit_url=f"https://huggingface.co/{kwargs['repo_id']}/commit/abc", pr_url=None)

    def patch(self):
        return mock.patch("huggingface_hub.HfApi", return_value=self.api)


@pytest.fixture(scope="module")
def results_path(tmp_path_factory, tiny_converted):
    return uvrb_results_file(tmp_path_factory, tiny_converted)


@pytest.fixture(scope="module")
def model_dry_run(tiny_converted, results_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("dry") / "model"
    argv = ["hub", "push-model", str(tiny_converted), "me/tiny-gve", "--base-model", BASE_MODEL]
    assert main([*argv, "--results", str(results_path), "--dry-run", str(out)]) == 0
    return out


# --------------------------------------------------------------------------- model


def test_model_dry_run_is_the_checkpoint_plus_its_cards(model_dry_run, tiny_converted, results_path):
    assert files_of(model_dry_run) == files_of(tiny_converted) | {"README.md", ".eval_results/uvrb.yaml"}
    for name in files_of(tiny_converted):  # linked, not copied: same bytes, no second copy of the weights
        assert (model_dry_run / name).read_bytes() == (tiny_converted / name).read_bytes()
    assert os.stat(model_dry_run / "model.safetensors").st_ino == os.stat(tiny_converted / "model.safetensors").st_ino
    card = ModelCard.load(model_dry_run / "README.md")
    results = json.loads(results_path.read_text())
    assert len(card.data.eval_results) == 16 * 6 + len(results["aggregate"])


def test_model_dry_run_loads_with_automodel_and_sentence_transformers_without_the_package(
    model_dry_run, gve_model, media, tmp_path
):
    items = ["a text", {"text": "with a video", "video": str(media["video"])}]
    expected = gve_model.encode(items)
    code = WITHOUT_PACKAGE + textwrap.dedent(
        f"""
        import json
        from sentence_transformers import SentenceTransformer
        from transformers import AutoModel
        model = AutoModel.from_pretrained({str(model_dry_run)!r}, trust_remote_code=True)
        st = SentenceTransformer({str(model_dry_run)!r}, trust_remote_code=True)
        st_items = ["a text", {{"text": "with a video", "video": {str(media["video"])!r}}}]
        print(json.dumps([model.encode({items!r}).tolist(), st.encode(st_items).tolist()]))
        """
    )
    result = run_python(code, cwd=tmp_path, PYTHONPATH="")
    assert result.returncode == 0, result.stderr[-3000:]
    auto, st = (torch.tensor(v) for v in json.loads(result.stdout.strip().splitlines()[-1]))
    assert (auto - expected).abs().max() < 1e-5 and (st - expected).abs().max() < 1e-5


def test_push_model_uploads_the_checked_folder(model_dry_run, tiny_converted, results_path, capsys):
    fake = FakeApi()
    argv = ["hub", "push-model", str(tiny_converted), "me/tiny-gve", "--base-model", BASE_MODEL]
    argv += ["--results", str(results_path), "--private", "--revision", "v1", "--commit-message", "GVE tiny"]
    with fake.patch():
        assert main(argv) == 0
    fake.api.create_repo.assert_called_once_with("me/tiny-gve", repo_type="model", private=True, exist_ok=True)
    fake.api.create_branch.assert_called_once_with("me/tiny-gve", branch="v1", repo_type="model", exist_ok=True)
    kwargs = fake.api.upload_folder.call_args.kwargs
    assert {k: kwargs[k] for k in ("repo_id", "repo_type", "revision", "commit_message", "create_pr")} == {
        "repo_id": "me/tiny-gve",
        "repo_type": "model",
        "revision": "v1",
        "commit_message": "GVE tiny",
        "create_pr": False,
    }
    # exactly the dry-run folder was uploaded, and the temporary folder is gone afterwards
    assert set(fake.uploaded) == files_of(model_dry_run)
    assert all(fake.uploaded[name] == (model_dry_run / name).read_bytes() for name in fake.uploaded)
    assert not Path(kwargs["folder_path"]).exists()
    assert "Pushed: https://huggingface.co/me/tiny-gve/commit/abc" in capsys.readouterr().out


def test_training_output_folder_publishes_the_checkpoint_not_the_run(tiny_converted, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(tiny_converted, run)
    (run / "checkpoints" / "checkpoint-4").mkdir(parents=True)
    state = {"global_step": 4, "samples_seen": 32, "task_counts": {"T2V": 4}, "config": {"curriculum": "pyramid"}}
    (run / "checkpoints" / "checkpoint-4" / "trainer_state.json").write_text(json.dumps(state))
    (run / "checkpoints" / "checkpoint-4" / "adapter_model.safetensors").write_bytes(b"x")
    (run / "train_log.jsonl").write_text(json.dumps({"step": 4, "loss": 2.0}) + "\n")
    (run / "bad_rows.jsonl").write_text("")
    (run / "README.md").write_text("an old card")
    out = tmp_path / "out"
    assert main(["hub", "push-model", str(run), "me/run", "--base-model", BASE_MODEL, "--dry-run", str(out)]) == 0
    assert files_of(out) == files_of(tiny_converted) | {"README.md"}
    card = ModelCard.load(out / "README.md")
    assert "| optimizer steps | 4 |" in card.text and "| last logged loss | 2.0000 (step 4) |" in card.text


def test_hub_id_is_converted_through_the_offline_cache_at_its_revision(tiny_ckpt, tmp_path):
    """A released-layout checkpoint known only by its Hub id: downloaded (here: found in the
    cache, HF_HUB_OFFLINE=1) at the pinned revision, converted, carded."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "cache" / "models--someone--gve-released"
    shutil.copytree(tiny_ckpt, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    cli = "from modeling_gve.cli import main; import sys; sys.exit(main(sys.argv[1:]))"
    env = {"HF_HUB_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    argv = ["hub", "push-model", "someone/gve-released", "me/gve", "--base-model", BASE_MODEL]
    ok = run_python(cli, *argv, "--source-revision", commit, "--dry-run", str(tmp_path / "out"), **env)
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert f"converted from someone/gve-released@{commit}" in ok.stderr
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["model_type"] == "gve" and "sentence_transformers_gve.py" in files_of(tmp_path / "out")
    missing = run_python(cli, *argv, "--source-revision", "f" * 40, "--dry-run", str(tmp_path / "out2"), **env)
    assert missing.returncode == 2 and "someone/gve-released: cannot be loaded as a GVE checkpoint" in missing.stderr


# --------------------------------------------------------------------------- refusals


def _refused(argv: list[str], capsys) -> str:
    fake = FakeApi()
    with fake.patch():
        assert main(argv) == 2
    fake.api.upload_folder.assert_not_called()
    return capsys.readouterr().err


def test_a_checkpoint_that_does_not_load_is_refused(tiny_converted, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_converted, broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    err = _refused(["hub", "push-model", str(broken), "me/x", "--base-model", BASE_MODEL], capsys)
    assert "GVEModel cannot load and encode it" in err
    (tmp_path / "empty").mkdir()
    err = _refused(["hub", "push-model", str(tmp_path / "empty"), "me/x"], capsys)
    assert "empty: cannot be loaded as a GVE checkpoint" in err


def test_sentence_transformers_files_that_disagree_with_the_model_are_refused(tiny_converted, tmp_path, capsys):
    edited = tmp_path / "edited"
    shutil.copytree(tiny_converted, edited)
    config_file = edited / "config_sentence_transformers.json"
    config = json.loads(config_file.read_text())
    config["default_prompt_name"] = "MSRVTT"  # ST would now embed every text as an MSRVTT query
    config_file.write_text(json.dumps(config))
    err = _refused(["hub", "push-model", str(edited), "me/x", "--base-model", BASE_MODEL], capsys)
    assert "SentenceTransformer and GVEModel give different embeddings" in err


def test_results_that_do_not_check_out_are_refused(tiny_converted, results_path, tmp_path, capsys):
    results = json.loads(results_path.read_text())
    results["tasks"]["LoVR-V"]["R@1"] = 1.5
    bad = tmp_path / "results.json"
    bad.write_text(json.dumps(results))
    argv = ["hub", "push-model", str(tiny_converted), "me/x", "--base-model", BASE_MODEL, "--results", str(bad)]
    assert "task LoVR-V: main_score" in _refused(argv, capsys)


def test_results_of_a_checkpoint_changed_since_scoring_are_refused(tiny_converted, results_path, tmp_path, capsys):
    copy = tmp_path / "ckpt"
    shutil.copytree(tiny_converted, copy)  # copy2 keeps names, sizes and mtimes: the same weights digest
    results = json.loads(results_path.read_text())
    assert results["encoder"]["model"] == str(tiny_converted) and results["encoder"]["local_digest"]
    results["encoder"]["model"] = str(copy)  # as if `gve uvrb` had scored the copy
    (tmp_path / "results.json").write_text(json.dumps(results))
    argv = [
        "hub",
        "push-model",
        str(copy),
        "me/x",
        "--base-model",
        BASE_MODEL,
        "--results",
        str(tmp_path / "results.json"),
    ]
    assert main([*argv, "--dry-run", str(tmp_path / "ok")]) == 0
    os.utime(copy / "model.safetensors", ns=(0, 0))  # the weights file was replaced after scoring
    assert "changed after `gve uvrb` scored it" in _refused(argv, capsys)


def test_a_uvrb_folder_the_loader_rejects_is_refused(tmp_path_factory, tmp_path, capsys):
    folder = tmp_path / "uvrb"
    shutil.copytree(mini_uvrb(tmp_path_factory) / "MSRVTT", folder / "MSRVTT")
    (folder / "MSRVTT" / "videos" / "msrvtt_01.mp4").unlink()
    err = _refused(["hub", "push-dataset", str(folder), "me/uvrb", "--allow-redistribution"], capsys)
    assert "UVRB task MSRVTT:" in err and "video 'msrvtt_01.mp4' not found" in err


def test_dry_run_needs_a_new_folder_and_metric_names_must_be_modules(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    assert "exists and is not empty" in _refused(
        ["hub", "push-metric", "me/uvrb", "--dry-run", str(tmp_path / "out")], capsys
    )
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"
    assert "must be a Python identifier" in _refused(["hub", "push-metric", "me/uvrb-metric"], capsys)


# --------------------------------------------------------------------------- datasets and metric


def test_uvrb_dataset_dry_run_and_push(tmp_path_factory, tmp_path):
    import datasets

    mini = mini_uvrb(tmp_path_factory)
    out = tmp_path / "out"
    assert main(["hub", "push-dataset", str(mini), "me/uvrb", "--allow-redistribution", "--dry-run", str(out)]) == 0
    task_files = {f for f in files_of(mini) if f.split("/")[0] in TASKS}
    assert files_of(out) == task_files | {"README.md", "eval.yaml"}
    card = DatasetCard.load(out / "README.md")
    assert len(card.data.configs) == 3 * 16 and "me/uvrb" in card.text
    spec = yaml.safe_load((out / "eval.yaml").read_text())
    queries = datasets.load_dataset(
        str(out), spec["tasks"][-1]["config"], split="test", cache_dir=str(tmp_path / "hf")
    )
    assert len(queries) == len((mini / "LoVR-C2V" / "jsonl" / "queries.jsonl").read_text().splitlines())

    fake = FakeApi()
    with fake.patch():
        argv = [
            "hub",
            "push-dataset",
            str(mini),
            "me/uvrb",
            "--tasks",
            "CMP",
            "--revision",
            "v2",
            "--allow-redistribution",
        ]
        assert main(argv) == 0
    fake.api.create_repo.assert_called_once_with("me/uvrb", repo_type="dataset", private=None, exist_ok=True)
    fake.api.create_branch.assert_called_once_with("me/uvrb", branch="v2", repo_type="dataset", exist_ok=True)
    assert fake.api.upload_folder.call_args.kwargs["repo_type"] == "dataset"
    assert {name.split("/")[0] for name in fake.uploaded} == {"MS-TI", "MS-TV", "README.md", "eval.yaml"}
    assert [t["id"] for t in yaml.safe_load(fake.uploaded["eval.yaml"])["tasks"]] == ["MS-TI", "MS-TV"]


def test_vsynflow_dataset_dry_run_and_pull_request(tmp_path_factory, tmp_path):
    import datasets

    source = vsynflow_output(tmp_path_factory)
    out = tmp_path / "out"
    assert main(["hub", "push-dataset", str(source), "me/uvrd", "--dry-run", str(out)]) == 0
    published = files_of(out)
    assert not any(name.startswith(".") for name in published)  # no .vsynflow work state
    assert published == {f for f in files_of(source) if not f.startswith(".")}
    card = DatasetCard.load(out / "README.md")
    assert card.data.pretty_name == "My UVRD" and 'snapshot_download("me/uvrd"' in card.text
    rows = datasets.load_dataset(str(out), "T2V", split="train", cache_dir=str(tmp_path / "hf"))
    assert all((out / row["pos_video"]).is_file() for row in rows)

    fake = FakeApi()
    with fake.patch():
        assert main(["hub", "push-dataset", str(source), "someone/uvrd", "--create-pr"]) == 0
    fake.api.create_repo.assert_not_called()  # a pull request goes to an existing repo
    assert fake.api.upload_folder.call_args.kwargs["create_pr"] is True
    assert set(fake.uploaded) == published


@pytest.fixture(scope="module")
def metric_space(tmp_path_factory):
    """`gve hub push-metric me/uvrb --dry-run` (its check loads the module in a fresh interpreter)."""
    out = tmp_path_factory.mktemp("metric") / "space"
    assert main(["hub", "push-metric", "me/uvrb", "--dry-run", str(out)]) == 0
    return out


def test_metric_space_dry_run_computes_and_push(metric_space, tmp_path):
    import evaluate

    from modeling_gve.uvrb.metrics import task_metrics

    out = metric_space
    assert files_of(out) == {"README.md", "app.py", "requirements.txt", "uvrb.py", "uvrb_retrieval.py"}
    assert 'evaluate.load("me/uvrb")' in (out / "app.py").read_text()
    predictions, references = [["a", "b"], ["b", "a"]], [["a"], ["a"]]
    got = evaluate.load(str(out / "uvrb.py")).compute(predictions=predictions, references=references, task="MS-TV")
    assert got == task_metrics("MS-TV", predictions, references)

    fake = FakeApi()
    with fake.patch(), mock.patch("modeling_gve.hub.publish.check_metric_folder"):  # checked in the dry run above
        assert main(["hub", "push-metric", "me/uvrb", "--requirement", "gve @ git+https://example.org/gve",
                     "--requirement", "datasets", "--requirement", "evaluate"]) == 0  # fmt: skip
    fake.api.create_repo.assert_called_once_with(
        "me/uvrb", repo_type="space", private=None, exist_ok=True, space_sdk="gradio"
    )
    assert fake.uploaded["requirements.txt"] == b"gve @ git+https://example.org/gve\ndatasets\nevaluate\n"


def test_the_metric_space_needs_nothing_but_the_package_index(metric_space, tmp_path):
    """requirements.txt names index packages only, and the staged module computes the package's
    metrics in an interpreter that cannot import modeling_gve or hub_cards."""
    import random

    from modeling_gve.uvrb.metrics import task_metrics

    out = metric_space
    requirements = (out / "requirements.txt").read_text().split()
    assert requirements == ["datasets", "evaluate>=0.4"]  # no `gve`: there is none on the package index
    rng = random.Random(0)
    corpus = [f"v{i}" for i in range(20)]
    predictions = [rng.sample(corpus, 20) for _ in range(30)]
    references = [rng.sample(corpus, rng.randint(1, 3)) for _ in range(30)]
    code = BLOCK_PACKAGES + textwrap.dedent(
        f"""
        import json, evaluate
        metric = evaluate.load({str(out / "uvrb.py")!r})
        got = metric.compute(predictions={predictions!r}, references={references!r}, task="CMRB")
        try:
            metric.compute(predictions=[["a"]], references=[["a"]], task="LoVR-T")
        except KeyError as err:
            got["error"] = str(err)
        print(json.dumps(got))
        """
    )
    result = run_python(code, cwd=tmp_path, PYTHONPATH="", HF_MODULES_CACHE=str(tmp_path / "modules"))
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert "did you mean 'LoVR-TH'" in got.pop("error")
    assert got == pytest.approx(task_metrics("CMRB", predictions, references))


@pytest.mark.slow
def test_the_metric_space_loads_in_a_fresh_venv_without_the_package(tmp_path):
    """A real fresh virtual environment with only what requirements.txt names (from the package
    index, or pip's cache): the Space's module loads and computes."""
    out = tmp_path / "space"
    assert main(["hub", "push-metric", "me/uvrb", "--dry-run", str(out)]) == 0
    venv = tmp_path / "venv"
    assert run_bounded([sys.executable, "-m", "venv", str(venv)], timeout=120).returncode == 0
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--timeout", "30", "--retries", "1",
           "-r", str(out / "requirements.txt")]  # fmt: skip
    installing = started(pip, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, err = installing.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        pytest.skip("the package index is too slow: pip did not finish within 600 s")
    finally:
        stop(installing)
    if installing.returncode != 0:
        pytest.skip(f"the package index is not reachable: {err.strip().splitlines()[-1:]}")
    code = (
        f"import evaluate; m = evaluate.load({str(out / 'uvrb.py')!r}); "
        "print(m.compute(predictions=[['a', 'b']], references=[['b']], task='MSRVTT')['main_score'])"
    )
    env = {"PATH": os.environ["PATH"], "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path)}
    ran = run_bounded([str(venv / "bin" / "python"), "-c", code], timeout=300, env=env)
    assert ran.returncode == 0 and ran.stdout.strip().splitlines()[-1] == "0.0", ran.stderr[-3000:]
