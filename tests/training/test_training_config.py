"""Recipe configuration: every shipped YAML parses; unknown keys fail with a suggestion; the CLI wins."""

from pathlib import Path

import pytest
import yaml

from modeling_gve.training.config import ModelArguments, parse_config
from modeling_gve.training.data import load_mixture

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
PAPER = dict(
    lora_r=16, lora_alpha=32, lora_dropout=0.1, learning_rate=3e-5, weight_decay=0.1, lr_scheduler_type="cosine",
    num_train_epochs=3, seed=42, sampling={"max_frames": 8, "fps": 1.0}, temperature=0.03, mixed_precision="bf16",
    gradient_checkpointing=True, torch_dtype="bfloat16", curriculum="pyramid", sigma_min=0.1, sigma_max=1.0,
    gather_across_processes=True, symmetric=True, gradcache_chunk_size=None,
)  # fmt: skip


# recipes/configs holds both recipes' configs: vsynflow*.yaml belong to recipes/synthesize.py
PYRAMID_CONFIGS = sorted(p.name for p in (RECIPES / "configs").glob("*.yaml") if not p.name.startswith("vsynflow"))


def test_pyramid_configs_are_the_expected_ones():
    assert PYRAMID_CONFIGS == ["gve-3b.yaml", "gve-7b.yaml", "tiny-cpu.yaml"]


@pytest.mark.parametrize("name", PYRAMID_CONFIGS)
def test_every_shipped_config_parses(name):
    config = parse_config(["--config", str(RECIPES / "configs" / name)])
    assert config.model.model_name_or_path and config.data.mixture and config.training.output_dir
    assert sorted(config.model.lora_target_modules) == sorted(
        ["q_proj", "k_proj", "v_proj", "up_proj", "down_proj", "gate_proj"]
    )


@pytest.mark.parametrize("size", ["3b", "7b"])
def test_paper_configs_hold_the_paper_hyperparameters(size):
    config = parse_config(["--config", str(RECIPES / "configs" / f"gve-{size}.yaml")]).to_dict()
    assert {k: config[k] for k in PAPER} == PAPER
    assert config["model_name_or_path"] == f"Qwen/Qwen2.5-VL-{size.upper()}-Instruct"
    assert config["mixture"].endswith(f"mixtures/gve-{size}.yaml")


@pytest.mark.parametrize(
    "size,total,text,video,uvrd", [("3b", 12_643_000, 380_000, 8_804_000, 1_549_000),
                                   ("7b", 13_903_000, 580_000, 8_804_000, 1_549_000)]
)  # fmt: skip
def test_paper_mixtures_are_tables_6_and_7(size, total, text, video, uvrd):
    tasks = load_mixture(RECIPES / "mixtures" / f"gve-{size}.yaml")
    assert len(tasks) == 38 and sum(t.num_samples for t in tasks) == total
    uvrd_tasks = [t for t in tasks if t.path == "uvrd"]
    assert sum(t.num_samples for t in uvrd_tasks) == uvrd
    assert {t.name: (t.num_hard_negatives, t.batch_size) for t in uvrd_tasks} == {
        "T2T": (0, 64), "T2I": (0, 32), "T2V": (1, 64), "TI2V": (1, 64), "TV2V": (1, 64), "I2V": (0, 64),
        "V2V": (0, 64),
    }  # fmt: skip
    assert sum(t.num_samples for t in tasks if t.path != "uvrd" and t.name == "T2T") == text
    assert sum(t.num_samples for t in tasks if t.path != "uvrd" and t.name == "T2V") == video
    msmarco = next(t for t in tasks if t.task == "MSMARCO-T2T")
    assert (msmarco.num_hard_negatives, msmarco.batch_size) == (2, 64)


@pytest.mark.parametrize("name", sorted(p.name for p in (RECIPES / "accelerate").glob("*.yaml")))
def test_accelerate_configs_load(name):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(RECIPES / "accelerate" / name))
    assert config.num_processes >= 2


