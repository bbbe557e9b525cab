# Copyright 2026 The GVE package authors. Apache-2.0.
"""The UVRB dataset card and its ``eval.yaml``, generated from the task registry
(`modeling_gve.uvrb.tasks`): no task list here is kept by hand.

The card's YAML ``configs:`` declare, for every task, ``<TASK>-queries``, ``<TASK>-corpus`` and
``<TASK>-qrels`` (one ``test`` split each, from ``<TASK>/jsonl/*.jsonl``), so that
``datasets.load_dataset(<repo or folder>, "MSRVTT-queries", split="test")`` works on the Hub
repo and on any local copy in the authors' layout. Its body holds the task table, the
evaluation protocol (the preprocessing numbers come from `SamplingConfig`), the license notes
of the source datasets and the citation.

``eval.yaml`` registers the repo as a Hub benchmark (https://huggingface.co/docs/hub/eval-results):
one task per UVRB dataset, ``id`` = the task name, evaluated on its ``<TASK>-queries`` config.
Model repos report scores against these ids in ``.eval_results/*.yaml`` (`hub_cards.gve_model`).
``gve hub push-dataset`` writes both into the repo it publishes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import yaml
from huggingface_hub import DatasetCard, DatasetCardData

from modeling_gve.processing_gve import SamplingConfig
from modeling_gve.uvrb.tasks import HUB_REPO, UVRB_CITATION, UVRBTask, resolve_tasks

TEMPLATE = Path(__file__).parent / "templates" / "uvrb_dataset.md"
CONFIG_KINDS = {"queries": "queries.jsonl", "corpus": "corpus.jsonl", "qrels": "instances.jsonl"}
EVAL_SPLIT = "test"
EVAL_CONFIG_KIND = "queries"  # the config a benchmark task of eval.yaml points at
PRETTY_NAME = "UVRB: Universal Video Retrieval Benchmark"

# The identifiers the Hub accepts for `evaluation_framework` (huggingface.js
# packages/tasks/src/eval.ts, read in 2026). UVRB is scored by `gve uvrb`, which is not one of
# them; "mteb", the listed framework for embedding and retrieval evaluation, is the default.
EvaluationFramework = Literal[
    "mteb", "inspect-ai", "exgentic", "math-arena", "olmocr-bench", "harbor", "archipelago", "apex-evals",
    "screenspot-pro", "swe-bench", "swe-bench-pro", "nemo-evaluator", "yc-bench", "open-asr-leaderboard",
    "mdpbench", "parsebench", "video-mme-v2", "claw-eval", "wildclawbench",
]  # fmt: skip
EVALUATION_FRAMEWORKS: tuple[str, ...] = get_args(EvaluationFramework)
DEFAULT_EVALUATION_FRAMEWORK: EvaluationFramework = "mteb"


@dataclass(frozen=True)
class SourceLicense:
    """The license of one source dataset of UVRB, as its Hub card stated it when checked.

    ``license`` is ``None`` where this project could not establish it: the card says so
    instead of guessing.
    """

    source: str
    tasks: tuple[str, ...]
    license: str | None
    url: str | None
    note: str = ""


# Checked against the sources' Hub pages in 2026; check the source again before any use.
SOURCE_LICENSES = (
    SourceLicense("MSR-VTT", ("MSRVTT", "MSRVTT-I2V"), None, None, "not established by this project"),
    SourceLicense("DiDeMo", ("DiDeMo",), None, None, "not established by this project"),
    SourceLicense("CaReBench", ("CRB-G", "CRB-S", "CRB-T"), "mit", "https://huggingface.co/datasets/MCG-NJU/CaReBench"),
    SourceLicense(
        "VDC (AuroraCap)", ("VDC-O", "VDC-D"), "apache-2.0", "https://huggingface.co/datasets/wchai/Video-Detailed-Caption",
        "its videos come from Panda-70M, Ego4D, Mixkit, Pixabay and Pexels, whose own terms apply",
    ),
    SourceLicense("CameraBench", ("CMRB",), "cc-by-4.0", "https://huggingface.co/datasets/syCen/CameraBench"),
    SourceLicense(
        "DREAM-1K", ("DREAM-E",), "apache-2.0", "https://huggingface.co/datasets/omni-research/DREAM-1K",
        "an earlier card revision added that video copyrights stay with the original creators or platforms, "
        "for academic research use only",
    ),
    SourceLicense(
        "LoVR", ("LoVR-TH", "LoVR-V", "LoVR-C2V"), "cc-by-nc-sa-4.0", "https://huggingface.co/datasets/debugger123/LoVR-benchmark",
        "non-commercial; earlier card revisions said cc-by-4.0; the videos come from LongVideoBench",
    ),
    SourceLicense("PE-Video", ("PEV-K",), None, None, "not established by this project"),
    SourceLicense(
        "MomentSeeker", ("MS-TI", "MS-TV"), None, "https://huggingface.co/datasets/avery00/MomentSeeker",
        "the current card states no license (an earlier revision said cc-by-nc-sa-4.0)",
    ),
)  # fmt: skip


def config_name(task: str, kind: str) -> str:
    """``"MSRVTT", "queries"`` -> ``"MSRVTT-queries"`` (kinds: queries, corpus, qrels)."""
    if kind not in CONFIG_KINDS:
        raise ValueError(f"kind must be one of {', '.join(CONFIG_KINDS)}; got {kind!r}")
    return f"{task}-{kind}"


def dataset_configs(tasks: Iterable[UVRBTask]) -> list[dict]:
    """The ``configs:`` entries of the card, three per task."""
    return [
        {
            "config_name": config_name(task.name, kind),
            "data_files": [{"split": EVAL_SPLIT, "path": f"{task.hub_folder}/jsonl/{file}"}],
        }
        for task in tasks
        for kind, file in CONFIG_KINDS.items()
    ]


def eval_task(task: UVRBTask) -> dict:
    """The ``eval.yaml`` task of one UVRB dataset; its ``id`` is the ``task_id`` of eval results."""
    return {"id": task.name, "config": config_name(task.name, EVAL_CONFIG_KIND), "split": EVAL_SPLIT}


def metric_summary(tasks: list[UVRBTask]) -> str:
    """``"R@1 (R@10 for CMRB, LoVR-TH; P@1 for MS-TI, MS-TV)"`` from the registry."""
    by_metric: dict[str, list[str]] = {}
    for task in tasks:
        by_metric.setdefault(task.main_metric, []).append(task.name)
    common = max(by_metric, key=lambda m: len(by_metric[m]))
    others = "; ".join(f"{m} for {', '.join(names)}" for m, names in by_metric.items() if m != common)
    return common + (f" ({others})" if others else "")


def build_eval_yaml(
    tasks: Iterable[str] | None = None, *, evaluation_framework: EvaluationFramework = DEFAULT_EVALUATION_FRAMEWORK
) -> dict:
    """The ``eval.yaml`` content: ``name``, ``description``, ``evaluation_framework`` and one
    ``tasks`` entry per UVRB dataset (``id``, ``config``, ``split``)."""
    if evaluation_framework not in EVALUATION_FRAMEWORKS:
        raise ValueError(
            f"evaluation_framework must be one the Hub lists: {', '.join(EVALUATION_FRAMEWORKS)}; "
            f"got {evaluation_framework!r}"
        )
    selected = resolve_tasks(tasks)
    description = (
        f"UVRB, the Universal Video Retrieval Benchmark (arXiv 2510.27571), scores video embedding models on "
        f"{len(selected)} retrieval datasets: textual, composed (text+image, text+video) and visual (image, clip) "
        "queries over coarse-grained, fine-grained (spatial, temporal, partially relevant) and long-context videos. "
        f"One leaderboard per dataset; main metric {metric_summary(selected)}, where R@k is a hit rate. "
        "Scores come from `gve uvrb` (normalised embeddings, cosine similarity, no re-ranking)."
    )
    return {
        "name": PRETTY_NAME,
        "description": description,
        "evaluation_framework": evaluation_framework,
        "tasks": [eval_task(task) for task in selected],
    }


def protocol_numbers(sampling: SamplingConfig | None = None) -> dict:
    """The preprocessing numbers quoted by the card (GVE's defaults, `SamplingConfig`)."""
    s = sampling or SamplingConfig()
    return {
        "frames": s.num_frames or s.max_frames,
        "video_pixels": f"{s.video_min_pixels // 784}·28² to {s.video_max_pixels // 784}·28²",
        "image_pixels": f"{s.image_min_pixels // 784}·28² to {s.image_max_pixels // 784}·28²",
        "max_length": f"{s.max_length:,}",
    }


def license_rows(tasks: Iterable[UVRBTask]) -> list[dict]:
    """`SOURCE_LICENSES` restricted to ``tasks``, as template rows, with the media terms of the
    tasks (`UVRBTask.media_license`)."""
    by_name = {t.name: t for t in tasks}
    return [
        {
            "source": s.source,
            "url": s.url,
            "tasks": [t for t in s.tasks if t in by_name],
            "license": s.license,
            "media": sorted({by_name[t].media_license for t in s.tasks if t in by_name}),
            "note": s.note,
        }
        for s in SOURCE_LICENSES
        if by_name.keys() & set(s.tasks)
    ]


def build_uvrb_dataset_card(
    tasks: Iterable[str] | None = None,
    *,
    repo_id: str = HUB_REPO,
    license: str | None = "other",
    evaluation_framework: EvaluationFramework = DEFAULT_EVALUATION_FRAMEWORK,
    redistributed: Iterable[str] = (),
) -> DatasetCard:
    """The UVRB dataset card (YAML metadata + markdown) for ``tasks`` (default: all 16).

    Args:
        license: the card's license id; ``"other"`` because the sources' licenses differ (the
            card lists them, including the unknown ones).
        redistributed: tasks whose media (index-only or of unknown terms) the uploader published
            on their own word (``--allow-redistribution``); the card says so.
    """
    selected = resolve_tasks(tasks)
    configs = dataset_configs(selected)
    card_data = DatasetCardData(
        pretty_name=PRETTY_NAME,
        license=license,
        language="en",
        task_categories=["text-retrieval", "feature-extraction"],
        tags=["video-retrieval", "multimodal-retrieval", "embeddings", "benchmark"],
        configs=configs,
    )
    return DatasetCard.from_template(
        card_data,
        template_path=str(TEMPLATE),
        repo_id=repo_id,
        tasks=selected,
        num_tasks=len(selected),
        per_query_candidates=next((t.num_corpus for t in selected if t.ranking == "per-query"), 10),
        config_names=[f"`{c['config_name']}`" for c in configs],
        protocol=protocol_numbers(),
        metric_summary=metric_summary(selected),
        licenses=license_rows(selected),
        redistributed=list(redistributed),
        evaluation_framework=evaluation_framework,
        citation=UVRB_CITATION.strip(),
    )


def write_uvrb_dataset_card(folder: str | Path, tasks: Iterable[str] | None = None, **kwargs) -> Path:
    """Write ``folder/README.md`` (the card) and ``folder/eval.yaml``; returns the card's path."""
    folder = Path(folder)
    path = folder / "README.md"
    build_uvrb_dataset_card(tasks, **kwargs).save(path)
    framework = kwargs.get("evaluation_framework", DEFAULT_EVALUATION_FRAMEWORK)
    (folder / "eval.yaml").write_text(
        yaml.safe_dump(build_eval_yaml(tasks, evaluation_framework=framework), sort_keys=False, allow_unicode=True)
    )
    return path


__all__ = [
    "CONFIG_KINDS",
    "EVALUATION_FRAMEWORKS",
    "SOURCE_LICENSES",
    "build_eval_yaml",
    "build_uvrb_dataset_card",
    "config_name",
    "dataset_configs",
    "eval_task",
    "write_uvrb_dataset_card",
]
