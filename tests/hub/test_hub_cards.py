"""Hub cards parse back with huggingface_hub and say what the files and the results hold: the GVE
model card (metadata, model-index and .eval_results equal to a real `gve uvrb` results.json, the
checkpoint's own sampling settings and prompts), the UVRB dataset card and eval.yaml (generated from
the registry; configs load with `datasets`), the UVRB metric card (checked-in copy = generator output).
The cards' layout lives in the templates, and the cards package never calls back into the publishing
library."""

import ast
import copy
import json
import shutil
from pathlib import Path

import pytest
import yaml
from hub_helpers import BASE_MODEL, uvrb_results_file
from huggingface_hub import DatasetCard, ModelCard, SpaceCard, parse_eval_result_entries
from uvrb_helpers import TEST_SAMPLING, mini_uvrb

from hub_cards.gve_model import (
    EVAL_RESULTS_FILE,
    build_gve_model_card,
    sampling_rows,
    training_record,
    write_gve_model_card,
)
from hub_cards.uvrb_dataset import (
    EVALUATION_FRAMEWORKS,
    SOURCE_LICENSES,
    build_eval_yaml,
    build_uvrb_dataset_card,
    dataset_configs,
    write_uvrb_dataset_card,
)
from hub_cards.uvrb_metric_card import METRIC_DIR, build_uvrb_metric_card
from modeling_gve.hub.checks import (
    HubCheckError,
    check_dataset_card,
    check_eval_yaml,
    check_model_card,
    load_uvrb_results,
    publishable_tasks,
)
from modeling_gve.processing_gve import SamplingConfig
from modeling_gve.uvrb import TASKS
from modeling_gve.uvrb.metrics import METRIC_NAMES

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results_path(tmp_path_factory, tiny_converted):
    return uvrb_results_file(tmp_path_factory, tiny_converted)


@pytest.fixture(scope="module")
def results(results_path):
    return load_uvrb_results(results_path)


@pytest.fixture(scope="module")
def model_card_folder(tiny_converted, results, tmp_path_factory):
    out = tmp_path_factory.mktemp("model-card")
    write_gve_model_card(out, tiny_converted, repo_id="me/tiny-gve", results=results, base_model=BASE_MODEL)
    return out


def test_model_card_metadata_round_trip(model_card_folder):
    card = ModelCard.load(model_card_folder / "README.md", ignore_metadata_errors=False)
    data = card.data
    assert (data.library_name, data.pipeline_tag, data.base_model, data.license) == (
        "sentence-transformers",
        "feature-extraction",
        BASE_MODEL,
        "apache-2.0",
    )
    assert {"gve", "video-retrieval", "custom_code"} <= set(data.tags)
    assert data.model_name == "tiny-gve"
    assert "@article{guo2025gve" in card.text and "arXiv:2510.27571" in card.text
    assert 'SentenceTransformer("me/tiny-gve", trust_remote_code=True)' in card.text
    assert 'AutoModel.from_pretrained("me/tiny-gve", trust_remote_code=True' in card.text
    assert "gve uvrb --model me/tiny-gve" in card.text


def test_model_index_equals_the_results_json(model_card_folder, results_path):
    results = json.loads(results_path.read_text())
    card = ModelCard.load(model_card_folder / "README.md")
    got = {}
    for r in card.data.eval_results:
        assert (
            r.task_type == "feature-extraction" and r.dataset_type == "Alibaba-NLP/UVRB" and r.dataset_split == "test"
        )
        got[(r.dataset_config, r.metric_name)] = r.metric_value
    for name, record in results["tasks"].items():
        for metric in METRIC_NAMES:
            assert got.pop((f"{name}-queries", metric)) == record[metric]
    aggregates = {name: value for (config, name), value in got.items() if config is None}
    assert len(aggregates) == len(got) == len(results["aggregate"])
    assert sorted(aggregates.values()) == sorted(results["aggregate"].values())


