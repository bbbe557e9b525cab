# Copyright 2026 The GVE package authors. Apache-2.0.
"""The Modality Pyramid: which task each training batch comes from (paper §3.3, Figure 5).

Three schedules, chosen with ``curriculum``:

* ``"pyramid"`` (the paper's alignment-aware dynamic scheduling): at the start of epoch t a
  prober Ψ_t embeds N_p sampled positive pairs of every task k and scores
  ``R_k(t) = mean_i cos(Ψ_t(x_i), Ψ_t(y_i))``; during the epoch tasks are drawn with
  ``P_t(k) ∝ prior_k · exp(R_k(t) / σ(t))``, σ rising linearly from σ_min = 0.1 to σ_max = 1.0,
  so training starts on well-aligned (foundational) tasks and spreads out. Ψ_1 is a
  configurable embedder, Ψ_t (t > 1) the model being trained.
* ``"tiers"``: the static pyramid. Training is cut into four equal stages; stage s draws from
  the tasks of tiers 1..s (cumulative, so foundations are not forgotten), ∝ prior_k.
* ``"uniform"``: ``P(k) ∝ prior_k`` throughout (the no-curriculum ablation).

``prior_k`` is the task's mixture ``weight``; by default its number of batches per epoch, so
that without a curriculum every instance is seen once per epoch in expectation. With every
weight set to 1 (``task_prior: uniform``) the pyramid formula is the paper's literally.

Everything here is a pure function of the scores, the step and the seed, so a resumed run
draws the same tasks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Literal, Sequence

import torch

from .._deprecation import moved_names
from ..directions import PYRAMID_TIERS

if TYPE_CHECKING:
    from .data import BadRow, BatchLoader, LoadedRow, TaskData

CurriculumMode = Literal["pyramid", "tiers", "uniform"]


def sigma_at(progress: float, sigma_min: float = 0.1, sigma_max: float = 1.0) -> float:
    """σ after ``progress`` ∈ [0, 1] of training: linear from ``sigma_min`` to ``sigma_max``."""
    progress = min(max(progress, 0.0), 1.0)
    return sigma_min + (sigma_max - sigma_min) * progress


def alignment_probabilities(scores: torch.Tensor, sigma: float, prior: torch.Tensor | None = None) -> torch.Tensor:
    """``P(k) ∝ prior_k · exp(R_k / σ)``, computed as a softmax for stability.

    Args:
        scores (`torch.Tensor` of shape `(K,)`): R_k, mean positive-pair cosine per task.
        sigma: temperature σ > 0.
        prior (`torch.Tensor` of shape `(K,)`, *optional*): non-negative task weights.

    Returns:
        `torch.Tensor` of shape `(K,)` (float64), summing to 1.
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    logits = scores.double() / sigma
    if prior is not None:
        logits = logits + prior.double().log()
    return torch.softmax(logits, dim=0)


def tier_probabilities(tiers: Sequence[int], stage: int, prior: torch.Tensor) -> torch.Tensor:
    """Static pyramid: ∝ prior over the tasks of tiers <= ``stage`` (the lowest tier present
    if no task is that low)."""
    tiers_t = torch.tensor(list(tiers))
    active = tiers_t <= max(stage, int(tiers_t.min()))
    weights = prior.double() * active.double()
    return weights / weights.sum()


