# Copyright 2026 The GVE package authors. Apache-2.0.
"""The Modality Pyramid: which task each training batch comes from (paper §3.3, Figure 5).

Three schedules, chosen with ``curriculum``:

* ``"pyramid"`` (the paper's alignment-aware dynamic scheduling): at each probe a prober Ψ_t
  scores every task k by ``R_k = mean_i cos(Ψ_t(x_i), Ψ_t(y_i))`` over N_p sampled positive pairs
  (`prober.probe_alignment`); until the next probe tasks are drawn with
  ``P(k) ∝ prior_k · exp(R_k / σ)`` (``prior_k = 1`` by default: the paper's formula), σ rising
  linearly from σ_min = 0.1 to σ_max = 1.0 over the run, so training starts on well-aligned
  (foundational) tasks and spreads out. The paper probes at the start of every epoch;
  ``probe_every_steps`` adds probes within epochs.
* ``"tiers"``: the static pyramid. Training is cut into four equal stages; stage s draws from
  the tasks of tiers 1..s (cumulative, so foundations are not forgotten), ∝ prior_k.
* ``"uniform"``: ``P(k) ∝ prior_k`` throughout (the no-curriculum ablation; with
  ``task_prior: batches`` every instance is seen once per epoch in expectation).

σ: with ``sigma_schedule: epoch`` (the paper's σ(t), t the epoch) σ is constant between two probes
and rises linearly over the run's probes, from σ_min at the first to σ_max at the last; a run with
a single probe (one epoch, no ``probe_every_steps``) raises σ per step instead, so that σ goes from
σ_min to σ_max in every run. With ``sigma_schedule: step`` σ rises linearly per optimizer step.

Everything here is a pure function of the scores, the step and the seed, so a resumed run
draws the same tasks.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch

from .._deprecation import moved_names, warn_moved
from ..directions import PYRAMID_TIERS

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
    """Task probabilities per step, the probe schedule, and the record of probes (saved in
    checkpoints as JSON).

    Args:
        mode: ``"pyramid"``, ``"tiers"`` or ``"uniform"``.
        task_names: one name per task (for logs).
        tiers: tier (1-4) per task.
        prior: prior weight per task.
        total_steps: optimizer steps of the whole run (with ``max_steps``, where it cuts training
            short), so that σ reaches σ_max and the static pyramid its top tier where training ends.
        steps_per_epoch: steps per epoch; the last epoch may be cut short by ``total_steps``.
        sigma_min, sigma_max: the σ range.
        sigma_schedule: ``"epoch"``: σ constant between probes, linear over the run's probes (the
            paper); ``"step"``: linear over optimizer steps (see the module docstring).
        probe_every_steps: probe also every this many steps (``None``: at epoch starts only).
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
    probe_every_steps: int | None = None
    scores: dict[int, list[float]] = field(default_factory=dict)  # probe step -> R_k

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
        if self.probe_every_steps is not None and self.probe_every_steps < 1:
            raise ValueError(f"probe_every_steps must be >= 1 or None, got {self.probe_every_steps}")
        starts = set(range(0, self.total_steps, self.steps_per_epoch))
        if self.probe_every_steps:
            starts |= set(range(0, self.total_steps, self.probe_every_steps))
        self._probe_steps = sorted(starts)

    @property
    def num_epochs(self) -> int:
        """Epochs trained, the last one possibly cut short by ``total_steps``."""
        return math.ceil(self.total_steps / self.steps_per_epoch)

    @property
    def probe_steps(self) -> list[int]:
        """The steps that start a probe period: every epoch start and every ``probe_every_steps``."""
        return list(self._probe_steps)

    def period(self, step: int) -> tuple[int, int]:
        """``(start, end)`` of the probe period holding global step ``step``: the steps drawn with
        the scores of the probe made at ``start``."""
        index = bisect.bisect_right(self._probe_steps, step) - 1
        end = self._probe_steps[index + 1] if index + 1 < len(self._probe_steps) else self.total_steps
        return self._probe_steps[index], end

    def needs_probe(self, step: int) -> bool:
        """Whether the period of ``step`` still needs its alignment scores."""
        return self.mode == "pyramid" and self.period(step)[0] not in self.scores

    def set_scores(self, step: int, scores: Sequence[float]) -> None:
        """Record the probe of the period starting at ``step``."""
        if len(scores) != len(self.task_names):
            raise ValueError(f"expected {len(self.task_names)} scores, got {len(scores)}")
        self.scores[self.period(step)[0]] = [float(s) for s in scores]

    def sigma(self, step: int) -> float:
        """σ at global step ``step`` (0-based)."""
        if self.sigma_schedule == "step" or len(self._probe_steps) == 1:
            progress = step / (self.total_steps - 1) if self.total_steps > 1 else 0.0
        else:
            progress = self._probe_steps.index(self.period(step)[0]) / (len(self._probe_steps) - 1)
        return sigma_at(progress, self.sigma_min, self.sigma_max)

    def probabilities(self, step: int) -> torch.Tensor:
        """``(K,)`` task probabilities at global step ``step`` (0-based)."""
        prior = torch.tensor(self.prior, dtype=torch.float64)
        if self.mode == "uniform":
            return prior / prior.sum()
        if self.mode == "tiers":
            stage = 1 + min(len(PYRAMID_TIERS) - 1, int(len(PYRAMID_TIERS) * step / max(self.total_steps, 1)))
            return tier_probabilities(self.tiers, stage, prior)
        start = self.period(step)[0]
        if start not in self.scores:
            raise RuntimeError(f"the pyramid curriculum has no alignment scores for step {start}; probe first")
        return alignment_probabilities(torch.tensor(self.scores[start]), self.sigma(step), prior)

    def sample_task(self, step: int, seed: int) -> int:
        """The task of global step ``step``: drawn from `probabilities` with a generator seeded by
        ``(seed, step)`` only, so every process and every resumed run draws the same task."""
        generator = torch.Generator().manual_seed(seed * 1_000_003 + step)
        return int(torch.multinomial(self.probabilities(step).float(), 1, generator=generator))

    def report(self, step: int) -> dict[str, float]:
        """Scores, σ and probabilities at ``step``, flat, for loggers (``sigma``: σ at ``step``)."""
        probs = self.probabilities(step)
        out = {f"curriculum/p/{name}": float(p) for name, p in zip(self.task_names, probs)}
        if self.mode == "pyramid":
            scores = self.scores[self.period(step)[0]]
            out.update({f"curriculum/R/{n}": s for n, s in zip(self.task_names, scores)})
            out["sigma"] = self.sigma(step)
        return out

    def state_dict(self) -> dict:
        return {"scores_by_step": {str(k): v for k, v in self.scores.items()}}

    def load_state_dict(self, state: dict) -> None:
        if "scores_by_step" in state:
            self.scores = {int(k): list(v) for k, v in state["scores_by_step"].items()}
        else:  # written before probes were keyed by step: one probe per epoch
            self.scores = {int(k) * self.steps_per_epoch: list(v) for k, v in state.get("scores", {}).items()}


