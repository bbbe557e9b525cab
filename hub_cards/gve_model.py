# Copyright 2026 The GVE package authors. Apache-2.0.
"""The GVE model card and its evaluation results, generated from a checkpoint folder and a
`gve uvrb` ``results.json`` (no number in them is typed by hand).

- `build_gve_model_card(folder, repo_id=..., results=...)`: a `huggingface_hub.ModelCard` whose
  metadata holds ``library_name``, ``pipeline_tag``, ``base_model``, ``datasets``, ``tags`` and the
  UVRB scores as ``model-index`` (`huggingface_hub.EvalResult`, every metric of every task plus the
  paper's aggregate columns); its body documents usage, inputs, the checkpoint's own preprocessing
  settings (read from its processor, compared with `SamplingConfig`'s defaults) and prompts, the
  UVRB tables, the training record when the folder has one, limitations, citation and license.
- `uvrb_eval_result_entries(results)`: the same scores as Hub eval results
  (`huggingface_hub.EvalResultEntry`, ``dataset_id`` ``Alibaba-NLP/UVRB``, one ``task_id`` per UVRB
  task, as declared by the UVRB ``eval.yaml``), written to ``.eval_results/uvrb.yaml``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from huggingface_hub import EvalResult, EvalResultEntry, ModelCard, ModelCardData, eval_result_entries_to_yaml
from huggingface_hub.utils import HFValidationError, validate_repo_id

from modeling_gve.processing_gve import SamplingConfig
from modeling_gve.uvrb.metrics import METRIC_NAMES, aggregate
from modeling_gve.uvrb.paper import TABLE_1, TABLE_2
from modeling_gve.uvrb.report import ability_table, dataset_table
from modeling_gve.uvrb.tasks import HUB_REPO, TASKS, UVRB_CITATION, get_task

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
REFERENCE_ROWS = ("GVE-3B", "GVE-7B")  # the paper's rows printed beside this model's


# --------------------------------------------------------------------------- results.json


def load_uvrb_results(path: str | os.PathLike) -> dict:
    """Read and check a ``gve uvrb`` results file: known tasks, every metric present, the
    main score equal to the task's main metric and the aggregate columns equal to those
    computed from the task scores (so a hand-edited file is caught).

    Raises:
        ValueError: naming the file and what is wrong.
    """
    path = Path(path)
    try:
        results = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a readable results.json ({err})") from None
    check_uvrb_results(results, where=str(path))
    return results


def check_uvrb_results(results: dict, where: str = "results") -> None:
    """The checks of `load_uvrb_results` on an already loaded dictionary."""
    tasks = results.get("tasks") if isinstance(results, dict) else None
    if not tasks or not isinstance(tasks, dict):
        raise ValueError(f"{where}: no 'tasks' (expected the results.json written by `gve uvrb`)")
    for name, record in tasks.items():
        try:
            task = get_task(name)
        except KeyError as err:
            raise ValueError(f"{where}: {err.args[0]}") from None
        missing = [k for k in (*METRIC_NAMES, "main_score", "main_metric", "complete") if k not in record]
        if missing:
            raise ValueError(f"{where}: task {name} lacks {', '.join(missing)}")
        if record["main_metric"] != task.main_metric or record["main_score"] != record[task.main_metric]:
            raise ValueError(
                f"{where}: task {name}: main_score {record['main_score']} is not its {task.main_metric} "
                f"({record[task.main_metric]})"
            )
        for metric in METRIC_NAMES:
            value = record[metric]
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{where}: task {name}: {metric} = {value!r} is not a score in [0, 1]")
    expected = aggregate({name: r["main_score"] for name, r in tasks.items()})
    stored = results.get("aggregate", {})
    for column, value in expected.items():
        if (value is None) != (stored.get(column) is None) or (
            value is not None and abs(value - stored[column]) > 1e-9
        ):
            raise ValueError(
                f"{where}: aggregate {column} = {stored.get(column)!r} does not follow from the task scores ({value!r})"
            )


def publishable_tasks(results: dict, include_incomplete: bool = False) -> list[str]:
    """The tasks whose scores can be published, in registry order.

    A task that skipped inputs (undecodable videos...) is not comparable to the paper's; it is
    refused unless ``include_incomplete`` (then its entries carry a note).

    Raises:
        ValueError: an incomplete task and ``include_incomplete`` is false.
    """
    incomplete = [name for name, r in results["tasks"].items() if not r["complete"]]
    if incomplete and not include_incomplete:
        details = ", ".join(
            f"{n} ({len(results['tasks'][n].get('skipped_queries', []))} queries, "
            f"{len(results['tasks'][n].get('skipped_candidates', []))} videos skipped)"
            for n in incomplete
        )
        raise ValueError(
            f"results are incomplete for {details}: these scores are not comparable; fix the data and re-run "
            "`gve uvrb` (it resumes), or publish them with a note (--allow-incomplete)"
        )
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


def uvrb_eval_results(results: dict, include_incomplete: bool = False) -> list[EvalResult]:
    """``model-index`` entries: every metric of every published task, then the paper's
    aggregate columns (recomputed over the published tasks; columns missing a task are left out)."""
    tasks = publishable_tasks(results, include_incomplete)
    dataset_id, revision = scored_dataset(results)
    out = []
    for name in tasks:
        task, record = TASKS[name], results["tasks"][name]
        spec = eval_task(task)
        for metric in METRIC_NAMES:
            out.append(
                EvalResult(
                    task_type=TASK_TYPE,
                    task_name="Video retrieval",
                    dataset_type=dataset_id,
                    dataset_name=f"UVRB {name} ({task.full_name})",
                    dataset_config=spec["config"],
                    dataset_split=spec["split"],
                    dataset_revision=revision,
                    metric_type=METRIC_TYPES[metric],
                    metric_name=metric,
                    metric_value=record[metric],
                )
            )
    columns = aggregate({name: results["tasks"][name]["main_score"] for name in tasks})
    for column, value in columns.items():
        if value is not None:
            out.append(
                EvalResult(
                    task_type=TASK_TYPE,
                    task_name="Video retrieval",
                    dataset_type=dataset_id,
                    dataset_name="UVRB",
                    dataset_split="test",
                    dataset_revision=revision,
                    metric_type=aggregate_metric_type(column),
                    metric_name=AGGREGATE_NAMES[column],
                    metric_value=value,
                )
            )
    return out


def aggregate_metric_type(column: str) -> str:
    """``"AVG-D"`` -> ``"uvrb_avg_d"``, ``"TXT"`` -> ``"uvrb_txt"`` (model-index metric ids)."""
    return "uvrb_" + column.lower().replace("-", "_")


def uvrb_eval_result_entries(results: dict, include_incomplete: bool = False) -> list[EvalResultEntry]:
    """One Hub eval result per published task: its main score, ``task_id`` as in UVRB's ``eval.yaml``."""
    dataset_id, revision = scored_dataset(results)
    return [
        EvalResultEntry(
            dataset_id=dataset_id,
            task_id=eval_task(TASKS[name])["id"],
            value=results["tasks"][name]["main_score"],
            dataset_revision=revision,
            notes=result_notes(results, name),
        )
        for name in publishable_tasks(results, include_incomplete)
    ]


