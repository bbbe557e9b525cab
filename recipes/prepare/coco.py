# Copyright 2026 The GVE package authors. Apache-2.0.
"""MSCOCO captions -> I2T (or T2I) training pairs (one row per caption).

    python recipes/prepare/coco.py --root data/gve-train/mscoco --direction I2T
    # the official annotation file instead of the Hub's Karpathy split
    python recipes/prepare/coco.py --root data/mscoco --annotations annotations/captions_train2017.json \
        --image_dir train2017

The Hub annotations (the Karpathy splits: ``filepath``, ``filename``, ``sentences``) name images
as ``<filepath>/<filename>`` (e.g. ``train2014/COCO_train2014_....jpg``); the images themselves
come from cocodataset.org into ``<root>``. The paper's mixture trains MSCOCO as I2T (Table 6).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from common import captions_of, media_path, read_annotations, write_pairs

HUB_ANNOTATIONS = "yerevann/coco-karpathy"


@dataclass
class COCOArguments:
    root: str = field(metadata={"help": "Dataset root: the folder that holds the images; the pairs go here."})
    direction: Literal["I2T", "T2I"] = field(default="I2T", metadata={"help": "Image -> caption, or the reverse."})
    annotations: str = field(default=HUB_ANNOTATIONS, metadata={"help": "Annotation file or Hub dataset id."})
    split: str = field(default="train", metadata={"help": "Split of the Hub annotations."})
    image_dir: str = field(default="", metadata={"help": "Folder of the images relative to root (official file)."})


def captions_by_image(records: list[dict], image_dir: str) -> dict[str, list[str]]:
    """``{image path relative to root: captions}`` of the Karpathy records or the official file."""
    out: dict[str, list[str]] = defaultdict(list)
    if len(records) == 1 and "annotations" in records[0]:  # captions_*.json
        files = {image["id"]: image["file_name"] for image in records[0]["images"]}
        for annotation in records[0]["annotations"]:
            name = files[annotation["image_id"]]
            out[f"{image_dir}/{name}" if image_dir else name].extend(captions_of(annotation["caption"]))
        return out
    for record in records:
        name = f"{record['filepath']}/{record['filename']}" if record.get("filepath") else record["filename"]
        out[name].extend(captions_of(record["sentences"]))
    return out


def convert(args: COCOArguments) -> Path:
    root = Path(args.root)
    records = read_annotations(args.annotations, split=args.split)
    rows, skipped = [], defaultdict(int)
    image_side, text_side = ("query", "pos") if args.direction == "I2T" else ("pos", "query")
    for name, captions in sorted(captions_by_image(records, args.image_dir).items()):
        image = media_path(root, name)
        if image is None:
            skipped["image missing or outside the root"] += 1
            continue
        stem = Path(name).stem
        rows += [{"id": f"{stem}-{i}", f"{image_side}_image": image, f"{text_side}_text": caption}
                 for i, caption in enumerate(captions)]  # fmt: skip
    return write_pairs(root, args.direction, rows, dict(skipped))


if __name__ == "__main__":
    from transformers import HfArgumentParser

    (arguments,) = HfArgumentParser(COCOArguments).parse_args_into_dataclasses()
    convert(arguments)
