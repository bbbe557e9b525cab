# Copyright 2026 The GVE package authors. Apache-2.0.
"""MSR-VTT -> T2V training pairs (one row per caption of each video).

    python recipes/prepare/msrvtt.py --root data/gve-train/msrvtt --video_dir videos
    # annotations from a local file instead of the Hub: the official MSRVTT_data.json, or records
    # {"video_id": "video0", "caption": "..." or [...]} as .json / .jsonl / .csv / .parquet
    python recipes/prepare/msrvtt.py --root data/msrvtt --annotations MSRVTT_data.json --split train

The videos (``video0.mp4`` ... ``video9999.mp4``) are not on the Hub as files: download them from
the MSR-VTT release into ``<root>/<video_dir>``. The pairs are written into ``<root>`` (``T2V``
config, `modeling_gve.pairs`); a mixture names it ``{path: msrvtt, name: T2V}``. MSR-VTT's test
videos are UVRB's MSRVTT task: train on the training split only.
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from common import captions_of, media_path, read_annotations, write_pairs

HUB_ANNOTATIONS = "friedrichor/MSR-VTT"  # configs train_9k, train_7k, test_1k


@dataclass
class MSRVTTArguments:
    root: str = field(metadata={"help": "Dataset root: the folder that holds the videos; the pairs go here."})
    video_dir: str = field(default="videos", metadata={"help": "Folder of the videos, relative to root."})
    annotations: str = field(default=HUB_ANNOTATIONS, metadata={"help": "Annotation file or Hub dataset id."})
    annotations_config: str | None = field(default="train_9k", metadata={"help": "Hub dataset config."})
    split: str = field(default="train", metadata={"help": "Split to convert (MSRVTT_data.json: its 'split')."})
    captions_per_video: int | None = field(
        default=None, metadata={"help": "Keep this many captions per video, drawn with seed (None: all ~20)."}
    )
    seed: int = field(default=42, metadata={"help": "Seed of the caption draw."})


def captions_by_video(records: list[dict], split: str) -> dict[str, list[str]]:
    """``{video_id: captions}`` of the official file (``videos`` + ``sentences``) or of records."""
    if len(records) == 1 and "sentences" in records[0]:  # MSRVTT_data.json
        data = records[0]
        wanted = {v["video_id"] for v in data.get("videos", []) if v.get("split", split) == split}
        records = [s for s in data["sentences"] if s["video_id"] in wanted]
    captions: dict[str, list[str]] = defaultdict(list)
    for record in records:
        captions[str(record["video_id"])].extend(captions_of(record.get("caption")))
    return captions


def convert(args: MSRVTTArguments) -> Path:
    root = Path(args.root)
    records = read_annotations(args.annotations, args.annotations_config, args.split)
    rng = random.Random(args.seed)
    rows, skipped = [], defaultdict(int)
    for video_id, captions in sorted(captions_by_video(records, args.split).items()):
        video = media_path(root, f"{args.video_dir}/{video_id}.mp4")
        if video is None:
            skipped["video missing or outside the root"] += 1
            continue
        if args.captions_per_video is not None:
            captions = rng.sample(captions, min(args.captions_per_video, len(captions)))
        rows += [{"id": f"{video_id}-{i}", "query_text": c, "pos_video": video} for i, c in enumerate(captions)]
    return write_pairs(root, "T2V", rows, dict(skipped))


if __name__ == "__main__":
    from transformers import HfArgumentParser

    (arguments,) = HfArgumentParser(MSRVTTArguments).parse_args_into_dataclasses()
    convert(arguments)
