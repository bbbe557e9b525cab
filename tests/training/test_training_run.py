"""End to end: `recipes/pyramid.py` with the tiny-cpu config on synthetic tasks (real videos,
images, texts): 2-process training, the merged checkpoint through every loading path,
kill-and-resume, bad rows."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import torch.nn.functional as F
from helpers import REPO, accelerate_launch, subprocess_env
from safetensors.torch import load_file
from training_helpers import TINY_SAMPLING

from modeling_gve.directions import instruction

TINY_CPU = REPO / "recipes" / "configs" / "tiny-cpu.yaml"
RECIPE = REPO / "recipes" / "pyramid.py"
TASKS = ("T2T", "T2I", "T2V", "I2V", "TI2V")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    from modeling_gve.testing.synthetic_tasks import make_synthetic_run

    root = tmp_path_factory.mktemp("tiny-train")
    made = make_synthetic_run(root, bad_rows=True)
    return {**made, "root": root}


def recipe_args(synthetic, output_dir, *extra):
    return [
        "--config", str(TINY_CPU), "--model_name_or_path", str(synthetic["checkpoint"]),
        "--mixture", str(synthetic["mixture"]), "--cache_dir", str(synthetic["root"] / "hf-cache"),
        "--output_dir", str(output_dir), *extra,
    ]  # fmt: skip


def read_log(output_dir):
    return [json.loads(line) for line in (output_dir / "train_log.jsonl").read_text().splitlines()]


def task_losses(model, data_root):
    """InfoNCE (τ = 0.03) of every synthetic task over all its good pairs, embedded with `model.encode`."""
    import datasets

    losses = {}
    for task in TASKS:
        rows = [r for r in datasets.load_dataset("parquet", data_files=str(data_root / task / "*.parquet"),
                                                 split="train", cache_dir=str(data_root.parent / "hf-cache"))
                if r["id"] not in ("900", "901")]  # fmt: skip

        def items(role):
            return [{m: (r[f"{role}_{m}"] if m == "text" else str(data_root / r[f"{role}_{m}"]))
                     for m in ("text", "image", "video") if r[f"{role}_{m}"] is not None} for r in rows]  # fmt: skip

        queries = model.encode(items("query"), instruction=instruction(task), **TINY_SAMPLING)
        positives = model.encode(items("pos"), **TINY_SAMPLING)
        losses[task] = float(F.cross_entropy(queries @ positives.T / 0.03, torch.arange(len(rows))))
    return losses


@pytest.fixture(scope="module")
def trained(synthetic):
    """One 2-process run of the tiny-cpu recipe (2 epochs, pyramid curriculum, skip bad rows)."""
    out = synthetic["root"] / "run-2proc"
    cmd = accelerate_launch(RECIPE, *recipe_args(synthetic, out))
    proc = subprocess.run(cmd, env=subprocess_env(synthetic["root"]), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return {"out": out, "log": read_log(out), "stderr": proc.stderr}


def test_two_process_run_trains_logs_the_curriculum_and_loss_falls(trained, synthetic):
    log = trained["log"]
    curriculum = [r for r in log if r["event"] == "curriculum"]
    assert [r["epoch"] for r in curriculum] == [1, 2]
    assert [r["curriculum/sigma"] for r in curriculum] == [0.1, 1.0]
    for record in curriculum:
        probs = [record[f"curriculum/p/synthetic-{t}"] for t in TASKS]
        scores = [record[f"curriculum/R/synthetic-{t}"] for t in TASKS]
        assert sum(probs) == pytest.approx(1.0)
        # P(k) ∝ prior·exp(R_k/σ) with equal priors (same num_samples and batch size per task)
        weights = [torch.tensor(s / record["curriculum/sigma"]).exp() for s in scores]
        assert probs == pytest.approx([float(w / sum(weights)) for w in weights], rel=1e-5)
    train = [r for r in log if r["event"] == "train"]
    steps = [s for r in train for s in r["steps"]]
    assert [s[0] for s in steps] == list(range(1, 41))  # 2 epochs x 5 tasks x (32 samples / global batch 8)
    assert all(r["samples_per_second"] > 0 and r["learning_rate"] >= 0 for r in train)
    assert sum(v for r in train for k, v in r.items() if k.startswith("tasks/")) == 40
    losses = [s[2] for s in steps]
    assert sum(losses[-10:]) / 10 < sum(losses[:10]) / 10, losses
    assert "Training" in trained["stderr"]  # the tqdm bar

    # the merged checkpoint embeds the synthetic pairs better than the starting one, on every task
    from modeling_gve import GVEModel

    before = task_losses(GVEModel.from_pretrained(synthetic["checkpoint"]).eval(), synthetic["data"])
    after = task_losses(GVEModel.from_pretrained(trained["out"]).eval(), synthetic["data"])
    assert sum(after.values()) < 0.8 * sum(before.values()), (before, after)
    assert all(after[t] < before[t] for t in TASKS), (before, after)


def test_bad_rows_are_reported_per_row_and_skipped(trained):
    reported = [json.loads(line) for line in (trained["out"] / "bad_rows.jsonl").read_text().splitlines()]
    by_row = {(r["task"], r["row_id"]): r for r in reported}
    assert by_row[("synthetic-T2V", "900")]["field"] == "positive"
    assert by_row[("synthetic-T2V", "900")]["reason"] == "file not found"
    assert by_row[("synthetic-T2T", "901")]["field"] == "query"
    assert "text is empty" in by_row[("synthetic-T2T", "901")]["reason"]
    assert "Bad training row, skipped: task 'synthetic-T2V', row '900', positive" in trained["stderr"]
    assert [r for r in trained["log"] if r["event"] == "train"][-1]["bad_rows"] >= 2


def test_merged_checkpoint_loads_with_gve_model_and_automodel_remote_code(trained, synthetic):
    from modeling_gve import GVEModel

    out = trained["out"]
    model = GVEModel.from_pretrained(out).eval()
    assert model.processor.sampling_config().max_frames == 2  # training preprocessing travels with it
    base = GVEModel.from_pretrained(synthetic["checkpoint"])
    key = "model.language_model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(model.state_dict()[key], base.state_dict()[key])  # the LoRA update is merged
    assert not any("lora" in k for k in load_file(out / "model.safetensors"))
    inputs = ["a video that is all red", {"video": str(synthetic["data"] / "media/videos/red.mp4")}]
    expected = model.encode(inputs)
    script = (
        "import json, sys\n"
        "from transformers import AutoModel\n"
        f"m = AutoModel.from_pretrained({str(out)!r}, trust_remote_code=True).eval()\n"
        "assert 'modeling_gve' not in sys.modules, 'the installed package was imported'\n"
        f"e = m.encode({inputs!r})\n"
        "print(json.dumps({'module': type(m).__module__, 'embeddings': e.tolist()}))\n"
    )
    env = subprocess_env(synthetic["root"])
    env["PYTHONPATH"] = ""  # remote code only: nothing of this checkout on the path
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300,
                          cwd=str(synthetic["root"]))  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["module"].startswith("transformers_modules")
    assert torch.allclose(torch.tensor(result["embeddings"]), expected, atol=1e-5)


def test_merged_checkpoint_loads_in_sentence_transformers(trained):
    """Needs the sentence-transformers files that `save_gve_checkpoint` writes: same vectors as `GVEModel`."""
    from sentence_transformers import SentenceTransformer

    from modeling_gve import GVEModel

    out = trained["out"]
    texts = ["a video that is all red", "something that is blue"]
    expected = GVEModel.from_pretrained(out).eval().encode(texts)
    st = SentenceTransformer(str(out), trust_remote_code=True, device="cpu")
    got = st.encode_document(texts, convert_to_tensor=True).cpu()
    hint = ("SentenceTransformer does not reproduce GVEModel's embeddings: the checkpoint lacks the "
            "sentence-transformers files (written by modeling_gve.checkpoint.save_gve_checkpoint)")  # fmt: skip
    assert got.shape == expected.shape, hint
    assert torch.allclose(got, expected, atol=1e-5), hint


def _run_recipe(args, env, **kw):
    return subprocess.Popen([sys.executable, str(RECIPE), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kw)  # fmt: skip


def test_killed_and_resumed_run_matches_uninterrupted(synthetic):
    """SIGKILL a run after its step-20 checkpoint, resume with `--resume_from_checkpoint latest`:
    the final merged weights equal those of an uninterrupted run (LoRA dropout on, 2 epochs,
    curriculum re-probed after the resume point)."""
    env = subprocess_env(synthetic["root"])
    reference_dir, resumed_dir = synthetic["root"] / "uninterrupted", synthetic["root"] / "killed"
    reference = _run_recipe(recipe_args(synthetic, reference_dir), env)
    killed = _run_recipe(recipe_args(synthetic, resumed_dir), env)
    marker = resumed_dir / "checkpoints" / "checkpoint-20" / "trainer_state.json"
    deadline = time.time() + 300
    while not marker.exists() and killed.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert killed.poll() is None, "the run ended before it could be killed: " + killed.communicate()[1][-2000:]
    os.killpg(killed.pid, signal.SIGKILL)
    killed.communicate()
    assert not (resumed_dir / "model.safetensors").exists()
    done_steps = max(int(p.name.split("-")[1]) for p in (resumed_dir / "checkpoints").glob("checkpoint-*")
                     if not p.name.endswith(".tmp"))  # fmt: skip
    assert done_steps < 80

    resumed = _run_recipe(recipe_args(synthetic, resumed_dir, "--resume_from_checkpoint", "latest"), env)
    _, resumed_err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, resumed_err[-4000:]
    assert f"Resumed from {resumed_dir / 'checkpoints'}" in resumed_err
    _, reference_err = reference.communicate(timeout=600)
    assert reference.returncode == 0, reference_err[-4000:]

    expected = load_file(reference_dir / "model.safetensors")
    got = load_file(resumed_dir / "model.safetensors")
    assert expected.keys() == got.keys()
    from modeling_gve import GVEModel

    base = GVEModel.from_pretrained(synthetic["checkpoint"]).state_dict()
    changed = [k for k in expected if k in base and not torch.equal(expected[k], base[k])]
    assert changed, "training changed nothing: the comparison would be vacuous"
    for key in expected:
        assert torch.allclose(got[key], expected[key], rtol=0, atol=1e-6), key


@pytest.mark.parametrize("policy", ["stop", "max_bad_rows"])
def test_bad_row_stops_the_run_when_configured(synthetic, policy):
    from accelerate.state import AcceleratorState

    from modeling_gve.training.config import parse_config
    from modeling_gve.training.data import BadDataError
    from modeling_gve.training.loop import train

    out = synthetic["root"] / f"stop-{policy}"
    extra = ["--on_bad_row", "stop"] if policy == "stop" else ["--on_bad_row", "skip", "--max_bad_rows", "0"]
    config = parse_config(recipe_args(synthetic, out, "--curriculum", "uniform", *extra))
    try:
        with pytest.raises(BadDataError) as err:
            train(config)
    finally:
        AcceleratorState._reset_state(reset_partial_state=True)
    message = str(err.value)
    if policy == "stop":
        assert "on_bad_row: stop" in message
        assert ("row '900', positive" in message and "file not found" in message) or (
            "row '901', query" in message and "text is empty" in message
        )
    else:
        assert "more than max_bad_rows=0" in message
    assert not (out / "model.safetensors").exists()  # no model was finished on bad data


def test_epoch_one_prober_is_configurable(synthetic):
    """A separate epoch-1 prober (here the starting checkpoint itself) scores exactly like probing
    the model being trained at step 0 (its LoRA update is still zero), and is named in the log."""
    from accelerate.state import AcceleratorState

    from modeling_gve.training.config import parse_config
    from modeling_gve.training.loop import train

    scores = {}
    for name, extra in (("self", []), ("external", ["--prober_model_name_or_path", str(synthetic["checkpoint"])])):
        out = synthetic["root"] / f"prober-{name}"
        try:
            train(parse_config(recipe_args(synthetic, out, "--max_steps", "2", "--save_steps", "0", *extra)))
        finally:
            AcceleratorState._reset_state(reset_partial_state=True)
        record = next(r for r in read_log(out) if r["event"] == "curriculum")
        assert record["prober"] == ("self" if name == "self" else str(synthetic["checkpoint"]))
        scores[name] = [record[f"curriculum/R/synthetic-{t}"] for t in TASKS]
    assert scores["external"] == pytest.approx(scores["self"], abs=1e-5)
    assert len(set(round(s, 4) for s in scores["self"])) > 1  # tasks are told apart


@pytest.mark.parametrize("curriculum", ["pyramid", "tiers"])
def test_curriculum_ends_where_max_steps_ends_training(synthetic, curriculum):
    """max_steps = 50 of 3 epochs x 40 steps: the learning rate, σ and the static tiers all end at
    step 50 (the second epoch is the last: σ = σ_max there; every tier is active at the end)."""
    from accelerate.state import AcceleratorState

    from modeling_gve.training.config import parse_config
    from modeling_gve.training.loop import Trainer, make_accelerator, open_mixture
    from modeling_gve.training.model import build_training_model, load_processor

    out = synthetic["root"] / f"max-steps-{curriculum}"
    config = parse_config(recipe_args(synthetic, out, "--curriculum", curriculum, "--num_train_epochs", "3",
                                      "--max_steps", "50"))  # fmt: skip
    try:
        accelerator = make_accelerator(config)
        tasks = open_mixture(config, accelerator)
        model, processor = build_training_model(config.model), load_processor(config.model)
        trainer = Trainer(config, accelerator, model, processor, tasks)
    finally:
        AcceleratorState._reset_state(reset_partial_state=True)
    assert (trainer.steps_per_epoch, trainer.total_steps) == (40, 50)  # 5 tasks x 32 samples / batch 4
    assert trainer.scheduler.scheduler.lr_lambdas[0](50) == 0.0  # the cosine schedule ends at step 50
    schedule = trainer.curriculum
    assert schedule.total_steps == 50 and schedule.num_epochs == 2
    if curriculum == "pyramid":
        assert schedule.sigma(0) == pytest.approx(0.1) and schedule.sigma(49) == pytest.approx(1.0)
    else:
        assert (schedule.probabilities(49) > 0).all()  # the top tier (TI2V) is reached


def test_recipe_script_runs_the_library_train(monkeypatch, tmp_path):
    """recipes/pyramid.py parses its config and hands it to `modeling_gve.training.loop.train`
    (one implementation of the run, tested above), not a copy of its steps."""
    import logging
    import runpy

    from modeling_gve.training import loop

    calls = []
    monkeypatch.setattr(loop, "train", lambda config: calls.append(config) or tmp_path / "out")
    monkeypatch.setattr(logging, "basicConfig", lambda **kwargs: None)  # no handlers left on this process
    argv = ["pyramid.py", "--config", str(TINY_CPU), "--output_dir", str(tmp_path / "out"), "--learning_rate", "1e-4"]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(RECIPE), run_name="__main__")
    assert len(calls) == 1
    assert calls[0].training.output_dir == str(tmp_path / "out") and calls[0].training.learning_rate == 1e-4
    assert calls[0].model.sampling["max_frames"] == 2  # from the YAML
