# Copyright 2026 The GVE package authors. Apache-2.0.
"""The GVE model card and its evaluation results, generated from a checkpoint folder and a
`gve uvrb` ``results.json`` (no number in them is typed by hand).

Python computes the values (`gve_card_data` -> `GVECardData`); ``templates/gve_model.md`` lays
them out (the tables are ``{% for %}`` loops there):

- `build_gve_model_card(folder, repo_id=..., results=...)`: a `huggingface_hub.ModelCard` whose
  metadata holds ``library_name``, ``pipeline_tag``, ``base_model``, ``datasets``, ``tags`` and the
  UVRB scores as ``model-index`` (`huggingface_hub.EvalResult`, every metric of every task plus the
  paper's aggregate columns); its body documents usage, inputs, the checkpoint's own preprocessing
  settings (read from its processor, beside `SamplingConfig`'s defaults) and prompts, the UVRB
  tables, the training record when there is one, limitations, citation and license.
- `uvrb_eval_result_entries(results)`: the same scores as Hub eval results
  (`huggingface_hub.EvalResultEntry`, ``dataset_id`` ``Alibaba-NLP/UVRB``, one ``task_id`` per UVRB
  task, as declared by the UVRB ``eval.yaml``), written to ``.eval_results/uvrb.yaml``.

The results are taken as given: `modeling_gve.hub.checks` validates them (and refuses incomplete
tasks unless allowed) before `gve hub push-model` builds a card.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from huggingface_hub import EvalResult, EvalResultEntry, ModelCard, ModelCardData, eval_result_entries_to_yaml
from huggingface_hub.utils import HFValidationError, validate_repo_id

from modeling_gve._deprecation import moved_names
from modeling_gve.processing_gve import SamplingConfig
from modeling_gve.uvrb.metrics import METRIC_NAMES, aggregate
from modeling_gve.uvrb.paper import TABLE_1, TABLE_2
from modeling_gve.uvrb.tasks import ABILITY_COLUMNS, HUB_REPO, TASKS, UVRB_CITATION

from .uvrb_dataset import eval_task

TEMPLATE = Path(__file__).parent / "templates" / "gve_model.md"
LIBRARY_NAME = "sentence-transformers"
PIPELINE_TAG = "feature-extraction"
TAGS = ["gve", "video-retrieval", "video-text-retrieval", "multimodal-embedding", "sentence-transformers",
        "transformers", "qwen2_5_vl", "custom_code"]  # fmt: skip
# GVE-3B / GVE-7B backbones, by language-model hidden size (SPEC §1).
BASE_MODELS = {2048: "Qwen/Qwen2.5-VL-3B-Instruct", 3584: "Qwen/Qwen2.5-VL-7B-Instruct"}
EVAL_RESULTS_FILE = ".eval_results/uvrb.yaml"
TASK_TYPE = "feature-extraction"
# model-index metric ids; UVRB's R@k is a hit rate (1 if any relevant video is in the top k)
METRIC_TYPES = {"R@1": "hit_rate_at_1", "R@5": "hit_rate_at_5", "R@10": "hit_rate_at_10",
                "P@1": "precision_at_1", "MRR@10": "mrr_at_10", "nDCG@10": "ndcg_at_10"}  # fmt: skip
AGGREGATE_NAMES = {
    "AVG-D": "AVG over the 16 datasets",
    "AVG-A": "AVG over TXT, CMP, VIS, CG, FG, LC",
    "TXT": "TXT (textual queries)",
    "CMP": "CMP (composed queries)",
    "VIS": "VIS (visual queries)",
    "CG": "CG (coarse-grained)",
    "FG": "FG (fine-grained)",
    "LC": "LC (long context)",
    "S": "S (spatial)",
    "T": "T (temporal)",
    "PR": "PR (partially relevant)",
}
# ``"AVG-D"`` -> ``"uvrb_avg_d"``: the model-index metric id of each aggregate column.
AGGREGATE_METRIC_TYPES = {column: "uvrb_" + column.lower().replace("-", "_") for column in AGGREGATE_NAMES}
REFERENCE_ROWS = ("GVE-3B", "GVE-7B")  # the paper's rows printed beside this model's
TRAINING_KEYS = (
    ("model_name_or_path", "base checkpoint"),
    ("mixture", "mixture file"),
    ("curriculum", "curriculum"),
    ("num_train_epochs", "epochs"),
    ("learning_rate", "learning rate"),
    ("lr_scheduler_type", "schedule"),
    ("weight_decay", "weight decay"),
    ("temperature", "InfoNCE temperature"),
    ("lora_r", "LoRA r"),
    ("lora_alpha", "LoRA alpha"),
    ("lora_dropout", "LoRA dropout"),
    ("lora_target_modules", "LoRA targets"),
    ("mixed_precision", "precision"),
    ("sampling", "preprocessing"),
    ("seed", "seed"),
)
TRAINING_COUNTS = (("global_step", "optimizer steps"), ("samples_seen", "training pairs seen"),
                   ("num_processes", "processes"))  # fmt: skip


# --------------------------------------------------------------------------- the card's values


@dataclass
class GVECardData:
    """Every value the model card shows; ``templates/gve_model.md`` lays them out.

    Attributes:
        sampling: one row per preprocessing option: ``{"name", "value", "default", "changed"}``
            (this checkpoint's value and `SamplingConfig`'s default, formatted).
        prompts: one row per named prompt: ``{"name", "task", "text"}`` (``task``: the UVRB task
            it belongs to, described from the registry).
        evaluation: ``None`` (not evaluated), or the UVRB tables: ``tasks``, ``source``,
            ``notes``, ``dataset_columns`` / ``ability_columns`` (``(key, header)`` pairs),
            ``rows`` (``(label, {key: score})``, the paper's GVE rows then this model's) and
            ``incomplete`` (tasks that skipped inputs).
        training: ``None`` (no training record), or ``{"settings": [(label, value)], "counts":
            [(label, number)], "last_log", "task_counts"}``.
    """

    model_name: str
    repo_id: str
    base_model: str
    dimension: int
    model_type: str
    num_layers: int
    weights_dtype: str
    candidate_instruction: str
    sampling: list[dict]
    prompts: list[dict]
    default_frames: int
    max_length: int
    evaluation: dict | None
    training: dict | None
    license: str
    citation: str = UVRB_CITATION.strip()
    eval_results_file: str = EVAL_RESULTS_FILE
    total_tasks: int = len(TASKS)


def read_checkpoint(folder: str | os.PathLike) -> dict:
    """What the card says about a GVE checkpoint folder: sizes, dtype, the processor's saved
    sampling settings and instruction, and its sentence-transformers prompts (read with the
    installed package's classes: no code from the folder runs)."""
    from modeling_gve.configuration_gve import GVEConfig
    from modeling_gve.processing_gve import GVEProcessor

    folder = Path(folder)
    config = GVEConfig.from_pretrained(str(folder))
    processor = GVEProcessor.from_pretrained(str(folder))
    st_config = folder / "config_sentence_transformers.json"
    prompts = json.loads(st_config.read_text()).get("prompts", {}) if st_config.is_file() else {}
    text = config.text_config
    return {
        "model_type": config.model_type,
        "hidden_size": text.hidden_size,
        "num_layers": text.num_hidden_layers,
        "dtype": str(getattr(config, "dtype", None) or getattr(text, "dtype", None) or "float32").replace(
            "torch.", ""
        ),
        "sampling": processor.sampling_config(),
        "instruction": processor.instruction,
        "prompts": prompts,
    }


def _number(value: Any) -> str:
    """``156800`` -> ``"156,800 (200·28²)"``; other values as code."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"`{value}`"
    text = f"{value:,}"
    if value >= 784 and value % 784 == 0:
        text += f" ({value // 784}·28²)"
    return text


def sampling_rows(sampling: SamplingConfig) -> list[dict]:
    """The checkpoint's preprocessing settings beside GVE's defaults (`SamplingConfig`)."""
    defaults = SamplingConfig().to_dict()
    return [
        {"name": name, "value": _number(value), "default": _number(defaults[name]), "changed": value != defaults[name]}
        for name, value in sampling.to_dict().items()
    ]


def prompt_rows(prompts: dict[str, str]) -> list[dict]:
    """The checkpoint's named prompts, UVRB tasks first in the paper's order, described from the registry."""
    ordered = [n for n in TASKS if n in prompts] + sorted(n for n in prompts if n not in TASKS)
    rows = []
    for name in ordered:
        task = TASKS.get(name)
        if task:
            what = f"{task.full_name} ({task.task_type}{' / ' + task.domain if task.domain else ''})"
        else:
            what = "candidates (the videos searched)" if name == "document" else ""
        rows.append({"name": name, "task": what, "text": prompts[name]})
    return rows


def training_record(folder: str | os.PathLike) -> dict | None:
    """The record a Modality Pyramid run leaves in its output folder (`recipes/pyramid.py`):
    the newest ``checkpoints/checkpoint-*/trainer_state.json`` (settings, steps, samples, task
    counts) and the last logged loss of ``train_log.jsonl``; ``None`` when there is none."""
    folder = Path(folder)

    def step(path: Path) -> int:
        number = path.parent.name.rsplit("-", 1)[-1]
        return int(number) if number.isdigit() else -1

    states = sorted(folder.glob("checkpoints/checkpoint-*/trainer_state.json"), key=step)
    if not states:
        return None
    state = json.loads(states[-1].read_text())
    record = {key: state.get(key) for key, _ in TRAINING_COUNTS}
    record.update(config=state.get("config", {}), task_counts=state.get("task_counts", {}))
    log = folder / "train_log.jsonl"
    if log.is_file():
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        losses = [r for r in lines if isinstance(r.get("loss"), (int, float))]
        if losses:
            record["last_log"] = {k: losses[-1].get(k) for k in ("step", "epoch", "loss", "accuracy")}
    return record


def training_values(record: dict | None) -> dict | None:
    """The card's training table from a `training_record`."""
    if record is None:
        return None
    settings = []
    for key, label in TRAINING_KEYS:
        value = record["config"].get(key)
        if isinstance(value, dict):  # sampling: {max_frames: 8, ...}
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        if value is not None:
            settings.append((label, value))
    counts = [(label, record[key]) for key, label in TRAINING_COUNTS if record.get(key) is not None]
    return {"settings": settings, "counts": counts, "last_log": record.get("last_log"),
            "task_counts": record["task_counts"]}  # fmt: skip


def training_datasets(record: dict | None) -> list[str]:
    """Hub dataset repos named by the run's mixture file (local folders are not listed)."""
    if record is None or not record["config"].get("mixture"):
        return []
    mixture = Path(record["config"]["mixture"])
    if not mixture.is_file():
        return []
    from modeling_gve.training.data import load_mixture

    return list(dict.fromkeys(spec.path for spec in load_mixture(mixture) if is_hub_repo_id(spec.path)))


# --------------------------------------------------------------------------- results.json


def scored_tasks(results: dict) -> list[str]:
    """The tasks of a results dictionary, in registry order."""
    return [name for name in TASKS if name in results["tasks"]]


def is_hub_repo_id(value: str | None) -> bool:
    """Whether ``value`` names a Hub repo (``owner/name``), not a local path."""
    if not value or os.path.isabs(value) or value.count("/") != 1:
        return False
    try:
        validate_repo_id(value)
    except HFValidationError:
        return False
    return True


def scored_dataset(results: dict) -> tuple[str, str | None]:
    """``(dataset_id, revision)`` of the data a results file scored: its Hub repo and commit, or
    UVRB's repo without a revision for a local copy (noted on each entry by `result_notes`)."""
    data = results.get("data", {})
    if is_hub_repo_id(data.get("data")):
        return data["data"], data.get("revision")
    return HUB_REPO, None


def sampling_overrides(results: dict) -> dict:
    """The preprocessing settings of the run that differ from GVE's protocol (`SamplingConfig`)."""
    used = results.get("encoder", {}).get("sampling") or {}
    defaults = SamplingConfig().to_dict()
    return {k: v for k, v in used.items() if k in defaults and v != defaults[k]}


def result_notes(results: dict, task: str | None = None, data_source: bool = True) -> str | None:
    """What a reader of one score needs to know beyond the protocol, or ``None``."""
    notes = []
    overrides = sampling_overrides(results)
    if overrides:
        notes.append("sampling " + ", ".join(f"{k}={v}" for k, v in sorted(overrides.items())))
    if data_source and not is_hub_repo_id(results.get("data", {}).get("data")):
        notes.append("scored on a local copy of the data (JSONL sha256 in results.json)")
    frames = results.get("data", {}).get("frames") or {}
    if frames and (frames.get("protocol"), frames.get("fps")) != ("video", 1.0):  # docs/uvrb.md#frame-folders
        notes.append(f"frame folders read with the {frames.get('protocol')!r} protocol at {frames.get('fps')} fps")
    record = results["tasks"].get(task) if task else None
    if record is not None and record.get("ranking_note"):  # MS-TI/MS-TV without candidate lists
        notes.append(record["ranking_note"])
    if record is not None and not record["complete"]:
        notes.append(
            f"incomplete: {len(record.get('skipped_queries', []))} queries and "
            f"{len(record.get('skipped_candidates', []))} videos skipped"
        )
    return "; ".join(notes) or None


def uvrb_eval_results(results: dict) -> list[EvalResult]:
    """``model-index`` entries: every metric of every task, then the paper's aggregate columns
    (recomputed over the tasks scored; columns missing a task are left out)."""
    tasks = scored_tasks(results)
    dataset_id, revision = scored_dataset(results)
    common = {"task_type": TASK_TYPE, "task_name": "Video retrieval", "dataset_type": dataset_id,
              "dataset_revision": revision}  # fmt: skip
    out = [
        EvalResult(
            **common,
            dataset_name=f"UVRB {name} ({TASKS[name].full_name})",
            dataset_config=eval_task(TASKS[name])["config"],
            dataset_split=eval_task(TASKS[name])["split"],
            metric_type=METRIC_TYPES[metric],
            metric_name=metric,
            metric_value=results["tasks"][name][metric],
        )
        for name in tasks
        for metric in METRIC_NAMES
    ]
    columns = aggregate({name: results["tasks"][name]["main_score"] for name in tasks})
    out += [
        EvalResult(
            **common,
            dataset_name="UVRB",
            dataset_split="test",
            metric_type=AGGREGATE_METRIC_TYPES[column],
            metric_name=AGGREGATE_NAMES[column],
            metric_value=value,
        )
        for column, value in columns.items()
        if value is not None
    ]
    return out


def uvrb_eval_result_entries(results: dict) -> list[EvalResultEntry]:
    """One Hub eval result per task: its main score, ``task_id`` as in UVRB's ``eval.yaml``."""
    dataset_id, revision = scored_dataset(results)
    return [
        EvalResultEntry(
            dataset_id=dataset_id,
            task_id=eval_task(TASKS[name])["id"],
            value=results["tasks"][name]["main_score"],
            dataset_revision=revision,
            notes=result_notes(results, name),
        )
        for name in scored_tasks(results)
    ]


def eval_results_yaml(results: dict) -> str:
    """The text of ``.eval_results/uvrb.yaml``."""
    entries = uvrb_eval_result_entries(results)
    return yaml.safe_dump(eval_result_entries_to_yaml(entries), sort_keys=False, allow_unicode=True)


def evaluation_values(results: dict | None, model_label: str) -> dict | None:
    """The card's UVRB tables (the paper's layout, its GVE rows beside this model) and the run record."""
    if results is None:
        return None
    tasks = scored_tasks(results)
    scores = {name: results["tasks"][name]["main_score"] for name in tasks}
    rows = [(f"{ref} (paper)", {**TABLE_1[ref], **TABLE_2[ref]}) for ref in REFERENCE_ROWS]
    rows.append((f"**{model_label}**", {**scores, **aggregate(scores)}))
    dataset_id, revision = scored_dataset(results)
    if is_hub_repo_id(results.get("data", {}).get("data")):
        source = f"`{dataset_id}`" + (f" at revision `{revision}`" if revision else "")
    else:
        source = "a local copy of the data (the JSONL files' sha256 are in results.json)"
    return {
        "tasks": tasks,
        "source": source,
        "notes": result_notes(results, data_source=False),
        "dataset_columns": [("AVG-D", "AVG")] + [(n, f"{n} ({t.main_metric})") for n, t in TASKS.items()],
        "ability_columns": [("AVG-A", "AVG")] + [(c, c) for c in ABILITY_COLUMNS],
        "rows": rows,
        "incomplete": [n for n in tasks if not results["tasks"][n]["complete"]],
    }


def infer_base_model(hidden_size: int, record: dict | None) -> str | None:
    """The backbone: the training run's starting checkpoint, else GVE-3B/7B's by hidden size."""
    if record and is_hub_repo_id(record["config"].get("model_name_or_path")):
        return record["config"]["model_name_or_path"]
    return BASE_MODELS.get(hidden_size)


# --------------------------------------------------------------------------- the card


def gve_card_data(
    folder: str | os.PathLike,
    *,
    repo_id: str,
    results: dict | None = None,
    base_model: str | None = None,
    license: str = "apache-2.0",
    model_name: str | None = None,
    training: dict | None = None,
) -> GVECardData:
    """The values of the model card of the GVE checkpoint in ``folder`` (see `build_gve_model_card`).

    Raises:
        ValueError: the base model cannot be inferred.
    """
    folder = Path(folder)
    info = read_checkpoint(folder)
    base_model = base_model or infer_base_model(info["hidden_size"], training)
    if not base_model:
        raise ValueError(
            f"{folder}: cannot tell the base model (hidden size {info['hidden_size']} is neither GVE-3B's 2048 nor "
            "GVE-7B's 3584, and there is no training record); pass base_model / --base-model"
        )
    model_name = model_name or repo_id.split("/")[-1]
    sampling = info["sampling"]
    return GVECardData(
        model_name=model_name,
        repo_id=repo_id,
        base_model=base_model,
        dimension=info["hidden_size"],
        model_type=info["model_type"],
        num_layers=info["num_layers"],
        weights_dtype=info["dtype"],
        candidate_instruction=info["instruction"],
        sampling=sampling_rows(sampling),
        prompts=prompt_rows(info["prompts"]),
        default_frames=sampling.num_frames or sampling.max_frames,
        max_length=sampling.max_length,
        evaluation=evaluation_values(results, model_name),
        training=training_values(training),
        license=license,
    )


def build_gve_model_card(
    folder: str | os.PathLike,
    *,
    repo_id: str,
    results: dict | None = None,
    base_model: str | None = None,
    license: str = "apache-2.0",
    datasets: Iterable[str] | None = None,
    model_name: str | None = None,
    training: dict | None = None,
    run_folder: str | os.PathLike | None = None,
) -> ModelCard:
    """The model card of the GVE checkpoint in ``folder`` (a complete, converted checkpoint).

    Args:
        repo_id: the Hub repo the card is for (usage snippets; default model name).
        results: a ``gve uvrb`` results dictionary, already checked
            (`modeling_gve.hub.checks.load_uvrb_results`); fills ``model-index`` and the tables.
        base_model: the backbone's Hub id; default: the training record's starting checkpoint,
            else Qwen2.5-VL-3B/7B-Instruct by hidden size.
        datasets: training datasets (Hub ids); default: those of the training record's mixture.
        training: the training record (`training_record`); default: read from ``run_folder``
            (default ``folder``), the training run's output folder.

    Raises:
        ValueError: the base model cannot be inferred.
    """
    if training is None:
        training = training_record(run_folder or folder)
    data = gve_card_data(
        folder, repo_id=repo_id, results=results, base_model=base_model, license=license, model_name=model_name,
        training=training,
    )  # fmt: skip
    eval_results = uvrb_eval_results(results) if results is not None else None
    metadata = ModelCardData(
        model_name=data.model_name if eval_results else None,  # only the model-index uses it
        base_model=data.base_model,
        library_name=LIBRARY_NAME,
        pipeline_tag=PIPELINE_TAG,
        license=license,
        language=["en"],
        datasets=list(datasets) if datasets is not None else (training_datasets(training) or None),
        tags=list(TAGS),
        eval_results=eval_results,
    )
    return ModelCard.from_template(metadata, template_path=str(TEMPLATE), card=data)


def write_gve_model_card(out: str | os.PathLike, folder: str | os.PathLike, **kwargs: Any) -> list[Path]:
    """Write ``out/README.md`` and, with ``results``, ``out/.eval_results/uvrb.yaml``; returns the paths."""
    out = Path(out)
    written = [out / "README.md"]
    build_gve_model_card(folder, **kwargs).save(str(written[0]))
    if kwargs.get("results") is not None:
        path = out / EVAL_RESULTS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(eval_results_yaml(kwargs["results"]))
        written.append(path)
    return written


# Validation moved to the publishing checks (one release).
__getattr__ = moved_names(
    __name__,
    {
        "load_uvrb_results": "modeling_gve.hub.checks:load_uvrb_results",
        "check_uvrb_results": "modeling_gve.hub.checks:check_uvrb_results",
        "publishable_tasks": "modeling_gve.hub.checks:check_publishable",
    },
)

__all__ = [
    "AGGREGATE_METRIC_TYPES",
    "BASE_MODELS",
    "EVAL_RESULTS_FILE",
    "GVECardData",
    "LIBRARY_NAME",
    "METRIC_TYPES",
    "PIPELINE_TAG",
    "build_gve_model_card",
    "eval_results_yaml",
    "gve_card_data",
    "read_checkpoint",
    "scored_tasks",
    "training_record",
    "uvrb_eval_result_entries",
    "uvrb_eval_results",
    "write_gve_model_card",
]
