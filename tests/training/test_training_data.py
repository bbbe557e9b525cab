"""Task datasets in the training-data schema: reading, seeded order, resumable positions, bad rows."""

import pytest
from training_helpers import TINY_SAMPLING

from modeling_gve import GVEInputError, GVEProcessor, VideoFrames
from modeling_gve.pairs import direction_of, write_task
from modeling_gve.testing.media import make_image, make_video
from modeling_gve.training.data import (
    BadRow,
    BatchLoader,
    BatchPlan,
    TaskData,
    TaskSpec,
    row_items,
)


def text_rows(n):
    return [{"id": f"r{i}", "query_text": f"query {i}", "pos_text": f"positive {i}"} for i in range(n)]


@pytest.fixture()
def local_root(tmp_path, monkeypatch):
    import datasets

    # datasets 5 sleeps 5 s whenever a streamed iterator is closed (an Arrow-threads workaround);
    # harmless once per pass over a big dataset, but it would dominate this 7-row test.
    monkeypatch.setattr(datasets.config, "SLEEP_TIME_ON_THREADS_SHUTDOWN", 0)
    write_task(tmp_path / "ds", "T2T", text_rows(7))
    return tmp_path / "ds"


def open_task(root, streaming=False, **kw):
    spec = TaskSpec(task="t", path=str(root), name="T2T", streaming=streaming,
                    num_samples=7 if streaming else None, **kw)  # fmt: skip
    return TaskData.open(spec, root.parent, seed=3, cache_dir=str(root.parent / "cache"))


def ids(rows):
    return [r["id"] for r in rows]


@pytest.mark.parametrize("streaming", [False, True])
def test_order_is_seeded_passes_cover_all_rows_and_positions_resume(local_root, streaming):
    task = open_task(local_root, streaming)
    assert task.direction == "T2T" and task.instruction
    rows, position = task.take((0, 0), 10)  # a whole pass, then 3 rows of the next
    assert sorted(ids(rows[:7])) == [f"r{i}" for i in range(7)]
    assert position == (1, 3)
    assert ids(rows) == ids(open_task(local_root, streaming).take((0, 0), 10)[0])  # same seed, same order
    # in pieces, and from a fresh reader at a saved position (resume), the stream is the same
    first, middle = task.take((0, 0), 4)
    second, _ = open_task(local_root, streaming).take(middle, 6)
    assert ids(first + second) == ids(rows)
    if not streaming:
        other = TaskData.open(TaskSpec(task="t", path=str(local_root), name="T2T"), local_root.parent, seed=4,
                              cache_dir=str(local_root.parent / "cache"))  # fmt: skip
        assert ids(other.take((0, 0), 7)[0]) != ids(rows[:7])


def test_same_folder_name_elsewhere_is_not_served_from_a_stale_cache(tmp_path):
    """datasets keys a local folder's cache by its name only; the reader must not."""
    write_task(tmp_path / "a" / "ds", "T2T", text_rows(2))
    write_task(tmp_path / "b" / "ds", "T2T", [{"id": "other", "query_text": "q", "pos_text": "p"}])
    cache = str(tmp_path / "cache")
    first = TaskData.open(TaskSpec(task="t", path="a/ds", name="T2T"), tmp_path, seed=0, cache_dir=cache)
    second = TaskData.open(TaskSpec(task="t", path="b/ds", name="T2T"), tmp_path, seed=0, cache_dir=cache)
    assert first.num_rows == 2 and ids(second.take((0, 0), 1)[0]) == ["other"]


def test_schema_columns_are_checked(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "bad" / "T2T").mkdir(parents=True)
    pq.write_table(pa.table({"id": ["1"], "query_text": ["q"]}), tmp_path / "bad" / "T2T" / "train.parquet")
    with pytest.raises(ValueError, match="lacks the schema column"):
        TaskData.open(TaskSpec(task="x", path="bad", name=None), tmp_path, seed=0, cache_dir=str(tmp_path / "c"))
    with pytest.raises(FileNotFoundError, match="not a Hub repo id"):
        TaskData.open(TaskSpec(task="x", path="nowhere/at/all"), tmp_path, seed=0)