def test_eval_results_yaml_equals_the_results_json_and_names_eval_yaml_tasks(model_card_folder, results_path):
    results = json.loads(results_path.read_text())
    entries = parse_eval_result_entries(yaml.safe_load((model_card_folder / EVAL_RESULTS_FILE).read_text()))
    assert [e.task_id for e in entries] == [t["id"] for t in build_eval_yaml()["tasks"]] == list(TASKS)
    for entry in entries:
        assert entry.dataset_id == "Alibaba-NLP/UVRB" and entry.dataset_revision is None  # a local copy was scored
        assert entry.value == results["tasks"][entry.task_id]["main_score"]
        # the run used non-default sampling and local data: both are said next to the score
        assert f"max_frames={TEST_SAMPLING['max_frames']}" in entry.notes and "local copy" in entry.notes


def test_scores_on_the_hub_data_with_the_protocol_carry_its_revision_and_no_note(tiny_converted, results):
    hub_run = copy.deepcopy(results)  # the same scores, as if read from the Hub repo with GVE's sampling
    hub_run["data"].update(data="Alibaba-NLP/UVRB", revision="5503434ddd753f426f4b38109466949a1217c2bb")
    hub_run["encoder"]["sampling"] = SamplingConfig().to_dict()
    card = build_gve_model_card(tiny_converted, repo_id="me/x", results=hub_run, base_model=BASE_MODEL)
    assert {r.dataset_revision for r in ModelCard(str(card)).data.eval_results} == {hub_run["data"]["revision"]}
    assert (
        "`Alibaba-NLP/UVRB` at revision `5503434d" in card.text and "the paper's preprocessing protocol" in card.text
    )
    from hub_cards.gve_model import uvrb_eval_result_entries

    entries = uvrb_eval_result_entries(hub_run)
    assert all(e.notes is None and e.dataset_revision == hub_run["data"]["revision"] for e in entries)


def test_the_card_checker_accepts_it_and_catches_edits(model_card_folder, results, tmp_path):
    check_model_card(model_card_folder, results)
    edited = tmp_path / "edited"
    shutil.copytree(model_card_folder, edited)
    eval_file = edited / EVAL_RESULTS_FILE
    eval_file.write_text(eval_file.read_text().replace("task_id: MSRVTT", "task_id: MSRVTT-I2V", 1))
    with pytest.raises(HubCheckError, match="does not hold the results.json scores"):
        check_model_card(edited, results)
    shutil.copyfile(model_card_folder / EVAL_RESULTS_FILE, eval_file)
    readme = edited / "README.md"
    readme.write_text(readme.read_text().replace("type: hit_rate_at_1", "type: hit_rate_at_2", 1))
    with pytest.raises(HubCheckError, match="model-index does not hold"):
        check_model_card(edited, results)
    shutil.copyfile(model_card_folder / "README.md", readme)
    changed = copy.deepcopy(results)  # a score the card does not hold: the checker reads the results itself
    changed["tasks"]["CMRB"]["nDCG@10"] = 1.0 - changed["tasks"]["CMRB"]["nDCG@10"] / 2
    with pytest.raises(HubCheckError, match="model-index does not hold"):
        check_model_card(edited, changed)
    readme.write_text(readme.read_text().replace("    metrics:\n", "    metricz:\n", 1))
    with pytest.raises(HubCheckError, match="does not parse as a ModelCard"):
        check_model_card(edited, results)


def test_results_files_are_checked_before_publishing(results, tmp_path):
    tampered = copy.deepcopy(results)
    tampered["aggregate"]["AVG-D"] += 0.01
    path = tmp_path / "results.json"
    path.write_text(json.dumps(tampered))
    with pytest.raises(HubCheckError, match="aggregate AVG-D .* does not follow from the task scores"):
        load_uvrb_results(path)
    tampered = copy.deepcopy(results)
    tampered["tasks"]["CMRB"]["main_score"] = tampered["tasks"]["CMRB"]["R@1"] + 0.5
    path.write_text(json.dumps(tampered))
    with pytest.raises(HubCheckError, match="CMRB: main_score .* is not its R@10"):
        load_uvrb_results(path)
    tampered = copy.deepcopy(results)
    tampered["tasks"]["MSRVT"] = tampered["tasks"].pop("MSRVTT")
    path.write_text(json.dumps(tampered))
    with pytest.raises(HubCheckError, match="did you mean 'MSRVTT'"):
        load_uvrb_results(path)


