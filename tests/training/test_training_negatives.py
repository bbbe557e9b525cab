"""Hard negatives re-mined by the curriculum's prober (``hard_negatives: prober``), and the
positive-aware rule they share with V-SynFlow's pre-mined negatives."""

import pytest
import torch
import torch.nn.functional as F

from modeling_gve.encoders import CachedEncoder
from modeling_gve.mining import positive_aware_topk
from modeling_gve.modeling_gve import EncodeResult
from modeling_gve.pairs import write_task
from modeling_gve.testing.media import make_image
from modeling_gve.training.data import BatchLoader, BatchPlanner, TaskData, TaskSpec, item_id
from modeling_gve.training.negatives import ProberMiner, candidate_pool, mine_period


class TableEncoder:
    """An `Encoder` whose vector of a text item is looked up in a table (counts what it embeds)."""

    dimension = 3

    def __init__(self, vectors):
        self.vectors = {k: F.normalize(torch.tensor(v, dtype=torch.float32), dim=0) for k, v in vectors.items()}
        self.num_encoded = 0

    def instruction_for(self, role, instruction):
        return instruction if role == "query" else None

    def cache_settings(self, instruction):
        return {"model": "table", "instruction": instruction}

    def describe(self):
        return {"encoder": "table"}

    def encode(self, inputs, instruction=None, batch_size=8, *, role="query", on_error="skip", **kwargs):
        self.num_encoded += len(inputs)
        texts = [x["text"] if isinstance(x, dict) else x for x in inputs]
        return EncodeResult(embeddings=torch.stack([self.vectors[t] for t in texts]), indices=list(range(len(texts))),
                            errors=[])  # fmt: skip


def test_positive_aware_rule_skips_near_positives_and_excluded_candidates():
    scores = torch.tensor([[0.90, 0.86, 0.50, 0.20], [-0.50, -0.51, -0.60, -0.90]])
    positive = torch.tensor([0.90, -0.50])
    exclude = torch.tensor([[True, False, False, False], [False] * 4])
    # row 0: under 0.95 x 0.9 = 0.855 (0.86 is likely a false negative); row 1: under -0.525
    assert positive_aware_topk(scores, positive, 2, margin=0.95, exclude=exclude) == [[2, 3], [2, 3]]
    assert positive_aware_topk(scores, positive, 2, margin=None, exclude=exclude) == [[1, 2], [0, 1]]
    assert positive_aware_topk(scores[:1], positive[:1], 9, margin=0.95, exclude=exclude[:1]) == [[2, 3]]


# Six T2T rows: query i ~ positive i; positive 1 is nearly query 0's positive (a likely false
# negative for row 0), positive 2 is a hard negative of row 0.
VECTORS = {
    "q0": [1.0, 0.0, 0.0], "p0": [1.0, 0.05, 0.0], "p1": [1.0, 0.1, 0.0], "p2": [1.0, 0.6, 0.0],
    "q1": [1.0, 0.1, 0.0], "q2": [0.0, 1.0, 0.0], "q3": [0.0, 0.0, 1.0], "p3": [0.0, 0.1, 1.0],
    "q4": [0.0, 1.0, 1.0], "p4": [0.0, 1.0, 0.9], "q5": [1.0, 1.0, 0.0], "p5": [0.9, 1.0, 0.0],
}  # fmt: skip


@pytest.fixture()
def t2t_task(tmp_path):
    rows = [{"id": f"r{i}", "query_text": f"q{i}", "pos_text": f"p{i}"} for i in range(6)]
    write_task(tmp_path / "ds", "T2T", rows)
    spec = TaskSpec(task="t2t", path="ds", name="T2T", batch_size=1, num_hard_negatives=1)
    return TaskData.open(spec, tmp_path, seed=0, cache_dir=str(tmp_path / "cache")), rows


def miner_for(encoder, **overrides):
    values = dict(barrier=lambda: None, margin=0.95, pool_size=100, chunk_size=4, batch_size=8, seed=0)
    values.update(overrides)
    return ProberMiner(encoder, **values)


