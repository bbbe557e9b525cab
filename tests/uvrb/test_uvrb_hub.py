"""Hub side of UVRB: the dataset card's `configs:` load with `datasets.load_dataset` on a
folder in the authors' layout, and the `evaluate` metric module matches the package metrics."""

import random
import shutil

import pytest
import yaml
from uvrb_helpers import mini_uvrb

from modeling_gve.uvrb import TASKS
from modeling_gve.uvrb.data import load_task
from modeling_gve.uvrb.metrics import retrieval_metrics, task_metrics


@pytest.fixture(scope="module")
def card_folder(tmp_path_factory):
    """The mini-UVRB's JSONL files plus the generated card (media are not needed to load configs)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from hub_cards.uvrb_dataset import write_uvrb_dataset_card

    mini = mini_uvrb(tmp_path_factory)
    folder = tmp_path_factory.mktemp("uvrb-card")
    for task in TASKS.values():
        shutil.copytree(mini / task.hub_folder / "jsonl", folder / task.hub_folder / "jsonl")
    write_uvrb_dataset_card(folder)
    return folder, mini


def test_card_configs_come_from_the_registry(card_folder):
    folder, _ = card_folder
    text = (folder / "README.md").read_text()
    metadata = yaml.safe_load(text.split("---")[1])
    names = [c["config_name"] for c in metadata["configs"]]
    assert names == [f"{t}-{kind}" for t in TASKS for kind in ("queries", "corpus", "qrels")]
    assert metadata["configs"][0]["data_files"] == [{"split": "test", "path": "MSRVTT/jsonl/queries.jsonl"}]
    assert "| PEV-K | PE-Video-Keyword | TXT | FG-PR | R@1 | 14,427 | 15,000 |" in text
    assert TASKS["LoVR-TH"].prompt in text and "@article{guo2025gve" in text


def test_load_dataset_reads_each_config(card_folder, tmp_path):
    import datasets

    folder, mini = card_folder
    assert datasets.get_dataset_config_names(str(folder)) == [
        f"{t}-{kind}" for t in TASKS for kind in ("queries", "corpus", "qrels")
    ]
    for name in ("MSRVTT", "MS-TI", "LoVR-C2V", "DREAM-E"):
        task = load_task(TASKS[name], mini / name)
        queries, corpus, qrels = (
            datasets.load_dataset(str(folder), f"{name}-{kind}", split="test", cache_dir=str(tmp_path))
            for kind in ("queries", "corpus", "qrels")
        )
        assert [str(i) for i in queries["id"]] == [q.id for q in task.queries]
        assert corpus["id"] == list(task.corpus) and corpus.column_names == ["id", "video"]
        assert {str(q) for q in qrels["qid"]} == set(task.relevant)
    ms_ti = datasets.load_dataset(str(folder), "MS-TI-qrels", split="test", cache_dir=str(tmp_path))
    assert ms_ti.column_names == ["qid", "pos", "neg"]


@pytest.fixture(scope="module")
def metric():
    from pathlib import Path

    import evaluate

    return evaluate.load(str(Path(__file__).resolve().parents[2] / "hub_cards" / "uvrb_metric"))


@pytest.mark.parametrize("task", ["MSRVTT", "CMRB", "MS-TV"])
def test_evaluate_module_matches_the_package(metric, task):
    rng = random.Random(task)
    corpus = [f"v{i}" for i in range(20)]
    predictions = [rng.sample(corpus, 20) for _ in range(50)]
    references = [rng.sample(corpus, rng.randint(1, 3)) for _ in range(50)]
    got = metric.compute(predictions=predictions, references=references, task=task)
    assert got == pytest.approx(task_metrics(task, predictions, references))
    assert got["main_score"] == got[TASKS[task].main_metric]
    plain = metric.compute(predictions=predictions, references=references)
    assert "main_score" not in plain and plain == pytest.approx(retrieval_metrics(predictions, references))


def test_evaluate_module_errors(metric):
    with pytest.raises(KeyError, match="did you mean 'LoVR-TH'"):
        metric.compute(predictions=[["a"]], references=[["a"]], task="LoVR-T")
    with pytest.raises(ValueError, match="query 0 has no relevant"):
        metric.compute(predictions=[["a"]], references=[[]])
