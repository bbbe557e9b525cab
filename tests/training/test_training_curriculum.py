"""The Modality Pyramid scheduler: P(k) ∝ prior·exp(R_k/σ), σ schedule, tiers, determinism, probing."""

import math

import pytest
import torch

from modeling_gve.training.curriculum import (
    CurriculumScheduler,
    alignment_probabilities,
    entropy,
    probe_alignment,
    sigma_at,
)

SCORES = [0.8, 0.5, 0.2]


def scheduler(mode="pyramid", **kw):
    values = dict(
        mode=mode, task_names=["T2T", "T2V", "TI2V"], tiers=[1, 3, 4], prior=[1.0, 1.0, 1.0],
        total_steps=30, steps_per_epoch=10,
    )  # fmt: skip
    values.update(kw)
    return CurriculumScheduler(**values)


def test_probabilities_are_the_papers_formula():
    for sigma in (0.1, 0.55, 1.0):
        weights = [math.exp(r / sigma) for r in SCORES]
        expected = [w / sum(weights) for w in weights]
        assert alignment_probabilities(torch.tensor(SCORES, dtype=torch.float64), sigma).tolist() == pytest.approx(expected, rel=1e-12)
    # a prior multiplies the weights
    prior = torch.tensor([1.0, 2.0, 4.0])
    weights = [p * math.exp(r / 0.1) for p, r in zip(prior.tolist(), SCORES)]
    got = alignment_probabilities(torch.tensor(SCORES, dtype=torch.float64), 0.1, prior).tolist()
    assert got == pytest.approx([w / sum(weights) for w in weights], rel=1e-12)
    # stable for large R/σ
    assert alignment_probabilities(torch.tensor([100.0, 0.0]), 0.1).tolist() == pytest.approx([1.0, 0.0])


def test_sigma_rises_linearly_per_epoch_and_per_step():
    assert sigma_at(0.0) == 0.1 and sigma_at(1.0) == 1.0 and sigma_at(0.5) == pytest.approx(0.55)
    per_epoch = scheduler()
    assert [per_epoch.sigma(s) for s in (0, 9, 10, 19, 20, 29)] == pytest.approx([0.1, 0.1, 0.55, 0.55, 1.0, 1.0])
    per_step = scheduler(sigma_schedule="step")
    assert [per_step.sigma(s) for s in (0, 29)] == pytest.approx([0.1, 1.0])
    assert per_step.sigma(10) == pytest.approx(0.1 + 0.9 * 10 / 29)


def test_pyramid_concentrates_early_and_spreads_late():
    sched = scheduler()
    for epoch in range(3):
        sched.set_scores(epoch, SCORES)
    early, late = sched.probabilities(0), sched.probabilities(25)
    assert early.argmax() == 0 and early[0] > 0.9  # the best-aligned task dominates at σ = 0.1
    assert entropy(late) > entropy(sched.probabilities(15)) > entropy(early)
    assert float(late.sum()) == pytest.approx(1.0)


def test_needs_scores_before_sampling():
    sched = scheduler()
    assert sched.needs_probe(0)
    with pytest.raises(RuntimeError, match="probe first"):
        sched.probabilities(0)
    sched.set_scores(0, SCORES)
    assert not sched.needs_probe(0) and sched.needs_probe(1)
    assert not scheduler("uniform").needs_probe(0)


def test_sampling_is_deterministic_and_follows_the_probabilities():
    sched = scheduler(sigma_min=0.5, sigma_max=0.5)
    sched.set_scores(0, SCORES)
    draws = [sched.sample_task(s, seed=42) for s in range(10)]
    assert draws == [sched.sample_task(s, seed=42) for s in range(10)]  # same seed, same tasks
    assert draws != [sched.sample_task(s, seed=7) for s in range(10)]
    # empirical frequencies over many steps of one epoch
    wide = scheduler(sigma_min=0.5, sigma_max=0.5, steps_per_epoch=3000, total_steps=3000)
    wide.set_scores(0, SCORES)
    counts = torch.bincount(torch.tensor([wide.sample_task(s, seed=1) for s in range(3000)]), minlength=3)
    expected = wide.probabilities(0) * 3000
    assert torch.all((counts - expected).abs() < 4 * expected.sqrt() + 1), (counts, expected)


