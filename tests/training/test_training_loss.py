"""The symmetric InfoNCE against a per-pair reference written from the paper's Eq. (1)."""

import math

import pytest
import torch
import torch.nn.functional as F

from modeling_gve.training.loss import InfoNCELoss, loss_inputs


def reference_loss(q, p, negs, tau, *, skip=lambda i, kind, j: False, own_only=True):
    """½ (L_q→c + L_c→q) averaged over rows, one scalar exp at a time (float64).

    ``negs[i]`` is the list of row i's hard negatives; ``skip(i, kind, j)`` drops a
    candidate ("pos" j, "neg" (owner, slot) or "query" j) from row i's denominator.
    """
    n = len(q)
    cos = lambda a, b: float(torch.dot(a.double(), b.double()))
    total = 0.0
    for i in range(n):
        num = math.exp(cos(q[i], p[i]) / tau)
        den = sum(math.exp(cos(q[i], p[j]) / tau) for j in range(n) if j == i or not skip(i, "pos", j))
        owners = [i] if own_only else range(n)
        den += sum(
            math.exp(cos(q[i], negs[o][s]) / tau) for o in owners for s in range(len(negs[o]))
            if not skip(i, "neg", (o, s))
        )  # fmt: skip
        forward = -math.log(num / den)
        num_r = math.exp(cos(p[i], q[i]) / tau)
        den_r = sum(math.exp(cos(p[i], q[j]) / tau) for j in range(n) if j == i or not skip(i, "query", j))
        total += 0.5 * (forward - math.log(num_r / den_r))
    return total / n