def eval_results_yaml(results: dict, include_incomplete: bool = False) -> str:
    """The text of ``.eval_results/uvrb.yaml``."""
    entries = uvrb_eval_result_entries(results, include_incomplete)
    return yaml.safe_dump(eval_result_entries_to_yaml(entries), sort_keys=False, allow_unicode=True)


# --------------------------------------------------------------------------- the checkpoint


def read_checkpoint(folder: str | os.PathLike) -> dict:
    """What the card says about a GVE checkpoint folder: sizes, dtype, the processor's saved
    sampling settings and instruction, and its sentence-transformers prompts."""
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


def sampling_table(sampling: SamplingConfig) -> str:
    """The checkpoint's preprocessing settings beside GVE's defaults (`SamplingConfig`), one row
    per option; settings that differ from the defaults are in bold."""
    defaults = SamplingConfig().to_dict()
    rows = ["| option | this checkpoint | GVE default |", "|---|---|---|"]
    for name, value in sampling.to_dict().items():
        ours = _number(value)
        if value != defaults[name]:
            ours = f"**{ours}**"
        rows.append(f"| `{name}` | {ours} | {_number(defaults[name])} |")
    return "\n".join(rows)


def prompts_table(prompts: dict[str, str]) -> str:
    """The checkpoint's named prompts; UVRB tasks are described from the registry."""
    rows = ["| `prompt_name` | UVRB task (type / domain) | instruction |", "|---|---|---|"]
    ordered = [n for n in TASKS if n in prompts] + sorted(n for n in prompts if n not in TASKS)  # paper order first
    for name in ordered:
        text = prompts[name]
        task = TASKS.get(name)
        what = (
            f"{task.full_name} ({task.task_type}{' / ' + task.domain if task.domain else ''})"
            if task
            else ("candidates (the videos searched)" if name == "document" else "")
        )
        rows.append(f"| `{name}` | {what} | {text} |")
    return "\n".join(rows)


