# Copyright 2026 The GVE package authors. Apache-2.0.
"""The dataset card of a V-SynFlow (UVRD-style) dataset, generated from the run's statistics.

`build_uvrd_dataset_card(stats)` returns a `huggingface_hub.DatasetCard` whose YAML declares
one config per task (``configs: [{config_name: T2V, data_files: [{split: train, path:
T2V/*.parquet}]}, ...]``, what ``datasets.load_dataset(root, "T2V")`` reads) and whose body
reports the counts per task and every filter's statistics. ``stats`` is the dictionary the
pipeline writes to ``<work_dir>/stats.json``:

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


def tasks_table(tasks: dict) -> str:
    lines = [
        "| config | query | positive | rows | source videos | rows with hard negatives |",
        "|---|---|---|---:|---:|---:|",
    ]
    for task in _ordered(tasks):
        s = tasks[task]
        query, positive = TASK_SHAPES.get(task, ("", ""))
        lines.append(
            f"| `{task}` | {query} | {positive} | {s['rows']:,} | {s.get('videos', 0):,} "
            f"| {s.get('with_negatives', 0):,} |"
        )
    return "\n".join(lines)


def _dist_line(name: str, dist: dict) -> str:
    if not dist or not dist.get("count"):
        return f"- {name}: not measured"
    q = dist.get("quantiles", {})
    quantiles = ", ".join(
        f"p{float(k) * 100:g} {v:.4f}" for k, v in q.items() if k in ("0.05", "0.25", "0.5", "0.75", "0.95")
    )
    line = f"- {name}: {dist['count']:,} scored, mean {dist['mean']:.4f} (std {dist['std']:.4f}); {quantiles}"
    if "threshold" in dist:
        line += f"; threshold {dist['threshold']}: {dist['below_threshold']:,} below"
    return line


def _histogram(dist: dict) -> str:
    if not dist or not dist.get("count"):
        return ""
    edges, counts = dist["histogram"]["edges"], dist["histogram"]["counts"]
    rows = ["| score bin | count |", "|---|---:|"] + [
        f"| [{edges[i]:.4f}, {edges[i + 1]:.4f}) | {c:,} |" for i, c in enumerate(counts)
    ]
    return "\n".join(rows)


def quality_section(quality: dict | None) -> str:
    if not quality:
        return "Not recorded."
    rect = quality.get("rectification", {})
    dropped = rect.get("dropped", {})
    motion, consistency = quality.get("motion", {}), quality.get("consistency", {})
    pool = quality.get("pool", {})
    parts = [
        f"- Input pairs (video, caption): **{quality.get('input_videos', 0):,}**",
        f"- Annotation rectification kept {rect.get('kept', 0):,}; dropped "
        + (", ".join(f"{reason}: {n:,}" for reason, n in dropped.items()) or "none"),
        _dist_line(
            f"Temporal dynamics (mean frame difference over {motion.get('num_frames', '?')} frames)",
            motion.get("distribution", {}),
        ),
    ]
    if consistency.get("enabled"):
        parts.append(
            _dist_line(
                f"Cross-modal consistency (cosine, `{consistency.get('embedder')}`, "
                f"{consistency.get('embedder_type')})",
                consistency.get("distribution", {}),
            )
        )
    else:
        parts.append("- Cross-modal consistency: not applied (no embedder configured)")
    outcome = quality.get("outcome", {})
    parts.append(
        "- Outcome per input pair after rectification: " + ", ".join(f"{k}: {v:,}" for k, v in outcome.items())
    )
    parts.append(
        f"- Asset pool: **{pool.get('videos', 0):,}** videos, {pool.get('frames', 0):,} frames, "
        f"{pool.get('clips', 0):,} clips"
    )
    text = "\n".join(parts)
    for name, dist in (
        ("Temporal dynamics", motion.get("distribution")),
        ("Cross-modal consistency", consistency.get("distribution")),
    ):
        table = _histogram(dist or {})
        if table:
            text += f"\n\n<details><summary>{name} score histogram</summary>\n\n{table}\n\n</details>"
    return text


def enrichment_section(enrichment: dict | None) -> str:
    if not enrichment:
        return "Not run."
    cap = enrichment.get("captioner", {})
    lines = [
        (
            f"Captioner: `{cap.get('model')}` ({cap.get('backend')} backend, temperature {cap.get('temperature')}, "
            f"videos sent as {cap.get('video_input')}, up to {cap.get('max_attempts')} generations per request; "
            f"prompt files digest `{cap.get('prompts')}`). Answers are validated against JSON schemas (and the "
            "caption styles' word ranges); invalid answers are regenerated, then recorded as failures."
        ),
        "",
        "| request kind | ok | failed | transient errors | ok at attempt (count) | mean words per caption |",
        "|---|---:|---:|---:|---|---|",
    ]
    for kind, counts in enrichment.get("requests", {}).items():
        attempts = ", ".join(f"{a}: {n:,}" for a, n in enrichment.get("attempts_of_ok", {}).get(kind, {}).items())
        words = ", ".join(f"{k}: {v}" for k, v in enrichment.get("mean_words", {}).get(kind, {}).items())
        lines.append(
            f"| {kind} | {counts.get('ok', 0):,} | {counts.get('failed', 0):,} | {counts.get('error', 0):,} "
            f"| {attempts} | {words} |"
        )
    reasons = enrichment.get("failure_reasons", {})
    if reasons:
        lines += ["", "Failure reasons: " + ", ".join(f"{k}: {v:,}" for k, v in reasons.items())]
    return "\n".join(lines)


def negatives_section(negatives: dict | None) -> str:
    if not negatives:
        return "Hard negatives: not mined (rows carry only in-batch negatives at training time)."
    margin = negatives.get("margin")
    guard = f", skipping candidates scoring at or above {margin} x the positive score" if margin is not None else ""
    lines = [
        f"Hard negatives mined with `{negatives.get('embedder')}`: the top-scoring positives of other videos{guard}.",
        "",
        "| task | negatives per row | rows with all | rows with fewer | rows with none |",
        "|---|---:|---:|---:|---:|",
    ]
    for task, s in negatives.get("tasks", {}).items():
        lines.append(f"| {task} | {s['k']} | {s['full']:,} | {s['partial']:,} | {s['none']:,} |")
    return "\n".join(lines)


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
        tasks_table=tasks_table(tasks),
        total_rows=f"{total:,}",
        pool_videos=f"{stats.get('quality', {}).get('pool', {}).get('videos', 0):,}",
        quality_section=quality_section(stats.get("quality")),
        enrichment_section=enrichment_section(stats.get("enrichment")),
        negatives_section=negatives_section(stats.get("negatives")),
        settings_yaml=yaml.safe_dump(settings, sort_keys=True, allow_unicode=True).strip(),
    )


def write_uvrd_dataset_card(folder: str | os.PathLike, stats: dict[str, Any], **kwargs: Any) -> Path:
    """Build the card and save it as ``folder/README.md``."""
    path = Path(folder) / "README.md"
    build_uvrd_dataset_card(stats, **kwargs).save(str(path))
    return path


__all__ = ["build_uvrd_dataset_card", "size_category", "write_uvrd_dataset_card"]