def test_static_tiers_are_cumulative_stages():
    sched = scheduler("tiers", tiers=[1, 2, 3, 4], task_names=["a", "b", "c", "d"], prior=[1, 1, 1, 1],
                      total_steps=40, steps_per_epoch=40)  # fmt: skip
    assert sched.probabilities(0).tolist() == [1, 0, 0, 0]
    assert sched.probabilities(10).tolist() == pytest.approx([0.5, 0.5, 0, 0])
    assert sched.probabilities(25).tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3, 0])
    assert sched.probabilities(39).tolist() == pytest.approx([0.25] * 4)
    # no foundation task in the mixture: the lowest tier present starts
    top = scheduler("tiers", tiers=[3, 4], task_names=["c", "d"], prior=[1, 1], total_steps=8, steps_per_epoch=8)
    assert top.probabilities(0).tolist() == [1, 0]


def test_schedules_end_where_training_ends():
    """Training cut by max_steps inside its third epoch (25 steps of 10 per epoch): σ reaches σ_max
    in the last epoch trained and the static pyramid its top tier by the last step."""
    assert scheduler(total_steps=25).num_epochs == 3
    per_epoch = scheduler(total_steps=15)  # 2 epochs trained, the second one cut
    assert per_epoch.num_epochs == 2
    assert [per_epoch.sigma(s) for s in (0, 9, 10, 14)] == pytest.approx([0.1, 0.1, 1.0, 1.0])
    per_step = scheduler(total_steps=15, sigma_schedule="step")
    assert [per_step.sigma(s) for s in (0, 7, 14)] == pytest.approx([0.1, 0.55, 1.0])
    tiers = scheduler("tiers", tiers=[1, 2, 3, 4], task_names=["a", "b", "c", "d"], prior=[1, 1, 1, 1],
                      total_steps=8, steps_per_epoch=40)  # fmt: skip
    assert [int((tiers.probabilities(s) > 0).sum()) for s in range(8)] == [1, 1, 2, 2, 3, 3, 4, 4]
    with pytest.raises(ValueError, match="total_steps must be >= 1"):
        scheduler(total_steps=0)


def test_uniform_follows_the_prior():
    sched = scheduler("uniform", prior=[1.0, 3.0, 4.0])
    assert sched.probabilities(0).tolist() == pytest.approx([0.125, 0.375, 0.5])


def test_state_round_trip():
    sched = scheduler()
    sched.set_scores(0, SCORES)
    other = scheduler()
    other.load_state_dict(sched.state_dict())
    assert other.probabilities(3).tolist() == sched.probabilities(3).tolist()


class _Task:
    def __init__(self, name, pairs):
        self.pairs = pairs
        self.spec = type("Spec", (), {"task": name})()

    def sample(self, count, seed):
        return self.pairs[:count]


class _Loader:
    """Rows are (query vector, positive vector); 'bad' rows stand for unreadable media."""

    def load_row(self, row, task, with_negatives=True):
        from modeling_gve.training.data import BadRow, LoadedRow

        if row == "bad":
            return BadRow(task.spec.task, "x", "positive", "missing.mp4", "file not found")
        return LoadedRow("r", {"v": row[0]}, {"v": row[1]}, [], 0, 0, [])


def test_probe_scores_are_mean_positive_cosines():
    e = torch.eye(4)
    tilted = torch.nn.functional.normalize(e[0] + e[1], dim=0)
    tasks = [_Task("aligned", [(e[0], e[0])] * 3), _Task("half", [(e[0], tilted), (e[2], e[3]), "bad"])]
    bad = []
    scores = probe_alignment(
        lambda feats: torch.stack([f["v"] for f in feats]), _Loader(), tasks,
        num_pairs=3, batch_size=2, seed=0, epoch=0, on_bad_row=bad.append,
    )  # fmt: skip
    assert scores == pytest.approx([1.0, (math.sqrt(0.5) + 0.0) / 2])
    assert len(bad) == 1 and bad[0].reason == "file not found"