def embeddings(n, d=8, h=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    unit = lambda *s: F.normalize(torch.randn(*s, generator=g, dtype=torch.float64), dim=-1)
    return unit(n, d), unit(n, d), unit(n, h, d)


@pytest.mark.parametrize("tau", [0.03, 0.5])
def test_matches_per_pair_reference_with_own_hard_negatives(tau):
    q, p, negs = embeddings(5)
    out = InfoNCELoss(tau, mask_duplicates=False)(q, p, negs)
    expected = reference_loss(q, p, [list(negs[i]) for i in range(5)], tau)
    assert float(out.loss) == pytest.approx(expected, rel=1e-9)


def test_batch_scope_uses_every_hard_negative():
    q, p, negs = embeddings(4)
    out = InfoNCELoss(0.1, hard_negative_scope="batch", mask_duplicates=False)(q, p, negs)
    expected = reference_loss(q, p, [list(negs[i]) for i in range(4)], 0.1, own_only=False)
    assert float(out.loss) == pytest.approx(expected, rel=1e-9)
    assert float(out.loss) != pytest.approx(float(InfoNCELoss(0.1, mask_duplicates=False)(q, p, negs).loss))


def test_in_batch_only_and_gradients_match_autograd_of_reference():
    q, p, _ = embeddings(4)
    q.requires_grad_(True)
    out = InfoNCELoss(0.05, mask_duplicates=False)(q, p)
    (grad,) = torch.autograd.grad(out.loss, q)
    # the reference written with plain tensor ops, differentiated by autograd
    s = q @ p.T / 0.05
    ref = 0.5 * (F.cross_entropy(s, torch.arange(4)) + F.cross_entropy(s.T, torch.arange(4)))
    (ref_grad,) = torch.autograd.grad(ref, q)
    assert float(out.loss.detach()) == pytest.approx(float(ref.detach()), rel=1e-12)
    assert torch.allclose(grad, ref_grad, atol=1e-12)


def duplicate_rule(query_ids, pos_ids):
    """Row j's query or positive is no negative of row i when the two rows share their query or
    their positive (in both directions)."""

    def skip(i, kind, j):
        if kind == "neg":
            return False
        return bool(query_ids[j] == query_ids[i] or pos_ids[j] == pos_ids[i])

    return skip


@pytest.mark.parametrize("case", ["one_query_two_positives", "two_queries_one_positive"])
def test_duplicates_are_masked_in_both_directions(case):
    """One query with two positives (an MSMARCO query with two passages): neither row may push its
    query away from the other's positive, nor (reverse) a positive away from the identical query.
    Two queries sharing one positive (two frames of one video in I2V): the video is not pushed away
    from its second frame (reverse) nor a frame from the shared video (forward)."""
    q, p, negs = embeddings(4)
    query_ids, pos_ids = torch.tensor([20, 21, 22, 23]), torch.tensor([10, 11, 12, 13])
    if case == "one_query_two_positives":
        q[1], query_ids[1] = q[0], 20
    else:
        p[1], pos_ids[1] = p[0], 10
    neg_ids = torch.tensor([[30, 31], [32, 33], [34, 35], [36, 37]])
    out = InfoNCELoss(0.1)(q, p, negs, query_ids=query_ids, positive_ids=pos_ids, negative_ids=neg_ids)
    expected = reference_loss(q, p, [list(negs[i]) for i in range(4)], 0.1, skip=duplicate_rule(query_ids, pos_ids))
    assert float(out.loss) == pytest.approx(expected, rel=1e-9)
    assert out.num_masked == 4  # rows 0 and 1 mask each other: 2 in the forward direction, 2 in the reverse
    unmasked = InfoNCELoss(0.1, mask_duplicates=False)(q, p, negs)
    assert float(unmasked.loss) > float(out.loss)


def test_hard_negatives_without_negative_ids_are_not_masked():
    """Item ids for queries and positives only: duplicate rows are masked, the negatives (whose
    identity is unknown) are all kept; this raised AttributeError before."""
    q, p, negs = embeddings(3)
    p[2] = p[0]
    pos_ids, query_ids = torch.tensor([1, 2, 1]), torch.tensor([7, 8, 9])
    out = InfoNCELoss(0.1)(q, p, negs, query_ids=query_ids, positive_ids=pos_ids)
    expected = reference_loss(q, p, [list(negs[i]) for i in range(3)], 0.1, skip=duplicate_rule(query_ids, pos_ids))
    assert float(out.loss) == pytest.approx(expected, rel=1e-9)
    assert out.num_masked == 4


def test_hard_negative_equal_to_the_positive_is_masked():
    q, p, negs = embeddings(3)
    negs[1, 0] = p[1]
    pos_ids, neg_ids = torch.tensor([1, 2, 3]), torch.tensor([[4, 5], [2, 6], [7, 8]])
    out = InfoNCELoss(0.1)(q, p, negs, positive_ids=pos_ids, negative_ids=neg_ids, query_ids=torch.tensor([9, 10, 11]))
    expected = reference_loss(
        q, p, [list(negs[i]) for i in range(3)], 0.1, skip=lambda i, kind, j: kind == "neg" and j == (1, 0)
    )
    assert float(out.loss) == pytest.approx(expected, rel=1e-9)


def test_false_negative_margin_masks_candidates_above_the_positive():
    q, p, negs = embeddings(4, seed=3)
    margin = 0.05
    out = InfoNCELoss(0.1, mask_duplicates=False, false_negative_margin=margin)(q, p, negs)
    cos = lambda a, b: float(torch.dot(a, b))

    def skip(i, kind, j):
        if kind == "pos":
            return cos(q[i], p[j]) > cos(q[i], p[i]) + margin
        if kind == "neg":
            return cos(q[i], negs[j[0]][j[1]]) > cos(q[i], p[i]) + margin
        return cos(p[i], q[j]) > cos(p[i], q[i]) + margin

    masked = sum(skip(i, k, j) for i in range(4) for k, js in (("pos", range(4)), ("query", range(4))) for j in js
                 if j != i) + sum(skip(i, "neg", (i, s)) for i in range(4) for s in range(2))  # fmt: skip
    assert masked > 0, "the fixture must contain a false negative for this test to mean anything"
    expected = reference_loss(q, p, [list(negs[i]) for i in range(4)], 0.1, skip=skip)
    assert float(out.loss) == pytest.approx(expected, rel=1e-9)


def test_padding_rows_and_missing_negatives_do_not_count():
    q, p, negs = embeddings(5)
    valid = torch.tensor([True, True, True, False, False])
    negative_valid = torch.tensor([[True, False], [True, True], [False, False], [True, True], [True, True]])
    out = InfoNCELoss(0.1, mask_duplicates=False)(q, p, negs, valid=valid, negative_valid=negative_valid)
    kept = [[negs[0][0]], [negs[1][0], negs[1][1]], []]
    expected = reference_loss(q[:3], p[:3], kept, 0.1)
    assert float(out.loss) == pytest.approx(expected, rel=1e-9)
    assert out.num_queries == 3


def test_metrics_accuracy_and_margin():
    q = F.normalize(torch.eye(3, 4, dtype=torch.float64), dim=-1)
    p = q.clone()
    negs = torch.stack([F.normalize(q[i] + 0.5 * q[(i + 1) % 3], dim=-1) for i in range(3)]).unsqueeze(1)
    out = InfoNCELoss(0.1, mask_duplicates=False)(q, p, negs)
    assert out.accuracy == 1.0 and out.positive_score == pytest.approx(1.0)
    assert out.hard_negative_margin == pytest.approx(1 - 1 / math.sqrt(1.25))


def test_rejects_bad_options():
    with pytest.raises(ValueError, match="temperature"):
        InfoNCELoss(0.0)
    with pytest.raises(ValueError, match="'own' or 'batch'"):
        InfoNCELoss(0.03, hard_negative_scope="all")


def test_loss_inputs_scatter_negatives_with_a_mask():
    """A batch's embeddings by role -> `LossInputs`: negatives scattered into (n, h, D) slots, missing ones masked."""
    from modeling_gve.training.data import LoadedRow, TrainBatch

    counts = [2, 0, 1]
    rows = [LoadedRow(str(i), {}, {}, [{}] * c, i, 10 + i, [20 + j for j in range(c)]) for i, c in enumerate(counts)]
    batch = TrainBatch(step=0, task_index=0, task="t", rows=rows, bad=[], num_hard_negatives=2)
    assert len(batch.groups()["candidates"]) == 3 + 3
    candidates = torch.arange(6, dtype=torch.float32).unsqueeze(1).repeat(1, 4)  # row k = k
    out = loss_inputs(batch.rows, batch.num_hard_negatives, {"queries": torch.zeros(3, 4), "candidates": candidates})
    assert out.positives[:, 0].tolist() == [0, 1, 2]
    assert out.negatives[:, :, 0].tolist() == [[3, 4], [0, 0], [5, 0]]
    assert out.negative_valid.tolist() == [[True, True], [False, False], [True, False]]
    assert out.negative_ids.tolist() == [[20, 21], [-1, -1], [20, -1]]
    assert out.query_ids.tolist() == [0, 1, 2] and out.positive_ids.tolist() == [10, 11, 12]