# --------------------------------------------------------------------------- training record


def training_record(folder: str | os.PathLike) -> dict | None:
    """The record a Modality Pyramid run leaves in its output folder (`recipes/pyramid.py`):
    the newest ``checkpoints/checkpoint-*/trainer_state.json`` (settings, steps, samples, task
    counts) and the last logged loss of ``train_log.jsonl``; ``None`` when there is none."""
    folder = Path(folder)
    states = sorted(
        folder.glob("checkpoints/checkpoint-*/trainer_state.json"),
        key=lambda p: int(p.parent.name.rsplit("-", 1)[-1]) if p.parent.name.rsplit("-", 1)[-1].isdigit() else -1,
    )
    if not states:
        return None
    state = json.loads(states[-1].read_text())
    record = {
        "config": state.get("config", {}),
        "global_step": state.get("global_step"),
        "samples_seen": state.get("samples_seen"),
        "task_counts": state.get("task_counts", {}),
        "num_processes": state.get("num_processes"),
    }
    log = folder / "train_log.jsonl"
    if log.is_file():
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        losses = [r for r in lines if isinstance(r.get("loss"), (int, float))]
        if losses:
            record["last_log"] = {k: losses[-1].get(k) for k in ("step", "epoch", "loss", "accuracy")}
    return record


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

PAPER_RECIPE = (
    "GVE as released by the paper's authors was trained from Qwen2.5-VL-Instruct with LoRA (r 16, alpha 32, "
    "dropout 0.1) on the language model's q/k/v/up/down/gate projections (vision tower, merger and embeddings "
    "frozen), a symmetric InfoNCE loss at temperature 0.03 over in-batch, cross-device and mined hard negatives, "
    "task-homogeneous batches scheduled by the alignment-aware Modality Pyramid curriculum, AdamW (lr 3e-5, "
    "weight decay 0.1, cosine schedule) for 3 epochs in bf16, 8 frames per video, on 12.55M instances for the 3B "
    "model (text, image, video and 1.55M synthesized UVRD pairs; paper §3.3, §A.8, Tables 6-9)."
)


