# Copyright 2026 The GVE package authors. Apache-2.0.
"""WebVid-style CSVs -> T2V training pairs (one row per video).

    python recipes/prepare/webvid.py --root data/gve-train/webvid --csv results_2M_train.csv

WebVid's CSVs have one row per video (``videoid``, ``contentUrl``, ``duration``, ``page_dir``,
``name`` = the caption); downloaders store the videos as ``<page_dir>/<videoid>.mp4``. Other
caption CSVs (InternVid-FLT clips, say) fit through ``--video_template``, ``--caption_column`` and
``--id_column``. A.4's WebVid rule is applied: a caption shared by more than
``max_videos_per_caption`` videos (stock-footage boilerplate) is dropped.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from common import captions_of, media_path, read_annotations, write_pairs

HUB_ANNOTATIONS = "TempoFunk/webvid-10M"  # the WebVid-10M CSV rows, as a Hub dataset


@dataclass
class WebVidArguments:
    root: str = field(metadata={"help": "Dataset root: the folder that holds the videos; the pairs go here."})
    csv: list[str] = field(default_factory=lambda: [HUB_ANNOTATIONS],
                           metadata={"help": "Caption CSV file(s), or a Hub dataset id."})  # fmt: skip
    split: str = field(default="train", metadata={"help": "Split of a Hub dataset."})
    video_template: str = field(
        default="{page_dir}/{videoid}.mp4", metadata={"help": "Video path relative to root, from the row's columns."}
    )
    caption_column: str = field(default="name", metadata={"help": "Column holding the caption."})
    id_column: str = field(default="videoid", metadata={"help": "Column holding a unique video id."})
    max_videos_per_caption: int | None = field(
        default=1, metadata={"help": "Drop captions shared by more videos (A.4's WebVid rule); None: keep all."}
    )


def convert(args: WebVidArguments) -> Path:
    root = Path(args.root)
    records = [r for source in args.csv for r in read_annotations(source, split=args.split)]
    captions = {id(r): captions_of(r.get(args.caption_column)) for r in records}
    shared = Counter(c[0] for c in captions.values() if c)
    rows, skipped = [], defaultdict(int)
    for record in records:
        caption = captions[id(record)]
        if not caption:
            skipped["no caption"] += 1
            continue
        if args.max_videos_per_caption is not None and shared[caption[0]] > args.max_videos_per_caption:
            skipped["caption shared by several videos"] += 1
            continue
        try:
            name = args.video_template.format(**record)
        except KeyError as err:
            raise ValueError(f"video_template {args.video_template!r} names {err}, not a column of the CSV") from None
        video = media_path(root, name)
        if video is None:
            skipped["video missing or outside the root"] += 1
            continue
        rows.append({"id": str(record[args.id_column]), "query_text": caption[0], "pos_video": video})
    return write_pairs(root, "T2V", rows, dict(skipped))


if __name__ == "__main__":
    from transformers import HfArgumentParser

    (arguments,) = HfArgumentParser(WebVidArguments).parse_args_into_dataclasses()
    convert(arguments)