@dataclass
class CurriculumScheduler:
    """Task probabilities per step, and the record of probes (saved in checkpoints as JSON).

    Args:
        mode: ``"pyramid"``, ``"tiers"`` or ``"uniform"``.
        task_names: one name per task (for logs).
        tiers: tier (1-4) per task.
        prior: prior weight per task.
        total_steps: optimizer steps of the whole run (with ``max_steps``, where it cuts training
            short), so that σ reaches σ_max and the static pyramid its top tier where training ends.
        steps_per_epoch: steps per epoch; the last epoch may be cut short by ``total_steps``.
        sigma_min, sigma_max: the σ range.
        sigma_schedule: ``"epoch"``: σ(t) constant within epoch t, linear over the epochs trained
            (the paper); ``"step"``: linear over optimizer steps.
    """

    mode: CurriculumMode
    task_names: list[str]
    tiers: list[int]
    prior: list[float]
    total_steps: int
    steps_per_epoch: int
    sigma_min: float = 0.1
    sigma_max: float = 1.0
    sigma_schedule: Literal["epoch", "step"] = "epoch"
    scores: dict[int, list[float]] = field(default_factory=dict)  # epoch -> R_k

    def __post_init__(self) -> None:
        if self.mode not in ("pyramid", "tiers", "uniform"):
            raise ValueError(f"curriculum must be 'pyramid', 'tiers' or 'uniform', got {self.mode!r}")
        if self.sigma_schedule not in ("epoch", "step"):
            raise ValueError(f"sigma_schedule must be 'epoch' or 'step', got {self.sigma_schedule!r}")
        if not (len(self.task_names) == len(self.tiers) == len(self.prior)):
            raise ValueError("task_names, tiers and prior must have one entry per task")
        if any(p < 0 for p in self.prior) or sum(self.prior) <= 0:
            raise ValueError(f"task priors must be non-negative and not all zero, got {self.prior}")
        if self.total_steps < 1 or self.steps_per_epoch < 1:
            raise ValueError(
                f"total_steps must be >= 1 and steps_per_epoch >= 1, got {self.total_steps} and {self.steps_per_epoch}"
            )

    @property
    def num_epochs(self) -> int:
        """Epochs trained, the last one possibly cut short by ``total_steps``."""
        return math.ceil(self.total_steps / self.steps_per_epoch)

    def needs_probe(self, epoch: int) -> bool:
        """Whether epoch ``epoch`` (0-based) still needs its alignment scores."""
        return self.mode == "pyramid" and epoch not in self.scores

    def set_scores(self, epoch: int, scores: Sequence[float]) -> None:
        if len(scores) != len(self.task_names):
            raise ValueError(f"expected {len(self.task_names)} scores, got {len(scores)}")
        self.scores[epoch] = [float(s) for s in scores]

    def sigma(self, step: int) -> float:
        """σ at global step ``step`` (0-based)."""
        if self.sigma_schedule == "epoch":
            epoch = step // self.steps_per_epoch
            progress = epoch / (self.num_epochs - 1) if self.num_epochs > 1 else 0.0
        else:
            progress = step / (self.total_steps - 1) if self.total_steps > 1 else 0.0
        return sigma_at(progress, self.sigma_min, self.sigma_max)

    def probabilities(self, step: int) -> torch.Tensor:
        """``(K,)`` task probabilities at global step ``step`` (0-based)."""
        prior = torch.tensor(self.prior, dtype=torch.float64)
        if self.mode == "uniform":
            return prior / prior.sum()
        if self.mode == "tiers":
            stage = 1 + min(len(PYRAMID_TIERS) - 1, int(len(PYRAMID_TIERS) * step / max(self.total_steps, 1)))
            return tier_probabilities(self.tiers, stage, prior)
        epoch = step // self.steps_per_epoch
        if epoch not in self.scores:
            raise RuntimeError(f"the pyramid curriculum has no alignment scores for epoch {epoch + 1}; probe first")
        return alignment_probabilities(torch.tensor(self.scores[epoch]), self.sigma(step), prior)

    def sample_task(self, step: int, seed: int) -> int:
        """The task of global step ``step``: drawn from `probabilities` with a generator seeded by
        ``(seed, step)`` only, so every process and every resumed run draws the same task."""
        generator = torch.Generator().manual_seed(seed * 1_000_003 + step)
        return int(torch.multinomial(self.probabilities(step).float(), 1, generator=generator))

    def report(self, step: int) -> dict[str, float]:
        """Scores, σ and probabilities at ``step``, flat, for loggers."""
        probs = self.probabilities(step)
        out = {f"curriculum/p/{name}": float(p) for name, p in zip(self.task_names, probs)}
        epoch = step // self.steps_per_epoch
        if self.mode == "pyramid":
            out.update({f"curriculum/R/{n}": s for n, s in zip(self.task_names, self.scores[epoch])})
            out["curriculum/sigma"] = self.sigma(step)
        return out

    def state_dict(self) -> dict:
        return {"scores": {str(k): v for k, v in self.scores.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.scores = {int(k): list(v) for k, v in state.get("scores", {}).items()}


@torch.no_grad()
def probe_alignment(
    embed: Callable[[list[dict]], torch.Tensor],
    loader: "BatchLoader",
    tasks: Sequence["TaskData"],
    *,
    num_pairs: int,
    batch_size: int,
    seed: int,
    epoch: int,
    process_index: int = 0,
    num_processes: int = 1,
    reduce_sum: Callable[[torch.Tensor], torch.Tensor] = lambda t: t,
    on_bad_row: Callable[["BadRow"], None] = lambda bad: None,
) -> list[float]:
    """R_k = mean cosine of ``num_pairs`` sampled positive pairs of every task (paper §3.3).

    The pairs of a task are drawn with a generator seeded by ``(seed, epoch, task)``; process p
    embeds every ``num_processes``-th of them and the sums are reduced, so the scores are
    the same on every process. Queries carry the task instruction, positives the candidate
    default, exactly as in training.

    Collective-safe: every process runs the same number of batches and, in each, the same two
    forward passes (under FSDP / ZeRO-3 each pass gathers the sharded parameters, so a process
    that skipped one would leave the others waiting). A batch where no process has a usable
    pair is skipped by all; a process without one while others have one embeds a *spare*
    pair of the task (the first usable one of the sample) and leaves it out of the score.

    Args:
        embed: tokenized items -> ``(n, D)`` L2-normalised embeddings (the prober, in eval mode).
        loader: reads and tokenizes rows (`BatchLoader.load_row`).
        reduce_sum: sums a tensor over processes (``lambda t: accelerator.reduce(t, "sum")``).
        on_bad_row: called with each row of this process's share that cannot be embedded (it
            is left out of R_k).

    Returns:
        One score per task, in ``tasks`` order.
    """
    from .data import BadRow

    sums = torch.zeros(len(tasks), 2, dtype=torch.float64)  # (K, [sum of cosines, pairs])
    for k, task in enumerate(tasks):
        rows = task.sample(num_pairs, seed=seed * 1_000_003 + 7919 * epoch + k)  # the same on every process
        mine = rows[process_index::num_processes]
        num_batches = math.ceil(math.ceil(len(rows) / num_processes) / batch_size)  # process 0 has the most
        spare = None
        for start in range(0, num_batches * batch_size, batch_size):
            loaded = []
            for row in mine[start : start + batch_size]:
                result = loader.load_row(row, task, with_negatives=False)
                if isinstance(result, BadRow):
                    on_bad_row(result)
                else:
                    loaded.append(result)
            if not float(reduce_sum(torch.tensor([float(len(loaded))], dtype=torch.float64)).sum()):
                continue  # no process has a pair in this batch: every process skips it
            if not loaded:
                spare = spare or _spare_pair(rows, loader, task, process_index)
            pairs = loaded or [spare]
            queries = embed([r.query for r in pairs])  # (b, D)
            positives = embed([r.positive for r in pairs])  # (b, D)
            if loaded:
                cosines = (queries.float() * positives.float()).sum(dim=-1)  # (b,)
                sums[k, 0] += float(cosines.sum())
                sums[k, 1] += len(loaded)
    device_sums = reduce_sum(sums.to(torch.float64))
    sums = device_sums.cpu()
    empty = [tasks[k].spec.task for k in range(len(tasks)) if sums[k, 1] == 0]
    if empty:
        raise RuntimeError(f"probing found no usable positive pair in task(s) {empty}")
    return (sums[:, 0] / sums[:, 1]).tolist()


def _spare_pair(rows: Sequence[dict], loader: "BatchLoader", task: "TaskData", process_index: int) -> "LoadedRow":
    """The first usable pair among ``rows`` (any process's share; their owners report the bad
    ones), for a process that must take part in a probe batch without a pair of its own."""
    from .data import BadRow

    for row in rows:
        result = loader.load_row(row, task, with_negatives=False)
        if not isinstance(result, BadRow):
            return result
    raise RuntimeError(
        f"process {process_index} must embed a probe pair of task {task.spec.task!r} while the others do, "
        "but could read none of the sampled rows (are the media readable on one process only?)"
    )


def entropy(probabilities: torch.Tensor) -> float:
    """Shannon entropy (nats) of a distribution, for logs: low early in the pyramid, high late."""
    p = probabilities[probabilities > 0].double()
    return float(-(p * p.log()).sum()) if len(p) else math.nan


__getattr__ = moved_names(
    __name__,
    {
        "default_tier": "modeling_gve.directions:tier",
    },
)

__all__ = [
    "CurriculumScheduler",
    "alignment_probabilities",
    "entropy",
    "probe_alignment",
    "sigma_at",
    "tier_probabilities",
]
