"""End to end: `recipes/pyramid.py` with the tiny-cpu config on synthetic tasks (real videos,
images, texts): 2-process training, the merged checkpoint through every loading path,
kill-and-resume, bad rows."""

import json
import subprocess
import sys
import time

import pytest
import torch
import torch.nn.functional as F
from helpers import REPO, accelerate_launch, run_bounded, started, stop, subprocess_env
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


def run_without_this_checkout(script, cwd):
    """The last line of ``python -c script``'s output, as JSON, with nothing of this checkout on the
    path (the checkpoint's remote code only)."""
    env = subprocess_env(cwd)
    env["PYTHONPATH"] = ""
    proc = run_bounded([sys.executable, "-c", script], timeout=300, env=env, cwd=str(cwd))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_main(argv):
    """``recipes/pyramid.py``'s ``main`` in this process (one process, no launcher)."""
    import runpy

    from accelerate.state import AcceleratorState

    from modeling_gve.training.config import parse_config

    config = parse_config(argv)
    main = runpy.run_path(str(RECIPE))["main"]  # not "__main__": defines main without running it
    try:
        return main(config.model, config.data, config.curriculum, config.loss, config.training)
    finally:
        AcceleratorState._reset_state(reset_partial_state=True)


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
def sentence_transformers_prober(tmp_path_factory):
    """An independent embedder for the first probe: a stock Qwen2.5-VL folder (other weights than
    the model trained), which sentence-transformers loads with its own modules, without remote code."""
    from modeling_gve.testing.tiny import make_tiny_checkpoint

    return make_tiny_checkpoint(tmp_path_factory.mktemp("prober") / "qwen2_5_vl", seed=1)


@pytest.fixture(scope="module")
def trained(synthetic, sentence_transformers_prober):
    """One 2-process run of the tiny-cpu recipe (2 epochs, pyramid curriculum, skip bad rows), epoch 1
    probed by a separate embedder loaded through sentence-transformers, epoch 2 by the model."""
    out = synthetic["root"] / "run-2proc"
    prober = ["--prober_model_name_or_path", str(sentence_transformers_prober),
              "--prober_encoder", "sentence-transformers"]  # fmt: skip
    cmd = accelerate_launch(RECIPE, *recipe_args(synthetic, out, *prober))
    proc = run_bounded(cmd, timeout=600, env=subprocess_env(synthetic["root"]))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return {"out": out, "log": read_log(out), "stderr": proc.stderr}


def test_two_process_run_trains_logs_the_curriculum_and_loss_falls(trained, synthetic, sentence_transformers_prober):
    log = trained["log"]
    curriculum = [r for r in log if r["event"] == "curriculum"]
    assert [r["epoch"] for r in curriculum] == [1, 2]
    assert [r["sigma"] for r in curriculum] == [0.1, 1.0]
    prober = str(sentence_transformers_prober)
    expected = [(prober, "sentence-transformers"), ("self", "gve")]  # epoch 1: the separate prober; 2: the model
    assert [(r["prober"], r["prober_encoder"]) for r in curriculum] == expected
    for record in curriculum:
        probs = [record[f"curriculum/p/synthetic-{t}"] for t in TASKS]
        scores = [record[f"curriculum/R/synthetic-{t}"] for t in TASKS]
        assert sum(probs) == pytest.approx(1.0)
        # the paper's P(k) ∝ exp(R_k/σ) (task_prior: uniform, the default)
        weights = [torch.tensor(s / record["sigma"]).exp() for s in scores]
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


