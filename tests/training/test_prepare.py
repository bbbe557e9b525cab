"""recipes/prepare/: public annotation sets -> training pairs, on tiny local copies in their real
layouts (MSR-VTT's MSRVTT_data.json, WebVid's CSV, COCO's Karpathy records and official file)."""

import csv
import json
import sys

import pytest
from helpers import REPO

from modeling_gve.testing.media import make_image, make_video
from modeling_gve.training.data import TaskData, TaskSpec

PREPARE = REPO / "recipes" / "prepare"


@pytest.fixture(scope="module", autouse=True)
def converters():
    sys.path.insert(0, str(PREPARE))  # the scripts import their `common` module as scripts do
    yield
    sys.path.remove(str(PREPARE))


def read_task(root, name):
    task = TaskData.open(TaskSpec(task="t", path=str(root), name=name), root.parent, seed=0,
                         cache_dir=str(root.parent / "cache"))  # fmt: skip
    return task, sorted(task.dataset, key=lambda r: r["id"])


def test_msrvtt_official_annotations_give_one_pair_per_caption_of_the_split(tmp_path):
    import msrvtt

    root = tmp_path / "msrvtt"
    for i in (0, 1, 9):
        make_video(root / "videos" / f"video{i}.mp4", seconds=1.0, fps=2, size=(56, 56))
    data = {
        "videos": [{"video_id": "video0", "split": "train"}, {"video_id": "video1", "split": "train"},
                   {"video_id": "video9", "split": "test"}, {"video_id": "video5", "split": "train"}],
        "sentences": [{"video_id": "video0", "caption": "a man cooks", "sen_id": 0},
                      {"video_id": "video0", "caption": "someone is cooking", "sen_id": 1},
                      {"video_id": "video1", "caption": "a cat plays", "sen_id": 2},
                      {"video_id": "video9", "caption": "a test video", "sen_id": 3},
                      {"video_id": "video5", "caption": "its file is missing", "sen_id": 4}],
    }  # fmt: skip
    (tmp_path / "MSRVTT_data.json").write_text(json.dumps(data))
    msrvtt.convert(msrvtt.MSRVTTArguments(root=str(root), annotations=str(tmp_path / "MSRVTT_data.json")))
    task, rows = read_task(root, "T2V")
    assert task.direction == "T2V"
    assert [(r["id"], r["query_text"], r["pos_video"]) for r in rows] == [
        ("video0-0", "a man cooks", "videos/video0.mp4"),
        ("video0-1", "someone is cooking", "videos/video0.mp4"),
        ("video1-0", "a cat plays", "videos/video1.mp4"),
    ]  # the test split and the missing video are left out
    # records with a list of captions (the Hub annotations' shape), one caption drawn per video
    (tmp_path / "records.jsonl").write_text(json.dumps({"video_id": "video1", "caption": ["a", "b", "c"]}) + "\n")
    msrvtt.convert(msrvtt.MSRVTTArguments(root=str(root), annotations=str(tmp_path / "records.jsonl"),
                                          captions_per_video=1))  # fmt: skip
    _, rows = read_task(root, "T2V")
    assert len(rows) == 1 and rows[0]["query_text"] in ("a", "b", "c")
    assert msrvtt.HUB_ANNOTATIONS == "friedrichor/MSR-VTT"


def test_webvid_csv_applies_the_shared_caption_rule(tmp_path):
    import webvid

    root = tmp_path / "webvid"
    rows = [
        {"videoid": "1", "page_dir": "000001_000050", "name": "A drone flies over a beach at dawn"},
        {"videoid": "2", "page_dir": "000001_000050", "name": "Stock footage video"},
        {"videoid": "3", "page_dir": "000051_000100", "name": "Stock footage video"},
        {"videoid": "4", "page_dir": "000051_000100", "name": "A red car on a wet road"},
        {"videoid": "5", "page_dir": "000051_000100", "name": "Its video was never downloaded"},
        {"videoid": "6", "page_dir": "../..", "name": "A path that leaves the root"},
    ]
    for row in rows[:4]:
        make_video(root / row["page_dir"] / f"{row['videoid']}.mp4", seconds=1.0, fps=2, size=(56, 56))
    make_video(tmp_path / "6.mp4", seconds=1.0, fps=2, size=(56, 56))
    with open(tmp_path / "results_2M_train.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["videoid", "contentUrl", "duration", "page_dir", "name"])
        writer.writeheader()
        writer.writerows({**r, "contentUrl": "https://example.invalid", "duration": "PT00H00M10S"} for r in rows)
    webvid.convert(webvid.WebVidArguments(root=str(root), csv=[str(tmp_path / "results_2M_train.csv")]))
    _, written = read_task(root, "T2V")
    kept = [("1", "000001_000050/1.mp4"), ("4", "000051_000100/4.mp4")]  # 2, 3: shared caption; 5: missing; 6: outside
    assert [(r["id"], r["pos_video"]) for r in written] == kept
    assert webvid.HUB_ANNOTATIONS == "TempoFunk/webvid-10M"


@pytest.mark.parametrize("layout", ["karpathy", "official"])
def test_coco_captions_give_image_text_pairs(tmp_path, layout):
    import coco

    root = tmp_path / "mscoco"
    make_image(root / "train2014" / "COCO_train2014_000000000009.jpg", size=(56, 56))
    if layout == "karpathy":
        records = [{"filepath": "train2014", "filename": "COCO_train2014_000000000009.jpg",
                    "sentences": ["a plate of food", "a meal on a table"], "split": "train"},
                   {"filepath": "val2014", "filename": "COCO_val2014_000000000042.jpg",
                    "sentences": ["its image is missing"]}]  # fmt: skip
        (tmp_path / "karpathy.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        args = coco.COCOArguments(root=str(root), annotations=str(tmp_path / "karpathy.jsonl"))
    else:
        official = {"images": [{"id": 9, "file_name": "COCO_train2014_000000000009.jpg"}],
                    "annotations": [{"image_id": 9, "caption": "a plate of food"},
                                    {"image_id": 9, "caption": "a meal on a table"}]}  # fmt: skip
        (tmp_path / "captions_train2014.json").write_text(json.dumps(official))
        args = coco.COCOArguments(root=str(root), annotations=str(tmp_path / "captions_train2014.json"),
                                  image_dir="train2014")  # fmt: skip
    coco.convert(args)
    task, rows = read_task(root, "I2T")
    assert task.direction == "I2T"
    assert [(r["query_image"], r["pos_text"]) for r in rows] == [
        ("train2014/COCO_train2014_000000000009.jpg", "a plate of food"),
        ("train2014/COCO_train2014_000000000009.jpg", "a meal on a table"),
    ]
    args.direction = "T2I"
    coco.convert(args)
    assert read_task(root, "T2I")[0].direction == "T2I"
    assert coco.HUB_ANNOTATIONS == "yerevann/coco-karpathy"
