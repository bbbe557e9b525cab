"""Cross-process negatives: a 2-process DDP step equals a 1-process step on the concatenated batch."""

import json

from helpers import REPO, accelerate_launch, run_bounded, subprocess_env


def test_gathered_loss_and_gradients_equal_single_process(tiny_ckpt, tmp_path):
    """Loss and all-reduced LoRA gradients of 2 processes x 4 rows (negatives all-gathered, hard
    negatives, duplicate masking) equal one process on the 8 rows; also with GradCache chunks and
    with uneven halves (4 + 3 rows, as after a skipped bad row)."""
    media, out = tmp_path / "media", tmp_path / "out"
    media.mkdir()
    out.mkdir()
    cmd = accelerate_launch(REPO / "tests" / "training" / "training_dist_check.py", str(tiny_ckpt), str(media), str(out))
    proc = run_bounded(cmd, timeout=300, env=subprocess_env(tmp_path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for rank in (0, 1):
        results = json.loads((out / f"result-{rank}.json").read_text())
        assert set(results) == {"plain", "gradcache", "uneven", "uneven_gradcache"}
        for name, r in results.items():
            assert r["num_queries"] == (8 if "uneven" not in name else 7), (rank, name, r)
            assert abs(r["loss"] - r["reference_loss"]) < 1e-5, (rank, name, r)
            assert r["grad_scale"] > 1.0  # the comparison is not between zeros
            assert r["max_grad_diff"] < 1e-5 * r["grad_scale"], (rank, name, r)