@pytest.mark.slow
def test_one_epoch_run_with_a_sentence_transformers_prober(synthetic, sentence_transformers_prober):
    """The recipe as issue 12 runs it: ``accelerate launch --config_file recipes/accelerate/multi_cpu.yaml
    recipes/pyramid.py --config recipes/configs/tiny-cpu.yaml --num_train_epochs 1
    --prober_model_name_or_path DIR --prober_encoder sentence-transformers`` trains on 2 CPU processes
    with the separate prober loaded through sentence-transformers, σ rises within the one epoch,
    and the merged checkpoint embeds identically through AutoModel and SentenceTransformer."""
    out = synthetic["root"] / "one-epoch-st-prober"
    prober = str(sentence_transformers_prober)
    cmd = accelerate_launch(RECIPE, *recipe_args(synthetic, out, "--num_train_epochs", "1",
                                                 "--prober_model_name_or_path", prober,
                                                 "--prober_encoder", "sentence-transformers"))  # fmt: skip
    proc = run_bounded(cmd, timeout=900, env=subprocess_env(synthetic["root"]))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert "2 processes" in proc.stderr
    log = read_log(out)
    probes = [r for r in log if r["event"] == "curriculum"]
    assert [(r["step"], r["prober"], r["prober_encoder"], r["sigma"]) for r in probes] == [
        (0, prober, "sentence-transformers", 0.1)
    ]
    sigmas = [r["sigma"] for r in log if r["event"] == "train"]
    assert sigmas == sorted(sigmas) and sigmas[0] < 0.5 and sigmas[-1] == pytest.approx(1.0), sigmas

    inputs = ["a video that is all red", {"video": str(synthetic["data"] / "media/videos/red.mp4")},
              {"text": "the same scene", "image": str(synthetic["data"] / "media/images/blue.png")}]  # fmt: skip
    script = (
        "import json\n"
        "from sentence_transformers import SentenceTransformer\n"
        "from transformers import AutoModel\n"
        f"model = AutoModel.from_pretrained({str(out)!r}, trust_remote_code=True).eval()\n"
        f"st = SentenceTransformer({str(out)!r}, trust_remote_code=True, device='cpu')\n"
        f"inputs = {inputs!r}\n"
        "print(json.dumps([model.encode(inputs).tolist(), st.encode_document(inputs).tolist()]))\n"
    )
    automodel, sentence_transformers = (torch.tensor(v) for v in run_without_this_checkout(script, synthetic["root"]))
    assert automodel.shape == (3, 64)
    assert torch.allclose(automodel, sentence_transformers, atol=1e-5)


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
    result = run_without_this_checkout(script, synthetic["root"])
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
    return started([sys.executable, str(RECIPE), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                   text=True, **kw)  # fmt: skip


def test_killed_and_resumed_run_matches_uninterrupted(synthetic):
    """SIGKILL a run after its step-20 checkpoint, resume with `--resume_from_checkpoint latest`:
    the final merged weights equal those of an uninterrupted run (LoRA dropout on, 2 epochs,
    curriculum re-probed after the resume point)."""
    env = subprocess_env(synthetic["root"])
    reference_dir, resumed_dir = synthetic["root"] / "uninterrupted", synthetic["root"] / "killed"
    reference = _run_recipe(recipe_args(synthetic, reference_dir), env)
    runs = [reference]
    try:
        killed = _run_recipe(recipe_args(synthetic, resumed_dir), env)
        runs.append(killed)
        marker = resumed_dir / "checkpoints" / "checkpoint-20" / "trainer_state.json"
        deadline = time.time() + 300
        while not marker.exists() and killed.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        assert killed.poll() is None, "the run ended before it could be killed: " + killed.communicate()[1][-2000:]
        stop(killed)
        killed.communicate()
        assert not (resumed_dir / "model.safetensors").exists()
        done_steps = max(int(p.name.split("-")[1]) for p in (resumed_dir / "checkpoints").glob("checkpoint-*")
                         if not p.name.endswith(".tmp"))  # fmt: skip
        assert done_steps < 80

        resumed = _run_recipe(recipe_args(synthetic, resumed_dir, "--resume_from_checkpoint", "latest"), env)
        runs.append(resumed)
        _, resumed_err = resumed.communicate(timeout=600)
        assert resumed.returncode == 0, resumed_err[-4000:]
        assert f"Resumed from {resumed_dir / 'checkpoints'}" in resumed_err
        _, reference_err = reference.communicate(timeout=600)
        assert reference.returncode == 0, reference_err[-4000:]
    finally:
        for run in runs:  # a failed or interrupted test leaves no training running
            stop(run)

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
    from modeling_gve.training.data import BadDataError

    out = synthetic["root"] / f"stop-{policy}"
    extra = ["--on_bad_row", "stop"] if policy == "stop" else ["--on_bad_row", "skip", "--max_bad_rows", "0"]
    with pytest.raises(BadDataError) as err:
        run_main(recipe_args(synthetic, out, "--curriculum", "uniform", *extra))
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
    """A separate epoch-1 prober (here the starting checkpoint itself, loaded as a GVE encoder)
    scores exactly like probing the model being trained at step 0 (its LoRA update is still zero),
    and is named in the log."""
    scores = {}
    for name, extra in (("self", []), ("external", ["--prober_model_name_or_path", str(synthetic["checkpoint"])])):
        out = synthetic["root"] / f"prober-{name}"
        run_main(recipe_args(synthetic, out, "--max_steps", "2", "--save_steps", "0", *extra))
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
    from modeling_gve.training.model import build_training_model, load_processor
    from modeling_gve.training.trainer import Trainer, make_accelerator, open_mixture

    out = synthetic["root"] / f"max-steps-{curriculum}"
    config = parse_config(recipe_args(synthetic, out, "--curriculum", curriculum, "--num_train_epochs", "3",
                                      "--max_steps", "50"))  # fmt: skip
    try:
        accelerator = make_accelerator(config.training)
        tasks = open_mixture(config.data, config.training.seed, accelerator)
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


def test_recipe_script_reads_as_the_recipe(monkeypatch, tmp_path):
    """recipes/pyramid.py parses its config (YAML + command line) and its ``main`` runs the steps
    itself: accelerator, model and processor, the mixture's tasks, then `Trainer`."""
    import logging
    import runpy

    from modeling_gve.training import model, trainer

    calls = []

    class FakeTrainer:
        def __init__(self, config, accelerator, model, processor, tasks):
            calls.append(("trainer", config.training.learning_rate, config.model.sampling["max_frames"], tasks))

        def train(self):
            calls.append(("train",))
            return tmp_path / "out"

    accelerator = type("Accelerator", (), {"is_main_process": True})()
    monkeypatch.setattr(trainer, "make_accelerator", lambda args: calls.append(("accelerator",)) or accelerator)
    monkeypatch.setattr(model, "build_training_model", lambda args: calls.append(("model",)) or "model")
    monkeypatch.setattr(model, "load_processor", lambda args: calls.append(("processor",)) or "processor")
    monkeypatch.setattr(trainer, "open_mixture", lambda data, seed, acc: calls.append(("data", seed)) or ["task"])
    monkeypatch.setattr(trainer, "Trainer", FakeTrainer)
    monkeypatch.setattr(logging, "basicConfig", lambda **kwargs: None)  # no handlers left on this process
    argv = ["pyramid.py", "--config", str(TINY_CPU), "--output_dir", str(tmp_path / "out"), "--learning_rate", "1e-4"]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(RECIPE), run_name="__main__")
    assert calls == [("accelerator",), ("model",), ("processor",), ("data", 42), ("trainer", 1e-4, 2, ["task"]),
                     ("train",)]  # fmt: skip


