"""Run under ``accelerate launch`` with 2 CPU processes (see test_training_distributed.py).

Checks, on every process, that the DDP step with all-gathered negatives (each process
holding half of the batch) gives the loss and the (all-reduced) LoRA gradients of a
single-process step on the concatenated batch: plain, with GradCache chunks, and with
uneven halves (process 1 short of a row, as after a skipped bad row). Writes the max
differences to ``OUT/result-<rank>.json``.

Usage: ``training_dist_check.py CHECKPOINT MEDIA_DIR OUT_DIR``
"""

import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from training_helpers import batch_of, step_comparison, trainable_grads, two_process_comparison  # noqa: E402

from modeling_gve.training.trainer import contrastive_backward, make_embed  # noqa: E402


def main(checkpoint: str, media: str, out: str) -> None:
    setup = two_process_comparison(checkpoint, media)
    acc, rank, model, processor, rows = setup.acc, setup.rank, setup.model, setup.processor, setup.rows
    reference, ref_embed, single, gathered = setup.reference, setup.ref_embed, setup.single, setup.gathered

    def reference_step(batch_rows):
        reference.zero_grad(set_to_none=True)
        output = contrastive_backward(ref_embed, batch_of(batch_rows), single, backward=lambda loss: loss.backward())
        return float(output.loss), trainable_grads(reference)

    ddp = acc.prepare(model)
    embed = make_embed(ddp, processor, acc.device, torch.float32)
    results = {}
    cases = {
        "plain": (rows[rank * 4 : (rank + 1) * 4], rows, None),
        "gradcache": (rows[rank * 4 : (rank + 1) * 4], rows, 3),
        "uneven": (rows[:4] if rank == 0 else rows[4:7], rows[:7], None),
        "uneven_gradcache": (rows[:4] if rank == 0 else rows[4:7], rows[:7], 2),
    }
    for name, (local, full, chunk) in cases.items():
        ref_loss, ref_grads = reference_step(full)
        ddp.zero_grad(set_to_none=True)
        output = contrastive_backward(
            embed, batch_of(local), gathered, backward=acc.backward, chunk_size=chunk, no_sync=lambda: acc.no_sync(ddp)
        )
        results[name] = step_comparison(output, ref_loss, trainable_grads(ddp), ref_grads)
    with open(os.path.join(out, f"result-{rank}.json"), "w") as f:
        json.dump(results, f, indent=2)
    acc.wait_for_everyone()


if __name__ == "__main__":
    main(*sys.argv[1:4])
