"""UVRB metrics and scoring against independent references.

- metrics vs sentence-transformers' InformationRetrievalEvaluator.compute_metrics (its own
  accuracy@k / precision@1 / MRR@10 / nDCG@10 code) on random rankings, one and several
  relevant items per query;
- chunked top-k vs the full similarity matrix + argsort;
- per-query candidate ranking vs a plain loop.
"""

import random

import pytest
import torch

from modeling_gve.uvrb.metrics import METRIC_NAMES, query_metrics, retrieval_metrics, task_metrics
from modeling_gve.uvrb.scoring import chunked_topk, rank_candidate_lists, segment_max_topk


def _random_case(seed: int, num_queries: int, num_corpus: int, max_relevant: int):
    rng = random.Random(seed)
    corpus = [f"doc{i}" for i in range(num_corpus)]
    rankings, relevant = [], []
    for _ in range(num_queries):
        rankings.append(rng.sample(corpus, num_corpus))
        relevant.append(set(rng.sample(corpus, rng.randint(1, max_relevant))))
    return corpus, rankings, relevant


def _reference(corpus, rankings, relevant) -> dict:
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    qids = [f"q{i}" for i in range(len(rankings))]
    evaluator = InformationRetrievalEvaluator(
        queries={q: "unused" for q in qids},
        corpus={c: "unused" for c in corpus},
        relevant_docs=dict(zip(qids, relevant)),
        accuracy_at_k=[1, 5, 10],
        precision_recall_at_k=[1],
        mrr_at_k=[10],
        ndcg_at_k=[10],
        map_at_k=[10],
        write_csv=False,
    )
    # Scores that reproduce each ranking exactly (ST sorts by score, then corpus id).
    results = [[{"corpus_id": c, "score": float(len(r) - rank)} for rank, c in enumerate(r)] for r in rankings]
    scores = evaluator.compute_metrics(results)
    return {
        "R@1": scores["accuracy@k"][1],
        "R@5": scores["accuracy@k"][5],
        "R@10": scores["accuracy@k"][10],
        "P@1": scores["precision@k"][1],
        "MRR@10": scores["mrr@k"][10],
        "nDCG@10": scores["ndcg@k"][10],
    }


