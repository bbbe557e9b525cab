# Copyright 2026 The GVE package authors. Apache-2.0.
"""What the `evaluate` module computes with, when the ``gve`` package is installed: the
package's own metrics. A Space made by ``gve hub push-metric`` holds, under this name, a copy
of these functions generated from the package instead (`hub_cards.uvrb_metric_card`)."""

from modeling_gve.uvrb.metrics import METRIC_NAMES, retrieval_metrics, task_metrics
from modeling_gve.uvrb.tasks import TASKS, UVRB_CITATION

MAIN_METRICS = {name: task.main_metric for name, task in TASKS.items()}

__all__ = ["MAIN_METRICS", "METRIC_NAMES", "UVRB_CITATION", "retrieval_metrics", "task_metrics"]