def test_results_validation_moved_to_the_checks_with_a_shim(results_path):
    import hub_cards.gve_model

    with pytest.warns(FutureWarning, match="use modeling_gve.hub.checks.load_uvrb_results instead"):
        old = hub_cards.gve_model.load_uvrb_results
    assert old is load_uvrb_results and old(results_path)["tasks"]


def test_incomplete_tasks_are_refused_unless_allowed_with_a_note(tiny_converted, results, tmp_path):
    partial = copy.deepcopy(results)
    partial["tasks"]["DiDeMo"].update(complete=False, skipped_candidates=[{"id": "v1", "reason": "corrupt"}])
    with pytest.raises(HubCheckError, match=r"incomplete for DiDeMo \(0 queries, 1 videos skipped\)"):
        publishable_tasks(partial)
    assert publishable_tasks(partial, allow_incomplete=True) == list(TASKS)
    write_gve_model_card(tmp_path, tiny_converted, repo_id="me/x", results=partial, base_model=BASE_MODEL)
    entries = parse_eval_result_entries(yaml.safe_load((tmp_path / EVAL_RESULTS_FILE).read_text()))
    didemo = next(e for e in entries if e.task_id == "DiDeMo")
    assert "incomplete: 0 queries and 1 videos skipped" in didemo.notes
    assert "Incomplete (inputs skipped, not comparable): DiDeMo." in (tmp_path / "README.md").read_text()


def test_subset_of_tasks_publishes_what_was_run(tiny_converted, results, tmp_path):
    subset = copy.deepcopy(results)
    subset["tasks"] = {n: subset["tasks"][n] for n in ("CRB-S", "VDC-O", "MS-TI")}
    from modeling_gve.uvrb import aggregate

    subset["aggregate"] = aggregate({n: r["main_score"] for n, r in subset["tasks"].items()})
    card = build_gve_model_card(tiny_converted, repo_id="me/x", results=subset, base_model=BASE_MODEL)
    parsed = ModelCard(str(card))
    aggregates = {r.metric_name: r.metric_value for r in parsed.data.eval_results if r.dataset_config is None}
    # only the columns the three tasks determine: S (CRB-S, VDC-O) and CMP needs MS-TV too
    assert set(aggregates) == {"S (spatial)"}
    assert aggregates["S (spatial)"] == subset["aggregate"]["S"]
    assert "(3 of 16 datasets)" in card.text


def test_sampling_defaults_come_from_the_checkpoint_and_sampling_config(model_card_folder):
    text = (model_card_folder / "README.md").read_text()
    for name in SamplingConfig().to_dict():
        assert f"| `{name}` |" in text
    assert "| `video_max_pixels` | 156,800 (200·28²) | 156,800 (200·28²) |" in text
    rows = {row["name"]: row for row in sampling_rows(SamplingConfig().replace(max_frames=48, min_frames=48))}
    assert rows["max_frames"] == {"name": "max_frames", "value": "48", "default": "8", "changed": True}
    assert rows["fps"] == {"name": "fps", "value": "`1.0`", "default": "`1.0`", "changed": False}
    # the prompts table is the checkpoint's saved prompts, in the paper's task order
    section = text.split("### Prompts")[1].split("## Evaluation")[0]
    rows = [line for line in section.splitlines() if line.startswith("| `") and "prompt_name" not in line]
    assert [r.split("`")[1] for r in rows] == [*TASKS, "document"]
    assert f"| `MSRVTT` | MSRVTT (TXT / CG) | {TASKS['MSRVTT'].prompt} |" in rows


def test_base_model_is_inferred_or_required(tiny_converted):
    with pytest.raises(ValueError, match="hidden size 64 .* pass base_model"):
        build_gve_model_card(tiny_converted, repo_id="me/x")


