# Copyright 2026 The GVE package authors. Apache-2.0.
"""GradCache: contrastive batches larger than memory, with exactly the same gradients.

The contrastive loss couples every item of the batch, so it cannot be split into
independent micro-batches. GradCache (Gao et al. 2021, https://arxiv.org/abs/2101.06983)
splits the *encoder* instead:

1. embed every chunk of items without autograd (memory: one chunk's activations);
2. compute the loss on the detached embeddings, back-propagate to the embeddings only and
   keep ``d loss / d embedding`` (memory: ``(num_items, D)``);
3. re-embed each chunk with autograd and back-propagate ``<embedding, cached gradient>``;
   parameter gradients accumulate chunk by chunk.

By the chain rule the summed parameter gradients equal those of the unchunked batch. The
random state (dropout, e.g. LoRA's) of each chunk is recorded in step 1 and replayed in
step 3, so the recomputed embeddings are the ones the loss saw.

Several processes: under FSDP or DeepSpeed ZeRO-3 every forward and backward pass is a
collective (the sharded parameters are gathered in it), so every process must run the same
passes in the same order, whatever its share of the batch (a skipped bad row, fewer hard
negatives). With ``max_over_processes`` the number of chunks of each role is the maximum
over processes; a process with fewer runs *padding passes* on its first item of that role,
whose gradient is multiplied by zero: the result is unchanged, and nobody waits forever.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import ContextManager

import torch

from .loss import ContrastiveOutput


class RandContext:
    """Records the CPU and CUDA random states on creation; ``with ctx:`` runs its body from
    those states and restores the surrounding ones afterwards."""

    def __init__(self) -> None:
        self.cpu_state = torch.get_rng_state()
        self.cuda_states = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
        self._fork: ContextManager | None = None

    def __enter__(self) -> None:
        devices = list(range(len(self.cuda_states))) if self.cuda_states is not None else []
        self._fork = torch.random.fork_rng(devices=devices, enabled=True)
        self._fork.__enter__()
        torch.set_rng_state(self.cpu_state)
        if self.cuda_states is not None:
            torch.cuda.set_rng_state_all(self.cuda_states)

    def __exit__(self, *exc) -> None:
        self._fork.__exit__(*exc)
        self._fork = None


def chunks(items: Sequence, size: int) -> list[Sequence]:
    """``items`` cut into consecutive pieces of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def gradcache_step(
    embed: Callable[[Sequence], torch.Tensor],
    groups: dict[str, Sequence],
    loss_fn: Callable[[dict[str, torch.Tensor]], ContrastiveOutput],
    chunk_size: int,
    backward: Callable[[torch.Tensor], None],
    no_sync: Callable[[], ContextManager] | None = None,
    max_over_processes: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> ContrastiveOutput:
    """One GradCache forward/backward; parameter gradients are accumulated into ``.grad``.

    Args:
        embed: items -> embeddings ``(len(items), D)`` through the model being trained.
        groups: the batch's items by role, e.g. ``{"queries": [...], "candidates": [...]}``
            (the same roles, in the same order, on every process).
        loss_fn: ``{role: embeddings}`` -> `ContrastiveOutput` (may communicate across processes).
        chunk_size: items per forward pass.
        backward: back-propagates a scalar through the model (``accelerator.backward``).
        no_sync: context manager that suspends the gradient all-reduce (``lambda:
            accelerator.no_sync(model)``), used for every pass but the last so DDP reduces once.
        max_over_processes: element-wise maximum of an integer tensor ``(num_roles,)`` over
            processes; given, every process runs the same number of passes per role (padding
            passes, see the module docstring). Needed wherever a forward pass is a collective
            (FSDP, ZeRO-3); ``None``: one process, or passes that need not match.

    Returns:
        The `ContrastiveOutput` of step 2, its ``loss`` detached.
    """
    pieces = {role: chunks(items, chunk_size) for role, items in groups.items()}
    padding = dict.fromkeys(pieces, 0)
    if max_over_processes is not None:
        counts = max_over_processes(torch.tensor([len(p) for p in pieces.values()], dtype=torch.long))
        padding = {role: int(n) - len(pieces[role]) for role, n in zip(pieces, counts.tolist(), strict=True)}
        for role, extra in padding.items():
            if extra and not groups[role]:
                raise ValueError(f"GradCache: this process has no {role} to run its {extra} padding pass(es) with")

    # 1. embeddings without autograd, one chunk at a time, random state recorded per chunk
    cached: dict[str, list[torch.Tensor]] = {}
    states: dict[str, list[RandContext]] = {}
    with torch.no_grad():
        for role, role_pieces in pieces.items():
            cached[role], states[role] = [], []
            for piece in role_pieces:
                states[role].append(RandContext())
                cached[role].append(embed(piece))
            for _ in range(padding[role]):
                embed(groups[role][:1])  # padding pass: keeps the processes' collectives in step
    leaves = {role: torch.cat(parts).detach().requires_grad_() for role, parts in cached.items()}

    # 2. the loss on the detached embeddings; its gradient w.r.t. each embedding
    output = loss_fn(leaves)
    output.loss.backward()
    grads = {role: leaf.grad if leaf.grad is not None else torch.zeros_like(leaf) for role, leaf in leaves.items()}

    # 3. re-embed with autograd and push the cached gradients into the parameters; the last
    # pass (the same one on every process) synchronises the gradients
    plan: list[tuple[str, int | None, Sequence]] = []
    for role, role_pieces in pieces.items():
        plan += [(role, i, piece) for i, piece in enumerate(role_pieces)]
        plan += [(role, None, groups[role][:1])] * padding[role]
    for number, (role, i, piece) in enumerate(plan):
        last = number == len(plan) - 1
        sync = contextlib.nullcontext() if last or no_sync is None else no_sync()
        if i is None:  # padding pass: the same collectives, a zero gradient
            with sync:
                backward(embed(piece).sum() * 0.0)
            continue
        start = i * chunk_size
        grad = grads[role][start : start + len(piece)]
        with sync, states[role][i]:
            embeddings = embed(piece)
            backward((embeddings * grad).sum())  # d/dθ <e(θ), g> = (de/dθ)ᵀ g
    output.loss = output.loss.detach()
    return output


__all__ = ["RandContext", "chunks", "gradcache_step"]
