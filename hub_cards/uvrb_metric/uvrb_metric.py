# Copyright 2026 The GVE package authors. Apache-2.0.
"""UVRB retrieval metrics as an `evaluate` module.

The numbers come from `uvrb_retrieval`, next to this file: with the ``gve`` package installed,
a re-export of `modeling_gve.uvrb.metrics` (the one implementation, shared with `gve uvrb`); in
a Space made by ``gve hub push-metric``, a copy of those functions generated from the package,
so the Space needs only ``evaluate`` and ``datasets``.
"""

import datasets
import evaluate

from .uvrb_retrieval import MAIN_METRICS, UVRB_CITATION, retrieval_metrics, task_metrics

_DESCRIPTION = """\
Retrieval metrics of UVRB, the Universal Video Retrieval Benchmark (16 datasets): R@1, R@5,
R@10 (hit rates: 1 if any relevant candidate is in the top k), P@1, MRR@10 and nDCG@10
(binary relevance), averaged over queries, plus `main_score`, the metric the paper reports
for the task (R@1, R@10 for CMRB and LoVR-TH, P@1 for MS-TI and MS-TV).
"""

_KWARGS_DESCRIPTION = (
    """
Args:
    predictions (`list[list[str]]`): per query, candidate ids ranked best first (the top 10 suffice).
    references (`list[list[str]]`): per query, the ids of its relevant candidates (at least one).
    task (`str`, optional): a UVRB task name ("""
    + ", ".join(MAIN_METRICS)
    + """); adds `main_score`.

Returns:
    dict: `R@1`, `R@5`, `R@10`, `P@1`, `MRR@10`, `nDCG@10` and, with `task`, `main_score`.

Examples:
    >>> metric = evaluate.load("my-org/uvrb")  # the Space `gve hub push-metric my-org/uvrb` made
    >>> metric.compute(predictions=[["v2", "v1"], ["v1", "v2"]], references=[["v1"], ["v1"]], task="MSRVTT")["main_score"]
    0.5
"""
)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class UvrbMetric(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=UVRB_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("string")),
                    "references": datasets.Sequence(datasets.Value("string")),
                }
            ),
            reference_urls=["https://arxiv.org/abs/2510.27571", "https://huggingface.co/datasets/Alibaba-NLP/UVRB"],
        )

    def _compute(self, predictions, references, task=None):
        if task is None:
            return retrieval_metrics(predictions, references)
        return task_metrics(task, predictions, references)