def test_push_to_hub_without_the_hub_fails_first_with_one_line(synthetic):
    """``--push_to_hub`` with HF_HUB_OFFLINE set (the tests' setting) stops before any training, with
    one line naming the fix (not an httpx traceback after the run)."""
    out = synthetic["root"] / "push-offline"
    with pytest.raises(SystemExit) as exit_:
        run_main(recipe_args(synthetic, out, "--push_to_hub", "--hub_model_id", "me/tiny-gve"))
    message = exit_.value.code
    assert isinstance(message, str) and "\n" not in message  # what Python prints, alone, on exit
    assert "HF_HUB_OFFLINE is set" in message and f"gve hub push-model {out} me/tiny-gve" in message
    assert not out.exists()  # nothing was trained


@pytest.mark.parametrize("error", ["unreachable", "refused file"])
def test_publishing_errors_after_training_are_one_line(tmp_path, monkeypatch, error):
    """A Hub that refuses the upload at the end, or a file the publishing checks refuse: one line,
    saying where the trained checkpoint is."""
    import runpy

    from modeling_gve.hub import publish as hub_publish
    from modeling_gve.hub.checks import HubCheckError
    from modeling_gve.training.config import TrainingArguments

    first_line = {"unreachable": "cannot reach the Hugging Face Hub at https://huggingface.co (ConnectError)",
                  "refused file": "token.txt looks like a credential and is never published"}[error]  # fmt: skip

    def refuse(*args, **kwargs):
        raise (HubCheckError if error == "refused file" else ConnectionError)(first_line + "\nmore")

    monkeypatch.setattr(hub_publish, "publish_model", refuse)
    publish = runpy.run_path(str(RECIPE))["publish"]
    args = TrainingArguments(output_dir=str(tmp_path), push_to_hub=True, hub_model_id="me/gve")
    with pytest.raises(SystemExit) as exit_:
        publish(args, tmp_path)
    message = str(exit_.value.code)
    assert "\n" not in message and first_line in message
    assert f"gve hub push-model {tmp_path} me/gve" in message