def test_rows_resolve_media_and_bad_rows_name_their_field(tmp_path, tiny_ckpt):
    root = tmp_path / "ds"
    make_video(root / "media" / "a.mp4", seconds=1.0, fps=2, size=(56, 56))
    make_image(root / "media" / "i.png", size=(56, 56))
    frames = root / "media" / "frames" / "b"
    for k in range(4):
        make_image(frames / f"{k}.jpg", size=(56, 56), seed=k)
    rows = [
        {"id": "good", "query_text": "a clip", "pos_video": "media/a.mp4", "negatives": [{"video": "media/frames/b"}]},
        {"id": "missing", "query_text": "gone", "pos_video": "media/nope.mp4"},
        {"id": "empty", "query_text": "  ", "pos_video": "media/a.mp4"},
        {"id": "badneg", "query_text": "x", "pos_video": "media/a.mp4", "negatives": [{"video": "media/gone.mp4"}]},
        {"id": "pattern", "query_text": "x", "query_image": "media/i.png", "pos_video": "media/a.mp4"},
        # a hard negative is a candidate: the task's candidate modalities (an image here would
        # add a vision pass on one process only, which hangs FSDP / ZeRO-3 runs)
        {"id": "negpattern", "query_text": "x", "pos_video": "media/a.mp4",
         "negatives": [{"image": "media/i.png"}]},  # fmt: skip
    ]
    write_task(root, "T2V", rows)
    spec = TaskSpec(task="v", path="ds", name="T2V", num_hard_negatives=1)
    task = TaskData.open(spec, tmp_path, seed=0, cache_dir=str(tmp_path / "cache"))
    assert task.direction == "T2V" and direction_of(rows[4]) == "TI2V"
    good = row_items(task.dataset[0], task)
    assert good.positive == {"video": str(root / "media" / "a.mp4")}
    assert isinstance(good.negatives[0]["video"], VideoFrames) and good.negatives[0]["video"].fps == 1.0
    with pytest.raises(GVEInputError, match="modality pattern TI2V"):
        row_items(task.dataset[4], task)

    processor = GVEProcessor.from_pretrained(tiny_ckpt)
    loader = BatchLoader([task], processor, processor.sampling_config(**TINY_SAMPLING))
    batch = loader(BatchPlan(step=0, task_index=0, rows=[task.dataset[i] for i in range(6)], state_after={}))
    assert [r.row_id for r in batch.rows] == ["good"]
    reasons = {b.row_id: (b.field, b.reason) for b in batch.bad}
    assert reasons["missing"] == ("positive", "file not found")
    assert reasons["empty"][0] == "query" and "text is empty" in reasons["empty"][1]
    assert reasons["badneg"] == ("negatives[0]", "file not found")
    assert reasons["pattern"][0] == "row" and "TI2V" in reasons["pattern"][1]
    assert reasons["negpattern"] == (
        "row", "hard negative 0 has modality pattern I, but the candidates of task 'v' are V"
    )  # fmt: skip
    assert all(isinstance(b, BadRow) for b in batch.bad)
    # the query carries the task instruction in the system turn, candidates the default
    query_prompt = processor.tokenizer.decode(batch.rows[0].query["input_ids"])
    positive_prompt = processor.tokenizer.decode(batch.rows[0].positive["input_ids"])
    assert f"<|im_start|>system\n{task.instruction}<|im_end|>" in query_prompt
    assert "<|im_start|>system\nYou are a helpful assistant.<|im_end|>" in positive_prompt
    assert query_prompt.endswith("<|im_start|>assistant\n<|endoftext|>")


def test_probing_rows_do_not_resolve_hard_negative_media(tmp_path, tiny_ckpt):
    """Probing reads positive pairs only: a hard negative's media (a Hub download for Hub
    datasets) is not fetched when ``with_negatives=False``."""
    root = tmp_path / "ds"
    for name in ("pos", "neg"):
        make_image(root / "media" / f"{name}.png", size=(56, 56))
    rows = [{"id": "r", "query_text": "a picture", "pos_image": "media/pos.png",
             "negatives": [{"image": "media/neg.png"}]}]  # fmt: skip
    write_task(root, "T2I", rows)
    task = TaskData.open(TaskSpec(task="i", path="ds", name="T2I", num_hard_negatives=1), tmp_path, seed=0,
                         cache_dir=str(tmp_path / "cache"))  # fmt: skip
    resolved = []
    local_path = task.resolver.local_path
    task.resolver.local_path = lambda relative: resolved.append(relative) or local_path(relative)
    processor = GVEProcessor.from_pretrained(tiny_ckpt)
    loader = BatchLoader([task], processor, processor.sampling_config(**TINY_SAMPLING))

    probed = loader.load_row(task.dataset[0], task, with_negatives=False)
    assert probed.negatives == [] and probed.negative_ids == []
    assert resolved == ["media/pos.png"]
    resolved.clear()
    trained = loader.load_row(task.dataset[0], task)
    assert len(trained.negatives) == 1 and resolved == ["media/pos.png", "media/neg.png"]