@pytest.mark.parametrize("max_relevant", [1, 4], ids=["one-relevant", "several-relevant"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_match_sentence_transformers_evaluator(seed, max_relevant):
    corpus, rankings, relevant = _random_case(seed, num_queries=200, num_corpus=25, max_relevant=max_relevant)
    ours = retrieval_metrics(rankings, relevant)
    reference = _reference(corpus, rankings, relevant)
    for name in METRIC_NAMES:
        assert ours[name] == pytest.approx(reference[name], abs=1e-12), name
    # not degenerate: the random rankings give values strictly between 0 and 1
    assert all(0.0 < ours[name] < 1.0 for name in METRIC_NAMES)


def test_query_metrics_by_hand():
    # first relevant at rank 3, two relevant items in total, the second one at rank 12 (outside the top 10)
    ranking = ["a", "b", "r1"] + [f"x{i}" for i in range(8)] + ["r2"]
    m = query_metrics(ranking, {"r1", "r2"})
    assert (m["R@1"], m["R@5"], m["R@10"], m["P@1"]) == (0.0, 1.0, 1.0, 0.0)
    assert m["MRR@10"] == pytest.approx(1 / 3)
    assert m["nDCG@10"] == pytest.approx((1 / 2.0) / (1 + 1 / 1.584962500721156))
    assert query_metrics(["z", "y"], {"q"}) == dict.fromkeys(METRIC_NAMES, 0.0)  # no relevant item ranked


def test_task_main_score_uses_the_paper_metric():
    rankings = [["b"] + [f"x{i}" for i in range(8)] + ["a"], ["a", "b"]]  # query 0: relevant at rank 10
    relevant = [{"a"}, {"a"}]
    assert task_metrics("MSRVTT", rankings, relevant)["main_score"] == 0.5  # R@1
    assert task_metrics("CMRB", rankings, relevant)["main_score"] == 1.0  # R@10
    assert task_metrics("MS-TI", rankings, relevant)["main_score"] == 0.5  # P@1


def test_metric_input_errors():
    with pytest.raises(ValueError, match="2 rankings for 1"):
        retrieval_metrics([["a"], ["b"]], [{"a"}])
    with pytest.raises(ValueError, match="query 1 has no relevant"):
        retrieval_metrics([["a"], ["b"]], [{"a"}, set()])
    with pytest.raises(ValueError, match="repeats"):
        retrieval_metrics([["a", "a"]], [{"a"}])
    with pytest.raises(TypeError, match="lists of ids"):
        retrieval_metrics(["ab"], [{"a"}])
    with pytest.raises(KeyError, match="did you mean 'PEV-K'"):
        task_metrics("PEVK", [["a"]], [{"a"}])


@pytest.mark.parametrize(
    "num_queries,num_candidates,budget,block",
    [(37, 101, 4 * 10 * 16, 16), (5, 3, 1 << 20, 65536), (64, 500, 4 * 500 * 64, 65536)],
    ids=["many-blocks", "fewer-candidates-than-k", "one-block"],
)
def test_chunked_topk_matches_full_matrix(num_queries, num_candidates, budget, block):
    g = torch.Generator().manual_seed(num_queries)
    queries = torch.nn.functional.normalize(torch.randn(num_queries, 24, generator=g), dim=-1)
    candidates = torch.nn.functional.normalize(torch.randn(num_candidates, 24, generator=g), dim=-1)
    scores, indices = chunked_topk(queries, candidates, 10, memory_budget=budget, candidate_block=block)
    full = queries @ candidates.T
    expected = full.argsort(dim=1, descending=True)[:, :10]
    assert torch.equal(indices, expected)
    assert torch.allclose(scores, full.gather(1, expected))


@pytest.mark.parametrize("budget, block", [(4 * 8 * 20, 7), (1 << 20, 65536)], ids=["many-blocks", "one-block"])
def test_segment_max_topk_is_the_best_segment_of_each_video(budget, block):
    """Videos of 1 to 6 segments (one with none: ranked last) against a loop over the full matrix."""
    g = torch.Generator().manual_seed(3)
    counts = [int(c) for c in torch.randint(1, 7, (12,), generator=g)] + [0]
    owners = torch.tensor([video for video, count in enumerate(counts) for _ in range(count)])
    segments = torch.nn.functional.normalize(torch.randn(len(owners), 16, generator=g), dim=-1)
    queries = torch.nn.functional.normalize(torch.randn(9, 16, generator=g), dim=-1)
    scores, indices = segment_max_topk(queries, segments, owners, len(counts), 10, memory_budget=budget,
                                       candidate_block=block)  # fmt: skip
    full = queries @ segments.T  # (Q, S)
    best = torch.stack(
        [full[:, owners == v].max(dim=1).values if counts[v] else torch.full((9,), float("-inf")) for v in range(13)],
        dim=1,
    )  # (Q, V)
    expected = best.argsort(dim=1, descending=True, stable=True)[:, :10]
    assert torch.equal(indices, expected) and torch.allclose(scores, best.gather(1, expected))
    everything = segment_max_topk(queries, segments, owners, len(counts), 13)[1]
    assert (everything[:, -1] == 12).all()  # the video without segments is last
    with pytest.raises(ValueError, match="one owner per segment"):
        segment_max_topk(queries, segments, owners[:-1], len(counts), 10)


def test_rank_candidate_lists_matches_a_loop():
    g = torch.Generator().manual_seed(0)
    queries, candidates = torch.randn(9, 8, generator=g), torch.randn(30, 8, generator=g)
    rng = random.Random(0)
    lists = [rng.sample(range(30), rng.randint(1, 12)) for _ in range(9)]
    ranked = rank_candidate_lists(queries, candidates, lists, query_block=4)
    for q, (items, got) in enumerate(zip(lists, ranked)):
        expected = sorted(items, key=lambda c: -float(queries[q] @ candidates[c]))
        assert got == expected