def test_training_record_feeds_the_training_section(tiny_converted, tmp_path):
    from hub_cards.gve_model import TRAINING_KEYS
    from modeling_gve.training.config import PyramidConfig, parse_config

    assert {key for key, _ in TRAINING_KEYS} <= set(PyramidConfig.valid_keys())  # the card reads real config keys
    config = parse_config(["--config", str(REPO / "recipes/configs/tiny-cpu.yaml")]).to_dict()
    state_dir = tmp_path / "checkpoints" / "checkpoint-12"
    state_dir.mkdir(parents=True)
    state = {"global_step": 12, "samples_seen": 96, "task_counts": {"T2V": 7, "I2V": 5}, "num_processes": 2}
    (state_dir / "trainer_state.json").write_text(json.dumps({**state, "config": config}))
    (tmp_path / "train_log.jsonl").write_text(
        json.dumps({"step": 12, "epoch": 1, "loss": 1.25, "accuracy": 0.5}) + "\n"
    )
    record = training_record(tmp_path)
    card = build_gve_model_card(tiny_converted, repo_id="me/x", training=record, base_model=BASE_MODEL)
    assert f"| base checkpoint | `{config['model_name_or_path']}` |" in card.text
    assert f"| curriculum | `{config['curriculum']}` |" in card.text and "| optimizer steps | 12 |" in card.text
    assert "| last logged loss | 1.2500 (step 12) |" in card.text and "T2V 7, I2V 5" in card.text
    assert "| preprocessing | `max_frames=2, video_min_pixels=3136," in card.text


# --------------------------------------------------------------------------- UVRB dataset card


@pytest.fixture(scope="module")
def uvrb_card_folder(tmp_path_factory):
    mini = mini_uvrb(tmp_path_factory)
    folder = tmp_path_factory.mktemp("uvrb-card")
    for task in TASKS.values():
        shutil.copytree(mini / task.hub_folder / "jsonl", folder / task.hub_folder / "jsonl")
    write_uvrb_dataset_card(folder)
    return folder


def test_uvrb_card_and_eval_yaml_come_from_the_registry(uvrb_card_folder):
    card = check_dataset_card(uvrb_card_folder)
    assert card.data.configs == dataset_configs(TASKS.values())
    assert card.data.license == "other" and card.data.pretty_name.startswith("UVRB")
    spec = check_eval_yaml(uvrb_card_folder, card)
    assert spec == build_eval_yaml() and spec["evaluation_framework"] in EVALUATION_FRAMEWORKS
    assert [(t["id"], t["config"], t["split"]) for t in spec["tasks"]] == [(n, f"{n}-queries", "test") for n in TASKS]
    defaults = SamplingConfig()
    assert f"- {defaults.max_frames} frames per video" in card.text
    assert f"{defaults.video_min_pixels // 784}·28² to {defaults.video_max_pixels // 784}·28² pixels" in card.text


def test_eval_yaml_tasks_load_with_datasets(uvrb_card_folder, tmp_path):
    import datasets

    for task in build_eval_yaml()["tasks"]:
        rows = datasets.load_dataset(
            str(uvrb_card_folder), task["config"], split=task["split"], cache_dir=str(tmp_path)
        )
        lines = (uvrb_card_folder / task["id"] / "jsonl" / "queries.jsonl").read_text().splitlines()
        assert [str(i) for i in rows["id"]] == [str(json.loads(line)["id"]) for line in lines if line.strip()]


def test_source_licenses_cover_every_task_once_and_unknowns_are_said(uvrb_card_folder):
    covered = [t for s in SOURCE_LICENSES for t in s.tasks]
    assert sorted(covered) == sorted(TASKS)
    text = DatasetCard.load(uvrb_card_folder / "README.md").text
    section = text.split("## Licenses of the source datasets")[1]
    for source in SOURCE_LICENSES:
        row = next(line for line in section.splitlines() if line.startswith("| ") and source.source in line)
        assert (f"`{source.license}`" if source.license else "**unknown**") in row