def test_command_line_overrides_yaml_and_null_clears(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"model_name_or_path": "m", "mixture": "x.yaml", "output_dir": "o",
                                    "learning_rate": 1e-3, "max_grad_norm": None, "report_to": ["tensorboard"]}))  # fmt: skip
    config = parse_config(["--config", str(path), "--learning_rate", "5e-4", "--curriculum", "tiers"])
    assert config.training.learning_rate == 5e-4
    assert config.curriculum.curriculum == "tiers"
    assert config.training.max_grad_norm is None  # YAML null overrides the 1.0 default
    assert config.training.report_to == ["tensorboard"]
    assert parse_config(["--config", str(path), "--max_grad_norm", "2"]).training.max_grad_norm == 2.0
    path.write_text(yaml.safe_dump({"model_name_or_path": "m", "mixture": "x.yaml", "output_dir": "o", "report_to": []}))
    assert parse_config(["--config", str(path)]).training.report_to == []


def test_unknown_keys_fail_with_did_you_mean(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text("model_name_or_path: m\nmixture: x\noutput_dir: o\nlearning_rat: 0.1\n")
    with pytest.raises(ValueError, match="did you mean 'learning_rate'"):
        parse_config(["--config", str(path)])
    with pytest.raises(SystemExit):  # argparse: the usage, then the reason
        parse_config(["--model_name_or_path", "m", "--mixture", "x", "--output_dir", "o", "--temprature", "1"])
    assert "unrecognized arguments: --temprature; did you mean '--temperature'?" in capsys.readouterr().err
    mixture = tmp_path / "m.yaml"
    mixture.write_text("tasks:\n- {task: a, path: p, batch_sise: 3}\n")
    with pytest.raises(ValueError, match="did you mean 'batch_size'"):
        load_mixture(mixture)


def test_invalid_choices_are_rejected_with_the_valid_values(tmp_path):
    with pytest.raises(ValueError, match="'auto', 'bfloat16', 'float16', 'float32'"):
        ModelArguments(model_name_or_path="m", torch_dtype="fp32")
    with pytest.raises(SystemExit):  # argparse: "invalid choice ... (choose from ...)"
        parse_config(["--model_name_or_path", "m", "--mixture", "x", "--output_dir", "o", "--curriculum", "easy"])
    with pytest.raises(ValueError, match="not projections of the Qwen2.5-VL language model"):
        ModelArguments(model_name_or_path="m", lora_target_modules=["qkv"])


@pytest.mark.parametrize("limit", [0, -1])
def test_save_total_limit_must_keep_a_checkpoint(limit):
    """0 (or less) would delete the checkpoint just written, leaving nothing to resume from."""
    argv = ["--model_name_or_path", "m", "--mixture", "x", "--output_dir", "o", "--save_total_limit", str(limit)]
    with pytest.raises(ValueError, match=f"save_total_limit must be >= 1 or null, got {limit}"):
        parse_config(argv)
    assert parse_config(argv[:-2] + ["--save_total_limit", "1"]).training.save_total_limit == 1
    assert parse_config(argv[:-2]).training.save_total_limit == 2


def test_public_training_functions_have_type_hints():
    """Every public function of modeling_gve.training (its modules' ``__all__``) annotates its
    parameters and return value, so users and type checkers see what goes in and comes out."""
    import importlib
    import inspect
    import pkgutil

    from modeling_gve import training

    missing = []
    for info in pkgutil.iter_modules(training.__path__):
        module = importlib.import_module(f"{training.__name__}.{info.name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not inspect.isfunction(obj) or obj.__module__ != module.__name__:
                continue
            signature = inspect.signature(obj)
            unannotated = [p for p, v in signature.parameters.items() if v.annotation is inspect.Parameter.empty]
            if signature.return_annotation is inspect.Signature.empty:
                unannotated.append("return")
            if unannotated:
                missing.append(f"{info.name}.{name}: {unannotated}")
    assert not missing, missing


def test_sampling_not_given_is_the_checkpoints_saved_setting(tiny_ckpt, tmp_path):
    """Fine-tuning a checkpoint saved with its own preprocessing keeps that preprocessing for
    every sampling option the recipe does not set, and saves the given ones."""
    from modeling_gve import GVEProcessor
    from modeling_gve.processing_gve import SamplingConfig
    from modeling_gve.training.model import load_processor

    fields = ("max_frames", "fps", "video_max_pixels", "video_min_pixels", "image_max_pixels", "image_min_pixels",
              "max_length")  # fmt: skip
    defaults = SamplingConfig()
    saved = {"max_frames": 16, "fps": 2.0, "video_max_pixels": 300 * 784, "video_min_pixels": 64 * 784,
             "image_max_pixels": 512 * 784, "image_min_pixels": 8 * 784, "max_length": 4096}  # fmt: skip
    assert set(saved) == set(fields) and all(saved[k] != getattr(defaults, k) for k in fields)
    assert ModelArguments(model_name_or_path="m").sampling == {}  # nothing set: the checkpoint's settings

    processor = GVEProcessor.from_pretrained(tiny_ckpt)
    processor.sampling = processor.sampling_config(**saved).to_dict()
    processor.save_pretrained(tmp_path / "ckpt")
    kept = load_processor(ModelArguments(model_name_or_path=str(tmp_path / "ckpt"))).sampling_config()
    assert {k: getattr(kept, k) for k in fields} == saved
    sampling = {"max_frames": 4, "fps": 0.5}
    changed = load_processor(ModelArguments(model_name_or_path=str(tmp_path / "ckpt"), sampling=sampling))
    assert {k: getattr(changed.sampling_config(), k) for k in fields} == {**saved, "max_frames": 4, "fps": 0.5}


def test_sampling_is_one_mapping_of_sampling_options(tmp_path):
    """Every `SamplingConfig` option is a key of `sampling`, on the command line too; unknown
    options and bad values name the option."""
    argv = ["--model_name_or_path", "m", "--mixture", "x", "--output_dir", "o"]
    config = parse_config(argv + ["--sampling", "{max_frames: 16, num_frames: 4, seek_mode: approximate}"])
    assert config.model.sampling == {"max_frames": 16, "num_frames": 4, "seek_mode": "approximate"}
    with pytest.raises(ValueError, match=r"sampling: Unknown sampling option 'max_frame'; did you mean 'max_frames'\?"):
        ModelArguments(model_name_or_path="m", sampling={"max_frame": 4})
    with pytest.raises(ValueError, match="Sampling option max_frames must be an integer >= 2, got 1"):
        ModelArguments(model_name_or_path="m", sampling={"max_frames": 1})
    with pytest.raises(ValueError, match=r"video_min_pixels \(800\) must not exceed video_max_pixels \(400\)"):
        ModelArguments(model_name_or_path="m", sampling={"video_min_pixels": 800, "video_max_pixels": 400})
    # one bound alone is checked at load time, against the checkpoint's other bound
    assert ModelArguments(model_name_or_path="m", sampling={"video_max_pixels": 3136}).sampling_overrides() == {
        "video_max_pixels": 3136
    }


def test_flat_sampling_keys_still_work_for_one_release(tmp_path):
    """Configs written before `sampling` existed (``max_frames: 8`` at the top level) parse into
    the mapping, with a FutureWarning naming the new key; so do the old command-line options."""
    path = tmp_path / "old.yaml"
    path.write_text("model_name_or_path: m\nmixture: x\noutput_dir: o\nmax_frames: 8\nfps: 1.0\n")
    with pytest.warns(FutureWarning, match="setting 'max_frames' is deprecated; use 'sampling.max_frames'"):
        config = parse_config(["--config", str(path), "--video_max_pixels", "3136"])
    assert config.model.sampling == {"max_frames": 8, "fps": 1.0, "video_max_pixels": 3136}
    assert "max_frames" not in config.to_dict()
