"""`gve convert` writes a self-contained checkpoint that every loading path accepts."""

import json
import textwrap

import pytest
import torch
from helpers import BLOCK_PACKAGE, run_python

from modeling_gve.checkpoint import CHECKPOINT_FILES, REMOTE_CODE_FILES, is_checkpoint_file


def test_converted_folder_layout(tiny_converted):
    names = {p.name for p in tiny_converted.iterdir()}
    assert set(REMOTE_CODE_FILES) <= names
    assert {"config.json", "model.safetensors", "processor_config.json", "tokenizer.json"} <= names
    config = json.loads((tiny_converted / "config.json").read_text())
    assert config["model_type"] == "gve"
    assert config["auto_map"]["AutoModel"] == "modeling_gve.GVEModel"
    processor_config = json.loads((tiny_converted / "processor_config.json").read_text())
    assert processor_config["processor_class"] == "GVEProcessor"
    assert processor_config["sampling"]["max_frames"] == 8
    assert processor_config["sampling"]["video_max_pixels"] == 200 * 28 * 28

    assert set(CHECKPOINT_FILES) <= names  # the one list, which `gve hub` checks
    assert [n for n in names if not is_checkpoint_file(n)] == []  # and nothing else is written

    from safetensors import safe_open

    with safe_open(str(tiny_converted / "model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert all(k.startswith(("model.language_model.", "model.visual.")) for k in keys)
    assert not any(k.startswith("lm_head") for k in keys)


def test_round_trip_gives_identical_embeddings(tiny_converted, gve_model, media, tmp_path):
    from modeling_gve import GVEModel
    from modeling_gve.convert import convert_checkpoint

    items = ["a text", {"text": "with a video", "video": media["video"]}, {"image": media["image"]}]
    expected = gve_model.encode(items)
    converted = GVEModel.from_pretrained(tiny_converted).eval()
    assert torch.equal(converted.encode(items), expected)
    again = GVEModel.from_pretrained(convert_checkpoint(tiny_converted, tmp_path / "again")).eval()
    assert torch.equal(again.encode(items), expected)


def test_automodel_with_remote_code_in_a_process_without_the_package(tiny_converted, gve_model, media, tmp_path):
    items = ["a text", {"text": "with a video", "video": str(media["video"])}]
    expected = gve_model.encode(items)
    out = run_python(
        BLOCK_PACKAGE
        + textwrap.dedent(
            f"""
            import json, torch
            from transformers import AutoModel, AutoProcessor
            model = AutoModel.from_pretrained({str(tiny_converted)!r}, trust_remote_code=True)
            assert type(model).__module__.startswith("transformers_modules."), type(model).__module__
            processor = AutoProcessor.from_pretrained({str(tiny_converted)!r}, trust_remote_code=True)
            assert type(processor).__name__ == "GVEProcessor"
            emb = model.encode({items!r})
            print(json.dumps(emb.tolist()))
            try:
                import modeling_gve
            except ModuleNotFoundError:
                pass
            else:
                raise SystemExit("modeling_gve should not be importable here")
            """
        ),
        cwd=tmp_path,
    )
    got = torch.tensor(json.loads(out.strip().splitlines()[-1]))
    assert (got - expected).abs().max() < 1e-5


def test_automodel_without_remote_code_after_import(tiny_converted, gve_model, tmp_path):
    out = run_python(
        textwrap.dedent(
            f"""
            import json
            import modeling_gve
            from transformers import AutoConfig, AutoModel, AutoProcessor
            model = AutoModel.from_pretrained({str(tiny_converted)!r})
            assert type(model) is modeling_gve.GVEModel, type(model)
            assert type(AutoProcessor.from_pretrained({str(tiny_converted)!r})) is modeling_gve.GVEProcessor
            assert type(AutoConfig.from_pretrained({str(tiny_converted)!r})) is modeling_gve.GVEConfig
            print(json.dumps(model.encode(["a text"]).tolist()))
            """
        ),
        cwd=tmp_path,
    )
    got = torch.tensor(json.loads(out.strip().splitlines()[-1]))
    assert (got - gve_model.encode(["a text"])).abs().max() < 1e-6


@pytest.mark.parametrize(
    "imports",
    [
        "from transformers import AutoModel\nimport modeling_gve",  # Auto classes loaded first: registered at import
        "import modeling_gve\nfrom transformers import Qwen2_5_VLModel",  # Auto modules loaded inside a model import
    ],
    ids=["auto-classes-first", "model-class-after"],
)
def test_automodel_without_remote_code_whatever_was_imported_first(tiny_converted, imports, tmp_path):
    """`import modeling_gve` registers GVE with the Auto classes without importing torch itself;
    the registration holds whether transformers was imported before it or after it."""
    path = str(tiny_converted)
    code = imports + textwrap.dedent(
        f"""
        from transformers import AutoConfig, AutoModel, AutoProcessor
        assert type(AutoConfig.from_pretrained({path!r})) is modeling_gve.GVEConfig
        assert type(AutoProcessor.from_pretrained({path!r})) is modeling_gve.GVEProcessor
        print(type(AutoModel.from_pretrained({path!r})).__name__)
        """
    )
    assert run_python(code, cwd=tmp_path).strip().splitlines()[-1] == "GVEModel"


def test_cli_convert_with_sampling_and_dtype(tiny_ckpt, tmp_path):
    from modeling_gve import GVEModel, GVEProcessor
    from modeling_gve.cli import main

    assert main(["convert", str(tiny_ckpt), str(tmp_path / "bf16"), "--dtype", "bfloat16"]) == 0
    model = GVEModel.from_pretrained(tmp_path / "bf16", dtype="auto")
    assert model.dtype == torch.bfloat16
    assert GVEProcessor.from_pretrained(tmp_path / "bf16").sampling["max_frames"] == 8


def test_processor_defaults_travel_with_the_checkpoint(tiny_ckpt, tmp_path, media):
    from modeling_gve import GVEModel
    from modeling_gve.convert import convert_checkpoint

    folder = convert_checkpoint(tiny_ckpt, tmp_path / "f16", sampling={"max_frames": 16, "min_frames": 16})
    model = GVEModel.from_pretrained(folder)
    batch = model.processor.process([{"video": media["video_long"]}])
    assert batch["video_grid_thw"][0, 0] == 8  # 16 frames / temporal patch 2


def test_missing_processor_gives_a_clear_error(tiny_ckpt, tmp_path):
    import shutil

    from modeling_gve import GVEModel

    folder = tmp_path / "weights-only"
    folder.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny_ckpt / name, folder / name)
    model = GVEModel.from_pretrained(folder)
    with pytest.raises(OSError, match="Could not load a processor"):
        model.encode(["x"])