def entropy(probabilities: torch.Tensor) -> float:
    """Shannon entropy (nats) of a distribution, for logs: low early in the pyramid, high late."""
    p = probabilities[probabilities > 0].double()
    return float(-(p * p.log()).sum()) if len(p) else math.nan


def probe_alignment(embed, loader, tasks, *, num_pairs, batch_size, seed, epoch, process_index=0, num_processes=1,
                    reduce_sum=lambda t: t, on_bad_row=lambda bad: None):  # fmt: skip
    """Deprecated: `modeling_gve.training.prober.probe_alignment` with a `prober.ModelPairScorer`."""
    from .prober import ModelPairScorer
    from .prober import probe_alignment as probe

    warn_moved(f"{__name__}.probe_alignment", "modeling_gve.training.prober.probe_alignment")
    scorer = ModelPairScorer(embed, loader, batch_size=batch_size, process_index=process_index,
                             num_processes=num_processes, reduce_sum=reduce_sum, on_bad_row=on_bad_row)  # fmt: skip
    return probe(scorer, tasks, num_pairs=num_pairs, seed=seed, probe_step=epoch, reduce_sum=reduce_sum)


__getattr__ = moved_names(__name__, {"default_tier": "modeling_gve.directions:tier"})

__all__ = [
    "CurriculumScheduler",
    "alignment_probabilities",
    "entropy",
    "sigma_at",
    "tier_probabilities",
]
