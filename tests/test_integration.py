"""Cross-component runs: what V-SynFlow writes, the training recipe reads and learns from; the
checkpoint it merges is a GVE checkpoint every loading path (and the search command) accepts."""

import json

import pytest
import yaml
from helpers import REPO, accelerate_launch, run_bounded, subprocess_env

from modeling_gve.synthesis.config import TASKS, SynthesisConfig
from modeling_gve.testing.loopback import LoopbackChatServer
from modeling_gve.synthesis.pipeline import run as synthesize
from modeling_gve.testing.media import make_video
from modeling_gve.testing.tiny import make_tiny_checkpoint


@pytest.fixture(scope="module")
def uvrd(tmp_path_factory):
    """A tiny UVRD made by V-SynFlow from six captioned videos (loopback captioner)."""
    root = tmp_path_factory.mktemp("vsynflow")
    rows = []
    for i in range(6):
        make_video(root / "in" / f"v{i}.mp4", seconds=2.0, fps=8, size=(80 + 16 * i, 64), pattern="testsrc2")
        rows.append({"file_name": f"v{i}.mp4", "caption": f"A test card number {i} with a moving clock hand"})
    (root / "in" / "metadata.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with LoopbackChatServer() as server:
        stats = synthesize(
            SynthesisConfig.from_values(
                {
                    "input": str(root / "in"),
                    "output_dir": str(root / "uvrd"),
                    "num_shards": 2,
                    "captioner_model": "loopback",
                    "captioner_base_url": server.url,
                    "captioner_video_input": "frames",
                    "captioner_num_frames": 2,
                    "captioner_max_pixels": 64 * 28 * 28,
                    "frames_per_video": 2,
                    "clip_seconds": 1.0,
                    "qc_workers": 1,
                    "task_proportions": {},  # every row: the paper's proportions would leave one row for most tasks
                }
            )
        )
    # one row per video per task; T2T also pairs the captions of captioned frames (§A.6)
    assert all(stats["tasks"][t]["rows"] == 6 for t in TASKS if t != "T2T")
    assert stats["tasks"]["T2T"]["rows"] > 6
    return root / "uvrd"


def test_recipe_trains_on_a_vsynflow_dataset(uvrd, tmp_path):
    checkpoint = make_tiny_checkpoint(tmp_path / "base", seed=0)
    mixture = tmp_path / "mixture.yaml"
    mixture.write_text(
        yaml.safe_dump(
            {"tasks": [{"task": f"uvrd-{t}", "path": str(uvrd), "name": t, "batch_size": 3, "num_samples": 6} for t in TASKS]},
            sort_keys=False,
        )
    )
    out = tmp_path / "run"
    cmd = accelerate_launch(
        REPO / "recipes" / "pyramid.py",
        "--config", str(REPO / "recipes" / "configs" / "tiny-cpu.yaml"),
        "--model_name_or_path", str(checkpoint),
        "--mixture", str(mixture),
        "--cache_dir", str(tmp_path / "hf-cache"),
        "--output_dir", str(out),
        "--num_train_epochs", "1",
        num_processes=1,
    )  # fmt: skip
    proc = run_bounded(cmd, timeout=600, env=subprocess_env(tmp_path))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]

    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    curriculum = [r for r in log if r["event"] == "curriculum"]
    assert curriculum, log[:3]
    probabilities = {k for r in curriculum for k in r if k.startswith("curriculum/p/")}
    assert {f"curriculum/p/uvrd-{t}" for t in TASKS} <= probabilities
    assert not (out / "bad_rows.jsonl").exists() or not (out / "bad_rows.jsonl").read_text().strip()

    from modeling_gve import GVEModel

    model = GVEModel.from_pretrained(out)
    embeddings = model.encode([{"video": str(uvrd / "media" / "videos" / "v0.mp4")}, "a test card"], max_frames=2)
    assert embeddings.shape == (2, model.config.text_config.hidden_size)