def test_a_direction_without_a_table_instruction_needs_the_mixture_instruction(tmp_path):
    """No generated fallback: an IV2V task (not in `directions.INSTRUCTIONS`) must say its instruction."""
    root = tmp_path / "ds"
    make_image(root / "media" / "i.png", size=(56, 56))
    make_video(root / "media" / "a.mp4", seconds=1.0, fps=2, size=(56, 56))
    write_task(root, "IV2V", [{"id": "r", "query_image": "media/i.png", "query_video": "media/a.mp4",
                               "pos_video": "media/a.mp4"}])  # fmt: skip
    cache = str(tmp_path / "cache")
    with pytest.raises(ValueError, match=r"task 'iv': no query instruction for direction 'IV2V'"):
        TaskData.open(TaskSpec(task="iv", path="ds", name="IV2V"), tmp_path, seed=0, cache_dir=cache)
    spec = TaskSpec(task="iv", path="ds", name="IV2V", instruction="Find the video with this image and clip.")
    assert TaskData.open(spec, tmp_path, seed=0, cache_dir=cache).instruction == spec.instruction


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink"])
def test_media_paths_must_resolve_inside_the_dataset_root(tmp_path, tiny_ckpt, kind):
    """A row naming a file outside its dataset (``../x``, an absolute path elsewhere, a link leading
    out) is a bad row stating the rule: the file is never read."""
    from modeling_gve.paths import MEDIA_PATH_RULE

    root = tmp_path / "ds"
    make_video(root / "media" / "a.mp4", seconds=1.0, fps=2, size=(56, 56))
    outside = make_video(tmp_path / "outside.mp4", seconds=1.0, fps=2, size=(56, 56))
    if kind == "symlink":
        (root / "media" / "leak.mp4").symlink_to(outside)
    name = {"dotdot": "../outside.mp4", "absolute": str(outside), "symlink": "media/leak.mp4"}[kind]
    write_task(root, "T2V", [{"id": "r", "query_text": "a clip", "pos_video": name}])
    task = TaskData.open(TaskSpec(task="v", path="ds", name="T2V"), tmp_path, seed=0, cache_dir=str(tmp_path / "c"))
    processor = GVEProcessor.from_pretrained(tiny_ckpt)
    bad = BatchLoader([task], processor, processor.sampling_config(**TINY_SAMPLING)).load_row(task.dataset[0], task)
    assert isinstance(bad, BadRow), "a file outside the dataset root was read"
    assert (bad.field, bad.input) == ("positive", f"video {name!r}")
    assert f"outside {root}" in bad.reason and MEDIA_PATH_RULE in bad.reason
    assert str(bad).startswith(f"task 'v', row 'r', positive: video {name!r}: resolves to ")


def _json_task(root, name, rows: list[dict], replace: tuple[bytes, bytes] = (b"", b"")):
    """A task stored as JSON lines (``<root>/<name>/train.jsonl``, every schema column) with its
    card entry; ``replace`` swaps bytes in the file (to plant invalid UTF-8)."""
    import json

    from modeling_gve.pairs import COLUMNS

    (root / name).mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({c: row.get(c, [] if c == "negatives" else None) for c in COLUMNS}) for row in rows]
    data = "\n".join(lines).encode() + b"\n"
    (root / name / "train.jsonl").write_bytes(data.replace(*replace) if replace[0] else data)
    (root / "README.md").write_text(
        f"---\nconfigs:\n- config_name: {name}\n  data_files: [{{split: train, path: {name}/*.jsonl}}]\n---\n"
    )


def test_a_media_path_that_is_not_a_string_is_a_bad_row(tmp_path, tiny_ckpt):
    """JSON data can hold a number where a path belongs: a reported bad row, not a TypeError."""
    root = tmp_path / "ds"
    make_image(root / "media" / "i.png", size=(56, 56))
    # a column of numbers: datasets reads every value of it as a number
    _json_task(root, "T2I", [{"id": "a", "query_text": "a picture", "pos_image": 7},
                             {"id": "b", "query_text": "a number", "pos_image": 8}])  # fmt: skip
    task = TaskData.open(TaskSpec(task="i", path="ds", name="T2I"), tmp_path, seed=0, cache_dir=str(tmp_path / "c"))
    processor = GVEProcessor.from_pretrained(tiny_ckpt)
    bad = BatchLoader([task], processor, processor.sampling_config(**TINY_SAMPLING)).load_row(task.dataset[0], task)
    assert isinstance(bad, BadRow) and (bad.row_id, bad.field) == ("a", "positive")
    assert bad.input == "image 7" and bad.reason == "is int, not a string: a media path must be a string"


def test_invalid_utf8_in_a_jsonl_task_names_the_file_and_line(tmp_path):
    from modeling_gve.paths import DataFileError

    root = tmp_path / "ds"
    rows = [{"id": "1", "query_text": "fine", "pos_text": "ok"}, {"id": "2", "query_text": "PLANT", "pos_text": "ok"}]
    _json_task(root, "T2T", rows, replace=(b"PLANT", b"caf\xe9"))
    with pytest.raises(DataFileError) as err:
        TaskData.open(TaskSpec(task="t", path="ds", name="T2T"), tmp_path, seed=0, cache_dir=str(tmp_path / "c"))
    assert str(err.value).startswith(f"{root / 'T2T' / 'train.jsonl'}:2: invalid UTF-8 (byte 0xe9")