def training_section(record: dict | None) -> str:
    """The card's training summary: this run's recorded settings when there is a record."""
    if record is None:
        return (
            "No training record was found with this checkpoint (a `gve` training run leaves one in "
            "`checkpoints/*/trainer_state.json`). " + PAPER_RECIPE
        )
    config = record["config"]
    lines = [
        (
            "Trained with the `gve` package's Modality Pyramid recipe (`recipes/pyramid.py`); settings from the "
            "run's last checkpoint record:"
        ),
        "",
        "| setting | value |",
        "|---|---|",
    ]
    for key, label in TRAINING_KEYS:
        if config.get(key) is not None:
            value = config[key]
            if isinstance(value, dict):  # sampling: {max_frames: 8, ...}
                value = ", ".join(f"{k}={v}" for k, v in value.items())
            value = ", ".join(map(str, value)) if isinstance(value, list) else value
            lines.append(f"| {label} | `{value}` |")
    for key, label in (("global_step", "optimizer steps"), ("samples_seen", "training pairs seen"),
                       ("num_processes", "processes")):  # fmt: skip
        if record.get(key) is not None:
            lines.append(f"| {label} | {record[key]:,} |")
    last = record.get("last_log")
    if last:
        lines.append(f"| last logged loss | {last['loss']:.4f} (step {last.get('step')}) |")
    if record["task_counts"]:
        lines += ["", "Batches per task: " + ", ".join(f"{t} {n:,}" for t, n in record["task_counts"].items()) + "."]
    return "\n".join(lines)


def training_datasets(record: dict | None) -> list[str]:
    """Hub dataset repos named by the run's mixture file (local folders are not listed)."""
    if record is None or not record["config"].get("mixture"):
        return []
    mixture = Path(record["config"]["mixture"])
    if not mixture.is_file():
        return []
    from modeling_gve.training.data import load_mixture

    return list(dict.fromkeys(spec.path for spec in load_mixture(mixture) if is_hub_repo_id(spec.path)))


# --------------------------------------------------------------------------- the card


def evaluation_section(results: dict | None, model_label: str, include_incomplete: bool = False) -> str:
    """The UVRB tables (the paper's layout, its GVE rows beside this model) and the run record."""
    if results is None:
        return (
            "Not evaluated with the `gve` package yet. Score it with `gve uvrb --model <this repo> --output runs/x` "
            "and publish the scores with `gve hub push-model <folder> <repo> --results runs/x/results.json`."
        )
    tasks = publishable_tasks(results, include_incomplete)
    scores = {name: results["tasks"][name]["main_score"] for name in tasks}
    rows = {f"{ref} (paper)": {**TABLE_1[ref], **TABLE_2[ref]} for ref in REFERENCE_ROWS}
    rows[f"**{model_label}**"] = {**scores, **aggregate(scores)}
    dataset_id, revision = scored_dataset(results)
    if is_hub_repo_id(results.get("data", {}).get("data")):
        source = f"`{dataset_id}`" + (f" at revision `{revision}`" if revision else "")
    else:
        source = "a local copy of the data (the JSONL files' sha256 are in results.json)"
    notes = result_notes(results, data_source=False)
    lines = [
        f"[UVRB](https://huggingface.co/datasets/{HUB_REPO}) ({len(tasks)} of {len(TASKS)} datasets), scored with "
        f"`gve uvrb` on {source}: normalised embeddings, cosine similarity, no re-ranking"
        + (f"; {notes}" if notes else "; the paper's preprocessing protocol")
        + ". Main metric per dataset (R@k is a hit rate); the paper's GVE rows for reference.",
        "",
        dataset_table(rows),
        "",
        ability_table(rows),
    ]
    incomplete = [n for n in tasks if not results["tasks"][n]["complete"]]
    if incomplete:
        lines += ["", "Incomplete (inputs skipped, not comparable): " + ", ".join(incomplete) + "."]
    lines += ["", f"All metrics are in the card metadata (`model-index`) and in `{EVAL_RESULTS_FILE}`."]
    return "\n".join(lines)


def infer_base_model(hidden_size: int, record: dict | None) -> str | None:
    """The backbone: the training run's starting checkpoint, else GVE-3B/7B's by hidden size."""
    if record and is_hub_repo_id(record["config"].get("model_name_or_path")):
        return record["config"]["model_name_or_path"]
    return BASE_MODELS.get(hidden_size)


