# Copyright 2026 The GVE package authors. Apache-2.0.
"""The dataset card of a V-SynFlow (UVRD-style) dataset, generated from the run's statistics.

`build_uvrd_dataset_card(stats)` returns a `huggingface_hub.DatasetCard` whose YAML declares
one config per task (``configs: [{config_name: T2V, data_files: [{split: train, path:
T2V/*.parquet}]}, ...]``, what ``datasets.load_dataset(root, "T2V")`` reads) and whose body
reports the counts per task and every filter's statistics (Python makes them card-ready values;
``templates/uvrd_dataset.md`` lays them out). ``stats`` is the dictionary the pipeline writes to
``<work_dir>/stats.json``:

- ``tasks``: ``{task: {"rows", "videos", "with_negatives", "negatives"}}`` (required)
- ``quality``, ``enrichment``, ``negatives``, ``settings``: optional sections.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from huggingface_hub import DatasetCard, DatasetCardData

from modeling_gve.pairs import config_entry

TEMPLATE = Path(__file__).parent / "templates" / "uvrd_dataset.md"
TASK_ORDER = ("T2T", "T2I", "T2V", "I2V", "V2V", "TI2V", "TV2V")
TASK_SHAPES = {
    "T2V": ("generated caption", "video"),
    "T2T": ("generated caption", "another caption of the same video"),
    "T2I": ("generated frame caption", "frame (image)"),
    "I2V": ("frame (image)", "its video"),
    "V2V": ("clip (video)", "its full video"),
    "TI2V": ("composed text + frame", "video"),
    "TV2V": ("composed text + clip", "video"),
}


def size_category(n: int) -> str:
    for limit, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ):
        if n < limit:
            return name
    return "10M<n<100M"


def _ordered(tasks: dict) -> list[str]:
    return [t for t in TASK_ORDER if t in tasks] + sorted(t for t in tasks if t not in TASK_ORDER)


def task_rows(tasks: dict) -> list[dict]:
    """One row per task config, in the pyramid's order: what a query and a positive are, the counts."""
    rows = []
    for task in _ordered(tasks):
        query, positive = TASK_SHAPES.get(task, ("", ""))
        counts = tasks[task]
        rows.append({"name": task, "query": query, "positive": positive, "rows": counts["rows"],
                     "videos": counts.get("videos", 0), "with_negatives": counts.get("with_negatives", 0)})  # fmt: skip
    return rows


def distribution(dist: dict | None) -> dict | None:
    """A filter's score distribution for the card: count, mean, std, the quartiles and 5/95th
    percentiles as ``(percent, value)``, the threshold and how many fell below it, and the
    histogram as ``(low, high, count)`` bins; ``None`` when nothing was scored."""
    if not dist or not dist.get("count"):
        return None
    keep = ("0.05", "0.25", "0.5", "0.75", "0.95")
    edges, counts = dist["histogram"]["edges"], dist["histogram"]["counts"]
    return {
        **{k: dist[k] for k in ("count", "mean", "std", "threshold", "below_threshold") if k in dist},
        "quantiles": [(float(k) * 100, v) for k, v in dist.get("quantiles", {}).items() if k in keep],
        "histogram": [(edges[i], edges[i + 1], n) for i, n in enumerate(counts)],
    }


def quality_values(quality: dict | None) -> dict | None:
    """Stage 1's statistics, with its two score distributions made card-ready."""
    if not quality:
        return None
    motion, consistency = quality.get("motion", {}), quality.get("consistency", {})
    return {
        **quality,
        "motion": {**motion, "distribution": distribution(motion.get("distribution"))},
        "consistency": {**consistency, "distribution": distribution(consistency.get("distribution"))},
    }


def build_uvrd_dataset_card(
    stats: dict[str, Any],
    *,
    repo_id: str | None = None,
    pretty_name: str = "UVRD (V-SynFlow)",
    license: str = "other",
    description: str = "",
    template_path: str | os.PathLike = TEMPLATE,
) -> DatasetCard:
    """The card (YAML metadata with one config per task, plus the run's statistics).

    Args:
        stats: the pipeline's statistics (see the module docstring); ``stats["tasks"]`` is required.
        repo_id: the Hub repo the card is for (used in the loading snippet).
        license: the card's license id (``other``: the source videos' terms apply).
    """
    tasks = stats.get("tasks")
    if not tasks:
        raise ValueError("stats['tasks'] is required: {task: {'rows': ..., 'videos': ...}}")
    total = sum(t["rows"] for t in tasks.values())
    card_data = DatasetCardData(
        license=license,
        pretty_name=pretty_name,
        language=["en"],
        size_categories=[size_category(total)],
        task_categories=["feature-extraction"],
        tags=["video-retrieval", "video-text-retrieval", "synthetic", "gve", "v-synflow", "uvrd"],
        configs=[config_entry(t) for t in _ordered(tasks)],
    )
    settings = stats.get("settings", {})
    return DatasetCard.from_template(
        card_data,
        template_path=str(template_path),
        pretty_name=pretty_name,
        repo_id=repo_id or "<namespace>/<dataset>",
        description=description,
        tasks=task_rows(tasks),
        total_rows=total,
        pool_videos=stats.get("quality", {}).get("pool", {}).get("videos", 0),
        quality=quality_values(stats.get("quality")),
        enrichment=stats.get("enrichment"),
        negatives=stats.get("negatives"),
        settings_yaml=yaml.safe_dump(settings, sort_keys=True, allow_unicode=True).strip(),
    )


def write_uvrd_dataset_card(folder: str | os.PathLike, stats: dict[str, Any], **kwargs: Any) -> Path:
    """Build the card and save it as ``folder/README.md``."""
    path = Path(folder) / "README.md"
    build_uvrd_dataset_card(stats, **kwargs).save(str(path))
    return path


__all__ = ["build_uvrd_dataset_card", "size_category", "write_uvrd_dataset_card"]
