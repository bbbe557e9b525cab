"""The Modality Pyramid scheduler: P(k) ∝ prior·exp(R_k/σ), σ schedule, probe periods, tiers,
determinism, probing."""

import math

import pytest
import torch

from modeling_gve.training.curriculum import CurriculumScheduler, alignment_probabilities, entropy, sigma_at
from modeling_gve.training.prober import EncoderPairScorer, ModelPairScorer, probe_alignment

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
    for step in (0, 10, 20):
        sched.set_scores(step, SCORES)
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
    assert not sched.needs_probe(0) and not sched.needs_probe(9) and sched.needs_probe(10)
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
    older = scheduler()  # a checkpoint written when probes were keyed by epoch
    older.load_state_dict({"scores": {"0": SCORES, "1": [0.1, 0.2, 0.3]}})
    assert older.scores == {0: SCORES, 10: [0.1, 0.2, 0.3]}


def test_sigma_rises_within_a_one_epoch_run():
    """One epoch (or max_steps within one epoch) and one probe: σ still goes from σ_min at the
    first step to σ_max at the last (it stayed at σ_min before), and P(k) spreads out with it."""
    sched = scheduler(total_steps=30, steps_per_epoch=30)
    assert sched.probe_steps == [0]
    assert [sched.sigma(s) for s in (0, 29)] == pytest.approx([0.1, 1.0])
    assert sched.sigma(15) == pytest.approx(0.1 + 0.9 * 15 / 29)
    sched.set_scores(0, SCORES)
    assert entropy(sched.probabilities(29)) > entropy(sched.probabilities(0))


def test_probe_every_steps_adds_probe_periods():
    """Probes at every epoch start and every ``probe_every_steps``; σ is constant within a period
    and linear over the periods; each period draws with its own probe's scores."""
    sched = scheduler(total_steps=20, steps_per_epoch=10, probe_every_steps=4)
    assert sched.probe_steps == [0, 4, 8, 10, 12, 16]
    assert [sched.period(s) for s in (0, 3, 4, 9, 10, 19)] == [(0, 4), (0, 4), (4, 8), (8, 10), (10, 12), (16, 20)]
    assert [sched.sigma(s) for s in (0, 3, 4, 10, 19)] == pytest.approx([0.1, 0.1, 0.28, 0.64, 1.0])
    sched.set_scores(0, SCORES)
    sched.set_scores(5, [0.2, 0.5, 0.8])  # recorded for the period starting at 4
    assert sorted(sched.scores) == [0, 4] and sched.needs_probe(8) and not sched.needs_probe(7)
    assert int(sched.probabilities(3).argmax()) == 0 and int(sched.probabilities(7).argmax()) == 2
    with pytest.raises(ValueError, match="probe_every_steps must be >= 1"):
        scheduler(probe_every_steps=0)


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
    scorer = ModelPairScorer(lambda feats: torch.stack([f["v"] for f in feats]), _Loader(), batch_size=2,
                             on_bad_row=bad.append)  # fmt: skip
    scores = probe_alignment(scorer, tasks, num_pairs=3, seed=0)
    assert scores == pytest.approx([1.0, (math.sqrt(0.5) + 0.0) / 2])
    assert len(bad) == 1 and bad[0].reason == "file not found"


class _Encoder:
    """An `Encoder` whose vector of an item is given by a table; records the prompts it was asked for."""

    def __init__(self, vectors, prompts):
        self.vectors, self.prompts, self.calls = vectors, prompts, []

    def encode(self, inputs, instruction=None, batch_size=8, *, role="query", on_error="skip"):
        from modeling_gve import GVEInputError
        from modeling_gve.modeling_gve import EncodeResult, SkippedInput

        self.calls.append((role, instruction))
        good = [i for i, x in enumerate(inputs) if x["text"] in self.vectors]
        errors = [SkippedInput(i, x["text"], "unreadable") for i, x in enumerate(inputs) if i not in good]
        if errors and on_error == "raise":
            raise GVEInputError(errors[0].input, errors[0].reason)
        vectors = torch.stack([self.vectors[inputs[i]["text"]] for i in good]) if good else torch.empty(0, 4)
        return EncodeResult(embeddings=vectors, indices=good, errors=errors)


def test_an_encoder_prober_scores_its_share_and_reports_what_it_could_not_embed(tmp_path):
    """Any `Encoder` can probe (a SentenceTransformer, another GVE): queries are embedded with the
    task instruction as queries, positives as documents; the process's share only; an item the
    encoder skips leaves its pair out and is reported as a bad row of its field."""
    from modeling_gve.pairs import write_task
    from modeling_gve.training.data import TaskData, TaskSpec

    e = torch.eye(4)
    rows = [{"id": f"r{i}", "query_text": f"q{i}", "pos_text": f"p{i}"} for i in range(4)]
    write_task(tmp_path / "ds", "T2T", rows)
    task = TaskData.open(TaskSpec(task="t", path="ds", name="T2T"), tmp_path, seed=0, cache_dir=str(tmp_path / "c"))
    vectors = {"q0": e[0], "p0": e[0], "q1": e[1], "p1": e[2], "q2": e[3], "q3": e[3], "p3": e[3]}  # p2 unreadable
    encoder, bad = _Encoder(vectors, {}), []
    scorers = [EncoderPairScorer(encoder, batch_size=8, process_index=p, num_processes=2, on_bad_row=bad.append)
               for p in (0, 1)]  # fmt: skip
    sums = [scorer(task, rows) for scorer in scorers]
    assert sums == [(1.0, 1), (0.0 + 1.0, 2)]  # process 0: r0 (1.0), r2 skipped; process 1: r1 (0.0), r3 (1.0)
    assert [(b.row_id, b.field, b.reason) for b in bad] == [("r2", "positive", "unreadable")]
    assert set(encoder.calls) == {("query", task.instruction), ("document", task.instruction)}
