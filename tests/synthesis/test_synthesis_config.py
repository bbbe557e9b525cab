"""V-SynFlow settings: shipped YAML configs parse, unknown keys fail with a suggestion, the
command line overrides the file, values are type-checked; the work records resume safely."""

from pathlib import Path

import pytest

from modeling_gve.args import load_yaml_config
from modeling_gve.synthesis.config import SynthesisConfig
from modeling_gve.synthesis.workstore import RecordLog, ShardedLog, shard_of, shards_for_process

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO / "recipes" / "configs").glob("vsynflow*.yaml"))


def parse(argv):
    return SynthesisConfig.parse(argv)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_shipped_configs_parse(path, tmp_path):
    config = parse(["--config", str(path), "--input", str(tmp_path), "--output_dir", str(tmp_path / "out")])
    values = load_yaml_config(path)
    assert config.data.stages == values.get("stages", ["qc", "enrich", "tasks"])
    assert config.captioner.captioner_model == values["captioner_model"]
    assert config.work_dir == tmp_path / "out" / ".vsynflow"


def test_shipped_configs_exist():
    assert {p.name for p in CONFIGS} >= {"vsynflow.yaml", "vsynflow-tiny.yaml"}


def test_unknown_yaml_key_suggests(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: x\noutput_dir: y\ncaptioner_model: m\nmotion_treshold: 0.1\n")
    with pytest.raises(ValueError, match=r"motion_treshold.*did you mean 'motion_threshold'"):
        parse(["--config", str(bad)])


def test_unknown_cli_option_is_an_error_with_a_suggestion(capsys):
    with pytest.raises(SystemExit):
        parse(["--output_dir", "o", "--captioner_modle", "m"])
    assert "unrecognized arguments: --captioner_modle; did you mean '--captioner_model'?" in capsys.readouterr().err


def test_cli_overrides_yaml_and_parses_collections(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text("input: in\noutput_dir: out\ncaptioner_model: m\nmotion_threshold: 0.1\ntasks: [T2V]\n")
    config = parse(
        [
            "--config",
            str(base),
            "--motion_threshold",
            "null",
            "--tasks",
            "[T2V, I2V]",
            "--hard-negatives",
            "{T2V: 2}",
            "--captioner_model",
            "1.5",
            "--clip_seconds",
            "2",
        ]
    )
    assert config.quality.motion_threshold is None
    assert config.tasks.tasks == ["T2V", "I2V"]
    assert config.tasks.hard_negatives == {"T2V": 2}
    assert config.captioner.captioner_model == "1.5"  # string settings stay strings
    assert config.quality.clip_seconds == 2.0
    flags = parse(["--config", str(base), "--push-to-hub", "--hub_repo_id", "me/data", "--qc_report_only", "false"])
    assert flags.hub.push_to_hub is True and flags.quality.qc_report_only is False


@pytest.mark.parametrize(
    "values, message",
    [
        ({"captioner_backend": "vllm"}, r"'vllm' is not one of 'openai', 'transformers'"),
        ({"tasks": ["T2V", "T2X"]}, r"tasks\[1\]: 'T2X' is not one of"),
        ({"max_rows": {"T2v": 5}}, r"did you mean 'T2V'"),
        ({"num_shards": 0}, r"num_shards: must be >= 1"),
        ({"motion_threshold": "high"}, r"motion_threshold: 'high' is not valid; expected float or null"),
        ({"mine_hard_negatives": True}, r"needs an `embedder`"),
        ({"push_to_hub": True}, r"needs hub_repo_id"),
    ],
)
def test_invalid_values_name_the_setting(values, message):
    with pytest.raises(ValueError, match=message):
        SynthesisConfig.from_values({"input": "in", "output_dir": "out", "captioner_model": "m"} | values)


def test_gve_synthesize_parses_the_same_settings():
    from modeling_gve.cli import COMMANDS, command_parser

    assert "synthesize" in COMMANDS
    args = command_parser("synthesize").parse_args(["--input", "in", "--output_dir", "out", "--captioner_model", "m"])
    assert SynthesisConfig.from_args(args).data.input == "in"


def test_captioner_retries_and_generation_attempts_are_two_settings(tmp_path):
    """Transport retries (the server did not answer) and answer regenerations (the answer was
    invalid) are counted separately; the old names still parse for one release."""
    values = {"input": "in", "output_dir": "out", "captioner_model": "m"}
    config = SynthesisConfig.from_values(values | {"captioner_request_retries": 0, "captioner_generation_attempts": 5})
    assert (config.captioner.captioner_request_retries, config.captioner.captioner_generation_attempts) == (0, 5)
    old = tmp_path / "old.yaml"
    old.write_text("input: in\noutput_dir: out\ncaptioner_model: m\ncaptioner_max_retries: 1\ncaptioner_max_attempts: 2\n")
    with pytest.warns(FutureWarning, match="'captioner_max_attempts' is deprecated; use 'captioner_generation_attempts'"):
        config = parse(["--config", str(old)])
    assert (config.captioner.captioner_request_retries, config.captioner.captioner_generation_attempts) == (1, 2)
    with pytest.raises(ValueError, match="give 'captioner_request_retries' only"):
        SynthesisConfig.from_values(values | {"captioner_max_retries": 1, "captioner_request_retries": 2})


def test_second_names_of_the_config_functions_warn(tmp_path):
    import modeling_gve.synthesis as synthesis
    from modeling_gve.synthesis import config

    with pytest.warns(FutureWarning, match="use modeling_gve.synthesis.config.SynthesisConfig.from_values"):
        assert synthesis.build_config == SynthesisConfig.from_values
    with pytest.warns(FutureWarning, match="use modeling_gve.args.load_yaml_config"):
        assert config.load_yaml is load_yaml_config


def test_shards_are_stable_and_split_between_processes():
    assert shard_of("video-001", 64) == shard_of("video-001", 64)
    owned = [shards_for_process(10, rank, 3) for rank in range(3)]
    assert sorted(s for shards in owned for s in shards) == list(range(10))


def test_record_log_drops_a_torn_last_line_and_appends_cleanly(tmp_path):
    log = RecordLog(tmp_path / "shard-00000.jsonl")
    log.append({"key": "a", "value": 1})
    log.append({"key": "b", "value": 2})
    log.close()
    with (tmp_path / "shard-00000.jsonl").open("a") as handle:  # a kill in the middle of a write
        handle.write('{"key": "c", "val')
    reopened = RecordLog(tmp_path / "shard-00000.jsonl")
    assert set(reopened.records) == {"a", "b"}
    reopened.append({"key": "c", "value": 3})
    reopened.close()
    assert ShardedLog(tmp_path, 1).read_all() == {
        "a": {"key": "a", "value": 1},
        "b": {"key": "b", "value": 2},
        "c": {"key": "c", "value": 3},
    }