def build_gve_model_card(
    folder: str | os.PathLike,
    *,
    repo_id: str,
    results: dict | None = None,
    base_model: str | None = None,
    license: str = "apache-2.0",
    datasets: Iterable[str] | None = None,
    model_name: str | None = None,
    include_incomplete: bool = False,
    training: dict | None = None,
) -> ModelCard:
    """The model card of the GVE checkpoint in ``folder`` (a complete, converted checkpoint).

    Args:
        repo_id: the Hub repo the card is for (usage snippets; default model name).
        results: a ``gve uvrb`` results dictionary (`load_uvrb_results`); fills ``model-index``
            and the evaluation tables.
        base_model: the backbone's Hub id; default: the training record's starting checkpoint,
            else Qwen2.5-VL-3B/7B-Instruct by hidden size.
        datasets: training datasets (Hub ids); default: those of the training record's mixture.
        training: the training record (`training_record`); default: read from ``folder``.

    Raises:
        ValueError: the base model cannot be inferred, or the results cannot be published.
    """
    folder = Path(folder)
    info = read_checkpoint(folder)
    training = training if training is not None else training_record(folder)
    base_model = base_model or infer_base_model(info["hidden_size"], training)
    if not base_model:
        raise ValueError(
            f"{folder}: cannot tell the base model (hidden size {info['hidden_size']} is neither GVE-3B's 2048 nor "
            "GVE-7B's 3584, and there is no training record); pass base_model / --base-model"
        )
    model_name = model_name or repo_id.split("/")[-1]
    if results is not None:
        check_uvrb_results(results)
    eval_results = uvrb_eval_results(results, include_incomplete) if results is not None else None
    card_data = ModelCardData(
        model_name=model_name if eval_results else None,  # only the model-index uses it
        base_model=base_model,
        library_name=LIBRARY_NAME,
        pipeline_tag=PIPELINE_TAG,
        license=license,
        language=["en"],
        datasets=list(datasets) if datasets is not None else (training_datasets(training) or None),
        tags=list(TAGS),
        eval_results=eval_results,
    )
    sampling = info["sampling"]
    return ModelCard.from_template(
        card_data,
        template_path=str(TEMPLATE),
        model_name=model_name,
        repo_id=repo_id,
        base_model_text=f"[{base_model}](https://huggingface.co/{base_model})",
        dimension=info["hidden_size"],
        model_type=info["model_type"],
        num_layers=info["num_layers"],
        weights_dtype=info["dtype"],
        candidate_instruction=info["instruction"],
        sampling_table=sampling_table(sampling),
        prompts_table=prompts_table(info["prompts"]),
        default_frames=sampling.num_frames or sampling.max_frames,
        max_length=f"{sampling.max_length:,}",
        evaluation_section=evaluation_section(results, model_name, include_incomplete),
        training_section=training_section(training),
        citation=UVRB_CITATION.strip(),
        license_text=(
            f"`{license}`. The weights derive from [{base_model}](https://huggingface.co/{base_model}), "
            "whose license also applies."
        ),
    )


def write_gve_model_card(out: str | os.PathLike, folder: str | os.PathLike, **kwargs: Any) -> list[Path]:
    """Write ``out/README.md`` and, with ``results``, ``out/.eval_results/uvrb.yaml``; returns the paths."""
    out = Path(out)
    card = build_gve_model_card(folder, **kwargs)
    written = [out / "README.md"]
    card.save(str(written[0]))
    if kwargs.get("results") is not None:
        path = out / EVAL_RESULTS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(eval_results_yaml(kwargs["results"], kwargs.get("include_incomplete", False)))
        written.append(path)
    return written


__all__ = [
    "BASE_MODELS",
    "EVAL_RESULTS_FILE",
    "LIBRARY_NAME",
    "PIPELINE_TAG",
    "build_gve_model_card",
    "check_uvrb_results",
    "eval_results_yaml",
    "load_uvrb_results",
    "publishable_tasks",
    "read_checkpoint",
    "training_record",
    "uvrb_eval_result_entries",
    "uvrb_eval_results",
    "write_gve_model_card",
]
