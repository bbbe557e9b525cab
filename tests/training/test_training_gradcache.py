"""GradCache: chunked back-propagation gives the gradients of the unchunked batch."""

import contextlib

import pytest
import torch
from training_helpers import batch_of, t2i_rows, tiny_lora_model, trainable_grads

from modeling_gve.training.gradcache import chunks
from modeling_gve.training.loss import InfoNCELoss, loss_inputs
from modeling_gve.training.trainer import contrastive_backward, make_embed


def _grads(model, processor, rows, chunk_size):
    model.zero_grad(set_to_none=True)
    embed = make_embed(model, processor, torch.device("cpu"), torch.float32)
    loss_fn = InfoNCELoss(0.03, gather_across_processes=False)
    output = contrastive_backward(
        embed, batch_of(rows), loss_fn, backward=lambda loss: loss.backward(), chunk_size=chunk_size
    )
    return float(output.loss), trainable_grads(model)


@pytest.fixture(scope="module")
def setup(tiny_ckpt, tmp_path_factory):
    model, processor = tiny_lora_model(tiny_ckpt, seed=1)
    rows = t2i_rows(processor, tmp_path_factory.mktemp("gc-media"), n=6)
    return model, processor, rows


@pytest.mark.parametrize("chunk_size", [1, 4])
def test_chunked_gradients_equal_unchunked(setup, chunk_size):
    model, processor, rows = setup
    loss, reference = _grads(model, processor, rows, None)
    chunked_loss, grads = _grads(model, processor, rows, chunk_size)
    assert chunked_loss == pytest.approx(loss, abs=1e-5)
    scale = max(float(g.abs().max()) for g in reference.values())
    assert scale > 1.0
    for name in reference:
        assert torch.allclose(grads[name], reference[name], atol=1e-5 * scale), name


def test_gradcache_replays_dropout_of_each_chunk(tiny_ckpt, tmp_path):
    """With LoRA dropout on, the recomputed chunks must see the dropout masks the loss saw:
    GradCache equals an all-in-memory pass over the same chunks from the same random state."""
    model, processor = tiny_lora_model(tiny_ckpt, seed=2, lora_dropout=0.3)
    model.train()
    rows = t2i_rows(processor, tmp_path, n=5)
    batch = batch_of(rows)
    embed = make_embed(model, processor, torch.device("cpu"), torch.float32)
    loss_fn = InfoNCELoss(0.03, gather_across_processes=False)

    torch.manual_seed(123)
    model.zero_grad(set_to_none=True)
    contrastive_backward(embed, batch, loss_fn, backward=lambda loss: loss.backward(), chunk_size=2)
    cached = trainable_grads(model)

    torch.manual_seed(123)  # same chunks, same order, same random stream, one graph in memory
    model.zero_grad(set_to_none=True)
    embeddings = {role: torch.cat([embed(piece) for piece in chunks(items, 2)]) for role, items in batch.groups().items()}
    loss_fn.compute(loss_inputs(batch.rows, batch.num_hard_negatives, embeddings)).loss.backward()
    reference = trainable_grads(model)

    scale = max(float(g.abs().max()) for g in reference.values())
    for name in reference:
        assert torch.allclose(cached[name], reference[name], atol=1e-5 * scale), name


def test_padding_passes_keep_processes_in_step_and_change_nothing(setup):
    """With ``max_over_processes`` saying another process has more chunks of each role, this
    process runs as many extra (padding) forward and backward passes; loss and gradients are
    those of its own chunks alone, and the gradient-synchronising pass is the last padded one."""
    model, processor, rows = setup
    loss, reference = _grads(model, processor, rows, 4)  # queries: 2 chunks, candidates: 3

    model.zero_grad(set_to_none=True)
    embed = make_embed(model, processor, torch.device("cpu"), torch.float32)
    calls, synced, suspended = [], [], []

    @contextlib.contextmanager
    def no_sync():
        suspended.append(True)
        try:
            yield
        finally:
            suspended.pop()

    def backward(loss):
        synced.append(not suspended)
        loss.backward()

    output = contrastive_backward(
        lambda items: calls.append(len(items)) or embed(items), batch_of(rows),
        InfoNCELoss(0.03, gather_across_processes=False), backward=backward, chunk_size=4, no_sync=no_sync,
        max_over_processes=lambda counts: counts + torch.tensor([1, 2]),
    )  # fmt: skip
    # steps 1 and 3: query chunks of 4 + 2 rows, 1 padding pass; candidate chunks 4 + 4 + 4, 2 padding
    # passes; a padding pass embeds one item
    assert calls == 2 * [4, 2, 1, 4, 4, 4, 1, 1]
    assert synced == [False] * 7 + [True]
    assert float(output.loss) == pytest.approx(loss, abs=1e-6)
    grads = trainable_grads(model)
    scale = max(float(g.abs().max()) for g in reference.values())
    for name in reference:
        assert torch.allclose(grads[name], reference[name], atol=1e-6 * scale), name