def test_eval_yaml_checks(uvrb_card_folder, tmp_path):
    card = DatasetCard.load(uvrb_card_folder / "README.md")
    with pytest.raises(ValueError, match="evaluation_framework must be one the Hub lists"):
        build_eval_yaml(evaluation_framework="gve")
    for edit, message in (
        (lambda d: d.update(evaluation_framework="gve"), "is not one the Hub lists"),
        (lambda d: d["tasks"][1].update(id="MSRVTT"), "unique 'id'"),
        (lambda d: d["tasks"][0].update(config="MSRVTT-video"), "which the card does not declare"),
        (lambda d: d["tasks"][0].update(split="train"), "has no split 'train'"),
        (lambda d: d.pop("description"), "missing 'description'"),
    ):
        spec = build_eval_yaml()
        edit(spec)
        (tmp_path / "eval.yaml").write_text(yaml.safe_dump(spec))
        with pytest.raises(HubCheckError, match=message):
            check_eval_yaml(tmp_path, card)


def test_dataset_card_configs_must_point_at_files(uvrb_card_folder, tmp_path):
    shutil.copytree(uvrb_card_folder, tmp_path / "uvrb")
    (tmp_path / "uvrb" / "CMRB" / "jsonl" / "corpus.jsonl").unlink()
    with pytest.raises(HubCheckError, match="config 'CMRB-corpus' split 'test': no file matches"):
        check_dataset_card(tmp_path / "uvrb")


# --------------------------------------------------------------------------- metric card


def test_metric_card_is_generated_and_parses():
    checked_in = (METRIC_DIR / "README.md").read_text()
    regenerate = "build_uvrb_metric_card().save(METRIC_DIR / 'README.md') (hub_cards.uvrb_metric_card)"
    assert checked_in == str(build_uvrb_metric_card()), f"the checked-in metric card is stale: {regenerate}"
    card = SpaceCard.load(METRIC_DIR / "README.md")
    assert card.data.sdk == "gradio" and card.data.app_file == "app.py" and "evaluate" in card.data.tags
    assert "one of " + ", ".join(TASKS) + "." in card.text
    # the installed folder, not a path that works only from the repository root
    assert 'evaluate.load("hub_cards/uvrb_metric")' not in checked_in
    assert (
        "evaluate.load(str(METRIC_DIR))" in checked_in
        and "from hub_cards.uvrb_metric_card import METRIC_DIR" in checked_in
    )
    space = str(build_uvrb_metric_card("my-org/uvrb"))
    assert 'evaluate.load("my-org/uvrb")' in space and "needs only `evaluate` and `datasets`" in space
    assert "hub_cards/uvrb_metric" not in (METRIC_DIR / "uvrb_metric.py").read_text()


# --------------------------------------------------------------------------- structure


def test_templates_lay_out_the_cards_and_python_passes_values():
    """No markdown table or section is assembled in the cards' Python: the templates loop."""
    cards = Path(METRIC_DIR).parent
    for module in cards.glob("*.py"):
        assert "|---" not in module.read_text(), f"{module.name} builds a markdown table"
    for template in ("gve_model.md", "uvrd_dataset.md", "uvrb_dataset.md"):
        assert "{% for" in (cards / "templates" / template).read_text(), template


def test_cards_never_call_back_into_the_publishing_library():
    """Calls go one way, modeling_gve.hub -> hub_cards (the deprecation shims resolve by name)."""
    cards = Path(METRIC_DIR).parent
    for module in [*cards.glob("*.py"), *cards.glob("uvrb_metric/*.py")]:
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("modeling_gve.hub"), f"{module.name} imports {node.module}"


def test_the_cards_modules_are_not_scripts():
    """One way to produce each artifact: the `gve hub` command."""
    cards = Path(METRIC_DIR).parent
    for module in cards.glob("*.py"):
        text = module.read_text()
        assert "__main__" not in text and "def main(" not in text, module.name


def test_uvrb_card_says_which_media_may_be_redistributed(uvrb_card_folder):
    text = DatasetCard.load(uvrb_card_folder / "README.md").text
    section = text.split("## Licenses of the source datasets")[1]
    lovr = next(line for line in section.splitlines() if line.startswith("| [LoVR]"))
    assert "| index-only |" in lovr and "LoVR-TH, LoVR-V, LoVR-C2V" in lovr
    assert "--allow-redistribution" in section and "This repo was published that way" not in section
    published = str(build_uvrb_dataset_card(["MSRVTT", "LoVR-V"], redistributed=["MSRVTT", "LoVR-V"]))
    assert "the right to redistribute the media\nof MSRVTT, LoVR-V." in published