def test_prober_mines_hard_negatives_under_the_margin_never_the_own_positive(t2t_task, tmp_path):
    task, rows = t2t_task
    encoder = CachedEncoder(TableEncoder(VECTORS), tmp_path / "probe")
    pool = candidate_pool(task, "T", size=100, seed=0)
    assert sorted(item["text"] for item in pool.items) == [f"p{i}" for i in range(6)]
    miner = miner_for(encoder)
    miner.embed_pool(pool, task)
    mined = miner.mine(task, pool, rows)
    assert set(mined) == {f"r{i}" for i in range(6)}
    # row 0: p0 is its own positive, p1 scores above 0.95 x its positive score: p2 is the hardest left
    assert mined["r0"] == [{"text": "p2"}]
    assert all(neg["text"] != f"p{row[1:]}" for row, negatives in mined.items() for neg in negatives)
    without_margin = miner_for(encoder, margin=None).mine(task, pool, rows)
    assert without_margin["r0"] == [{"text": "p1"}]


def test_each_process_mines_its_own_share_of_the_period(t2t_task, tmp_path):
    """Two processes, batch 1 per process: process 1 takes the second row of each global batch,
    in the data order the planner will use."""
    task, _ = t2t_task
    miner = miner_for(TableEncoder(VECTORS), process_index=1, num_processes=2)
    rows = miner.own_rows(task, (0, 0), draws=3, global_batch=2)
    planner = BatchPlanner([task], num_processes=2)
    planned = [planner.plan(step, 0).rows for step in range(3)]
    assert [r["id"] for r in rows] == [batch[1]["id"] for batch in planned]


def test_a_resumed_period_mines_the_same_negatives_from_the_probe_cache(t2t_task, tmp_path):
    """Resuming inside a probe period re-mines from the probe's cache: another encoder (the model has
    moved on since the probe) gives the same negatives, and embeds nothing."""
    task, _ = t2t_task
    first = mine_period(miner_for(CachedEncoder(TableEncoder(VECTORS), tmp_path / "probe")), [task], {},
                        {"t2t": (0, 0)}, [6], num_processes=1, probe_step=0)  # fmt: skip
    moved = TableEncoder({k: [v[2], v[0], v[1]] for k, v in VECTORS.items()})
    again = mine_period(miner_for(CachedEncoder(moved, tmp_path / "probe")), [task], {}, {"t2t": (0, 0)}, [6],
                        num_processes=1, probe_step=0)  # fmt: skip
    assert again == first and first["t2t"]["r0"] == [{"text": "p2"}]
    assert moved.num_encoded == 0


def test_mined_negatives_replace_the_column_when_rows_are_planned(t2t_task, tiny_ckpt):
    from modeling_gve import GVEProcessor

    task, _ = t2t_task
    planner = BatchPlanner([task], num_processes=1)
    first_id = planner.plan(0, 0).rows[0]["id"]
    planner.positions["t2t"] = (0, 0)
    planner.negatives = {"t2t": {first_id: [{"text": "a mined negative"}]}}
    plan = planner.plan(0, 0)
    processor = GVEProcessor.from_pretrained(tiny_ckpt)
    loaded = BatchLoader([task], processor, processor.sampling_config()).load_row(plan.rows[0], task)
    assert loaded.negative_ids == [item_id({"text": "a mined negative"})]
    assert len(loaded.negatives) == 1
    other = planner.plan(1, 0).rows[0]  # a row the prober did not mine for: no negatives, not the column's
    assert BatchLoader([task], processor, processor.sampling_config()).load_row(other, task).negatives == []


def test_a_negatives_corpus_is_the_pool_with_its_own_root(tmp_path):
    """``negatives_corpus`` names another dataset: its positives are the candidates, resolved inside
    its own root; a corpus with other candidate modalities is refused."""
    corpus = tmp_path / "corpus"
    for i in range(3):
        make_image(corpus / "media" / f"c{i}.png", size=(56, 56), seed=i)
    write_task(corpus, "T2I", [{"id": f"c{i}", "query_text": f"t{i}", "pos_image": f"media/c{i}.png"}
                               for i in range(3)])  # fmt: skip
    source = TaskData.open(TaskSpec(task="corpus", path="corpus", name="T2I"), tmp_path, seed=0,
                           cache_dir=str(tmp_path / "cache"))  # fmt: skip
    pool = candidate_pool(source, "I", size=10, seed=0)
    assert sorted(item["image"] for item in pool.items) == [str(corpus / "media" / f"c{i}.png") for i in range(3)]
    with pytest.raises(ValueError, match="has I candidates, the task needs V ones"):
        candidate_pool(source, "V", size=10, seed=0)
