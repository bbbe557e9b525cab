# Copyright 2026 The GVE package authors. Apache-2.0.
"""UVRB reports: markdown tables laid out like the paper's Tables 1 and 2 (the paper's
GVE-3B and GVE-7B rows beside ours) and a radar plot of the ability columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from .metrics import METRIC_NAMES
from .paper import TABLE_1, TABLE_2
from .tasks import ABILITY_COLUMNS, TASKS

REFERENCE_MODELS = ("GVE-3B", "GVE-7B")


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def dataset_table(rows: Mapping[str, Mapping[str, float | None]]) -> str:
    """Table 1 layout: ``AVG`` (over the 16 datasets) then each dataset with its metric.

    Args:
        rows: ``{row label: {"AVG-D": ..., task name: main score, ...}}``.
    """
    header = ["Model", "AVG"] + [f"{name} ({task.main_metric})" for name, task in TASKS.items()]
    body = [[label, _cell(r.get("AVG-D"))] + [_cell(r.get(name)) for name in TASKS] for label, r in rows.items()]
    return _table(header, body)


def ability_table(rows: Mapping[str, Mapping[str, float | None]]) -> str:
    """Table 2 layout: ``AVG`` (over TXT, CMP, VIS, CG, FG, LC), tasks, domains, sub-domains."""
    header = ["Model", "AVG", *ABILITY_COLUMNS]
    body = [[label, _cell(r.get("AVG-A"))] + [_cell(r.get(c)) for c in ABILITY_COLUMNS] for label, r in rows.items()]
    return _table(header, body)


def _rows(results: dict, references: Sequence[str]) -> dict[str, dict]:
    ours = {name: r["main_score"] for name, r in results["tasks"].items()}
    rows = {f"{ref} (paper)": {**TABLE_1[ref], **TABLE_2[ref]} for ref in references}
    rows[f"**{results['model']}** (this run)"] = {**ours, **results["aggregate"]}
    return rows


def markdown_report(results: dict, references: Sequence[str] = REFERENCE_MODELS) -> str:
    """The whole ``results.md``: both paper tables, per-task metrics and the run record."""
    rows = _rows(results, references)
    per_task = [
        [name, r["main_metric"], _cell(r["main_score"])]
        + [_cell(r[m]) for m in METRIC_NAMES]
        + [
            str(r["num_queries"]),
            str(r["num_corpus"]),
            "yes"
            if r["complete"]
            else f"**no** ({len(r['skipped_queries'])} queries, {len(r['skipped_candidates'])} videos skipped)",
        ]
        for name, r in results["tasks"].items()
    ]
    data, encoding = results["data"], results["encoding"]
    frames = data.get("frames", {})
    notes = [f"- {name}: {r['ranking_note']}" for name, r in results["tasks"].items() if r.get("ranking_note")]
    lines = [
        f"# UVRB: {results['model']}",
        "",
        f"Data: `{data['data']}`"
        + (f" @ `{data['revision']}`" if data.get("revision") else "")
        + f"; encoder: {results['encoder'].get('encoder')}; sampling: `{results['encoder'].get('sampling')}`"
        + (f"; frame folders: `{frames.get('protocol')}` protocol at {frames.get('fps')} fps" if frames else "")
        + ".",
        (
            f"Encoded this run: {encoding['encoded_this_run']} of {encoding['unique_inputs']} unique inputs "
            f"({encoding['candidates_unique']} unique videos for {encoding['candidates_per_task_total']} corpus "
            f"entries); {encoding['num_processes']} process(es); {results['seconds']} s."
        ),
        *(["", "Not the paper's protocol:", *notes] if notes else []),
        "",
        "## Datasets (paper Table 1)",
        "",
        dataset_table(rows),
        "",
        "## Abilities (paper Table 2)",
        "",
        ability_table(rows),
        "",
        "## All metrics of this run",
        "",
        _table(["Task", "Metric", "Score", *METRIC_NAMES, "#Queries", "#Corpus", "Complete"], per_task),
        "",
    ]
    return "\n".join(lines)


def radar_plot(results: dict, path: str | Path, references: Sequence[str] = REFERENCE_MODELS) -> Path | None:
    """A radar plot of the ability columns (ours vs the paper's GVE rows); ``None`` (nothing
    written) when fewer than 3 ability columns could be computed from the tasks run."""
    # A Figure drawn on the Agg canvas directly: headless, and no pyplot, so the caller's
    # matplotlib backend and global figure state are left alone.
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ours = results["aggregate"]
    axes = [c for c in ABILITY_COLUMNS if ours.get(c) is not None]
    if len(axes) < 3:
        return None
    angles = np.linspace(0, 2 * np.pi, len(axes), endpoint=False).tolist()
    fig = Figure(figsize=(6, 6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(polar=True)
    series = {f"{ref} (paper)": TABLE_2[ref] for ref in references}
    series[f"{results['model']} (this run)"] = ours
    for label, values in series.items():
        points = [values[c] for c in axes]
        ax.plot(angles + angles[:1], points + points[:1], linewidth=2 if "this run" in label else 1, label=label)
        ax.fill(angles + angles[:1], points + points[:1], alpha=0.08)
    ax.set_xticks(angles)
    ax.set_xticklabels(axes)
    ax.set_ylim(0, 1)
    ax.set_title("UVRB abilities")
    ax.legend(loc="lower right", bbox_to_anchor=(1.25, -0.1), fontsize=8)
    path = Path(path)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path


def write_report(results: dict, output: str | Path) -> dict[str, Path]:
    """Write ``results.md`` and ``radar.png`` into ``output``; returns what was written."""
    output = Path(output)
    written = {"markdown": output / "results.md"}
    written["markdown"].write_text(markdown_report(results))
    radar = radar_plot(results, output / "radar.png")
    if radar is not None:
        written["radar"] = radar
    return written


__all__ = ["ability_table", "dataset_table", "markdown_report", "radar_plot", "write_report"]
