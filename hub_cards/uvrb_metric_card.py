# Copyright 2026 The GVE package authors. Apache-2.0.
"""The UVRB `evaluate` module's Space: its card and its self-contained metrics file.

`evaluate` loads Hub modules from Space repos (``evaluate.load("owner/name")`` reads
``spaces/owner/name/name.py`` and the files it imports relatively), so the card is a
`huggingface_hub.SpaceCard`: the Space metadata (Gradio SDK, ``app.py``) plus the metric
documentation. The module (``uvrb_metric/uvrb_metric.py``) computes with ``uvrb_retrieval.py``
beside it: in the installed package a re-export of `modeling_gve.uvrb.metrics`; in a Space, the
text of `standalone_metrics_module`, the package's functions copied so that the Space needs only
``evaluate`` and ``datasets``. The checked-in ``uvrb_metric/README.md`` is `build_uvrb_metric_card`
for the installed folder (a test keeps them equal); ``gve hub push-metric`` writes the Space.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from huggingface_hub import SpaceCard, SpaceCardData
from jinja2 import Template

from modeling_gve import __version__
from modeling_gve.suggest import did_you_mean
from modeling_gve.uvrb import metrics
from modeling_gve.uvrb.paper import TABLE_1
from modeling_gve.uvrb.tasks import TASKS, UVRB_CITATION

from .uvrb_dataset import metric_summary, protocol_numbers

TEMPLATES = Path(__file__).parent / "templates"
METRIC_DIR = Path(__file__).parent / "uvrb_metric"
MODULE_FILE = "uvrb_metric.py"  # renamed to <repo name>.py in a Space (what evaluate downloads)
METRICS_FILE = "uvrb_retrieval.py"  # what the module imports its numbers from
# The evaluate module's own imports: a Space installs these and nothing else.
SPACE_REQUIREMENTS = ("datasets", "evaluate>=0.4")
REFERENCE_MODEL = "GVE-7B"
DESCRIPTION = (
    "Retrieval metrics of UVRB, the Universal Video Retrieval Benchmark (arXiv 2510.27571): hit-rate "
    "R@1/5/10, P@1, MRR@10, nDCG@10 and each task's paper metric."
)
# The Space's widget, as on the evaluate-metric Spaces.
APP_TEMPLATE = """\
import evaluate
from evaluate.utils import launch_gradio_widget

module = evaluate.load("{repo_id}")
launch_gradio_widget(module)
"""


def build_uvrb_metric_card(load_name: str | None = None) -> SpaceCard:
    """The metric card; ``load_name`` is the Space's repo id its usage snippet passes to
    `evaluate.load` (``None``: the folder inside the installed package)."""
    card_data = SpaceCardData(
        title="UVRB",
        sdk="gradio",
        app_file="app.py",
        license="apache-2.0",
        tags=["evaluate", "metric", "retrieval", "video"],
        datasets=["Alibaba-NLP/UVRB"],
        description=DESCRIPTION,
        pinned=False,
    )
    scores = {name: TABLE_1[REFERENCE_MODEL][name] for name in TASKS}
    low, high = min(scores, key=scores.get), max(scores, key=scores.get)
    return SpaceCard.from_template(
        card_data,
        template_path=str(TEMPLATES / "uvrb_metric.md"),
        load_name=load_name,
        tasks=list(TASKS.values()),
        metric_summary=metric_summary(list(TASKS.values())),
        reference_model=REFERENCE_MODEL,
        low=(low, scores[low]),
        high=(high, scores[high]),
        frames=protocol_numbers()["frames"],
        citation=UVRB_CITATION.strip(),
    )


def standalone_metrics_module() -> str:
    """The text of a Space's ``uvrb_retrieval.py``: `modeling_gve.uvrb.metrics`' per-query functions,
    `did_you_mean` and each task's main metric, copied from the installed package (standard library
    only)."""
    functions = [did_you_mean, metrics.query_metrics, metrics.retrieval_metrics]
    return Template((TEMPLATES / "uvrb_retrieval.py.jinja").read_text()).render(
        version=__version__,
        metric_names=repr(metrics.METRIC_NAMES),
        max_k=metrics.MAX_K,
        main_metrics=repr({name: task.main_metric for name, task in TASKS.items()}),
        citation=repr(UVRB_CITATION),
        functions="\n\n".join(inspect.getsource(f).strip() for f in functions),
    )


def app_file(repo_id: str) -> str:
    """The Space's ``app.py`` for the module published as ``repo_id``."""
    return APP_TEMPLATE.format(repo_id=repo_id)


__all__ = [
    "APP_TEMPLATE",
    "METRICS_FILE",
    "METRIC_DIR",
    "MODULE_FILE",
    "SPACE_REQUIREMENTS",
    "app_file",
    "build_uvrb_metric_card",
    "standalone_metrics_module",
]
