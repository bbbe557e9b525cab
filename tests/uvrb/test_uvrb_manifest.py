"""Manifests and `gve uvrb --verify`: a copy whose JSONL or media differ from the manifest is
named task by task, without encoding anything; LoVR videos come from a LongVideoBench folder."""

import json
import shutil

import pytest
from uvrb_helpers import mini_uvrb

from modeling_gve.cli import main
from modeling_gve.uvrb import TASKS
from modeling_gve.uvrb.data import UVRBDataError, load_task
from modeling_gve.uvrb.manifest import task_manifest

NAMES = ["MSRVTT", "DiDeMo", "LoVR-V"]


@pytest.fixture()
def copy(tmp_path_factory, tmp_path):
    """A copy of three mini-UVRB tasks and a results.json holding their manifests."""
    mini = mini_uvrb(tmp_path_factory)
    for name in NAMES:
        shutil.copytree(mini / name, tmp_path / "data" / name)
    manifests = {name: task_manifest(load_task(TASKS[name], mini / name)) for name in NAMES}
    record = tmp_path / "results.json"
    record.write_text(json.dumps({"data": {"tasks": manifests}, "config": {"media": "all"}}))
    return tmp_path / "data", record


def verify(data, record, capsys, *args) -> tuple[int, str]:
    code = main(["uvrb", "--data", str(data), "--verify", str(record), *args])
    return code, capsys.readouterr().out


def test_an_identical_copy_verifies(copy, capsys):
    code, out = verify(*copy, capsys)
    assert code == 0 and out.splitlines() == ["MSRVTT: ok", "DiDeMo: ok", "LoVR-V: ok", f"3 of 3 tasks match {copy[1]}"]


def test_changed_jsonl_and_media_are_named(copy, capsys):
    data, record = copy
    corpus = data / "MSRVTT" / "jsonl" / "corpus.jsonl"
    corpus.write_text(corpus.read_text().replace('"v0"', '"v00"').replace('"id": "v00"', '"id": "v0"') + "\n")
    frame = sorted((data / "DiDeMo" / "videos_frames").rglob("*.jpg"))[0]
    frame.write_bytes(frame.read_bytes() + b"\0")
    code, out = verify(data, record, capsys)
    assert code == 1
    assert "MSRVTT: corpus.jsonl differs" in out and "LoVR-V: ok" in out
    assert "DiDeMo: media differ" in out and "(same count and size" not in out
    assert out.strip().endswith("1 of 3 tasks match " + str(record))


def test_verify_needs_a_manifest(copy, tmp_path, capsys):
    data, _ = copy
    bad = tmp_path / "other.json"
    bad.write_text(json.dumps({"tasks": {"MSRVTT": {"main_score": 0.1}}}))
    assert main(["uvrb", "--data", str(data), "--verify", str(bad)]) == 2
    assert "no per-task manifest" in capsys.readouterr().err


def test_lovr_videos_come_from_a_longvideobench_folder(copy, tmp_path):
    data, _ = copy
    lvb = tmp_path / "LongVideoBench" / "videos"
    lvb.mkdir(parents=True)
    for video in (data / "LoVR-V" / "videos").iterdir():  # the long videos leave the UVRB copy (index only)
        shutil.move(video, lvb / video.name)
    with pytest.raises(UVRBDataError, match="video 'lovr_00.mp4' not found"):
        load_task(TASKS["LoVR-V"], data / "LoVR-V")
    loaded = load_task(TASKS["LoVR-V"], data / "LoVR-V", lovr_videos=lvb.parent)
    assert {s.path.parent for s in loaded.corpus.values()} == {lvb}
    manifest = task_manifest(loaded, lvb.parent)
    moved = shutil.copytree(lvb.parent, tmp_path / "elsewhere" / "LVB")  # another machine's folder
    assert task_manifest(load_task(TASKS["LoVR-V"], data / "LoVR-V", lovr_videos=moved), moved) == manifest
    assert manifest["media"]["count"] == 3 and manifest["media"]["bytes"] == sum(p.stat().st_size for p in lvb.iterdir())
    with pytest.raises(UVRBDataError, match=r"not found in the LongVideoBench folder .* \(--lovr-videos\)"):
        load_task(TASKS["LoVR-V"], data / "LoVR-V", lovr_videos=tmp_path)
    assert not load_task(TASKS["MSRVTT"], data / "MSRVTT", lovr_videos=tmp_path).corpus["v0"].is_frames
