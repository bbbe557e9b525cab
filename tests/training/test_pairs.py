"""The training-pair format (`modeling_gve.pairs`): the one writer that V-SynFlow and the
training recipe share, atomic, declaring each task in the card so `datasets` loads it."""

import pyarrow.parquet as pq
import pytest
import yaml

from modeling_gve.pairs import COLUMNS, SCHEMA, config_entry, direction_of, remove_task, side, write_task


def card_configs(root):
    return yaml.safe_load((root / "README.md").read_text().split("---\n")[1])["configs"]


def test_rows_are_written_in_the_schema_and_loaded_by_datasets(tmp_path):
    import datasets

    rows = [
        {"id": "a", "query_text": "q", "pos_video": "media/a.mp4", "_video": "x",  # a pipeline's own column
         "negatives": [{"video": "media/b.mp4"}]},
        {"id": "b", "query_text": "r", "pos_video": "media/b.mp4"},  # no negatives key at all
    ]  # fmt: skip
    folder = write_task(tmp_path, "T2V", rows, rows_per_file=1)
    assert folder == tmp_path / "T2V"
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["train-00000-of-00002.parquet", "train-00001-of-00002.parquet"]
    assert pq.read_schema(folder / files[0]).remove_metadata() == SCHEMA
    loaded = datasets.load_dataset(str(tmp_path), "T2V", split="train", cache_dir=str(tmp_path / "cache"))
    assert loaded.column_names == list(COLUMNS)
    assert loaded[0]["negatives"] == [{"text": None, "image": None, "video": "media/b.mp4"}]
    assert loaded[1]["negatives"] == [] and loaded[1]["query_image"] is None


def test_the_card_lists_each_task_once_and_keeps_its_other_content(tmp_path):
    (tmp_path / "README.md").write_text("---\nlicense: mit\n---\n# My pairs\n")
    write_task(tmp_path, "T2V", [{"id": "a", "query_text": "q", "pos_video": "v.mp4"}])
    write_task(tmp_path, "I2V", [{"id": "a", "query_image": "i.png", "pos_video": "v.mp4"}])
    write_task(tmp_path, "T2V", [{"id": "b", "query_text": "q", "pos_video": "v.mp4"}])  # rewritten
    assert card_configs(tmp_path) == [config_entry("I2V"), config_entry("T2V")]
    text = (tmp_path / "README.md").read_text()
    assert "license: mit" in text and text.endswith("# My pairs\n")
    remove_task(tmp_path, "T2V")
    assert card_configs(tmp_path) == [config_entry("I2V")] and not (tmp_path / "T2V").exists()


def test_a_failed_write_leaves_the_previous_files(tmp_path, monkeypatch):
    write_task(tmp_path, "T2T", [{"id": "old", "query_text": "q", "pos_text": "p"}])

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken)
    with pytest.raises(OSError, match="disk full"):
        write_task(tmp_path, "T2T", [{"id": "new", "query_text": "q", "pos_text": "p"}])
    monkeypatch.undo()
    table = pq.read_table(tmp_path / "T2T")
    assert table.column("id").to_pylist() == ["old"]


def test_row_sides_and_direction():
    row = {"id": "r", "query_text": "t", "query_image": "i.png", "query_video": None, "pos_video": "v.mp4"}
    assert side(row, "query") == {"text": "t", "image": "i.png"} and side(row, "pos") == {"video": "v.mp4"}
    assert direction_of(row) == "TI2V" and direction_of({"query_text": "t"}) == "T2?"
