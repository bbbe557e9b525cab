# Copyright 2026 The GVE package authors. Apache-2.0.
"""Tiny synthetic training tasks in the training-data schema, for tests, docs and benchmarks.

``python -m modeling_gve.testing.synthetic_tasks OUT`` writes

* ``OUT/checkpoint``: a tiny random GVE checkpoint (`modeling_gve.testing.tiny.make_tiny_checkpoint`);
* ``OUT/data``: a dataset with five tasks (T2T, T2I, T2V, I2V, TI2V) over real encoded
  2-frame videos, PNG images and texts, one config per task, media under ``media/``;
* ``OUT/data/mixture.yaml``: a mixture file over those tasks;

which is what ``recipes/configs/tiny-cpu.yaml`` trains on. The pairs have learnable
structure (a colour named in the text is the colour of the image / video), so the loss of
a few dozen CPU steps falls.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml
from PIL import Image

from ..pairs import write_task
from .media import make_video
from .tiny import make_tiny_checkpoint

COLORS = {
    "red": (220, 30, 30), "green": (30, 200, 60), "blue": (30, 60, 220), "yellow": (230, 220, 40),
    "white": (245, 245, 245), "black": (15, 15, 15), "orange": (240, 140, 20), "purple": (130, 40, 170),
    "cyan": (40, 210, 220), "magenta": (220, 40, 200), "gray": (128, 128, 128), "brown": (120, 70, 30),
}  # fmt: skip


def make_media(root: Path, size: int = 56) -> dict[str, dict[str, str]]:
    """One still-colour 2-frame video and one image per colour; paths relative to ``root``."""
    media: dict[str, dict[str, str]] = {}
    for name, rgb in COLORS.items():
        video = Path("media/videos") / f"{name}.mp4"
        image = Path("media/images") / f"{name}.png"
        make_video(root / video, seconds=1.0, fps=2, size=(size, size), pattern=f"color=c=0x{bytes(rgb).hex()}")
        (root / image).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (size, size), rgb).save(root / image)
        media[name] = {"video": str(video), "image": str(image)}
    return media


def _row(i: int, query: dict, positive: dict, negatives: list[dict] | None = None) -> dict:
    row = {"id": str(i)}
    row.update({f"query_{k}": v for k, v in query.items()})
    row.update({f"pos_{k}": v for k, v in positive.items()})
    row["negatives"] = negatives or []
    return row


def make_tasks(root: str | Path, *, bad_rows: bool = False) -> dict[str, int]:
    """Write the five synthetic tasks under ``root``; returns rows per task.

    With ``bad_rows``, T2V gets a row whose video file is missing and T2T a row with an
    empty query text: the processor rejects both (`GVEInputError`).
    """
    root = Path(root)
    media = make_media(root)
    names = list(COLORS)
    other = {c: names[(i + 1) % len(names)] for i, c in enumerate(names)}
    tasks: dict[str, list[dict]] = {
        "T2T": [_row(i, {"text": f"the colour {c}"}, {"text": f"something that is {c}"}) for i, c in enumerate(names)]
        + [_row(100 + i, {"text": f"{c} as a word"}, {"text": f"a {c} thing"}) for i, c in enumerate(names)],
        "T2I": [_row(i, {"text": f"a {c} picture"}, {"image": media[c]["image"]}) for i, c in enumerate(names)],
        "T2V": [
            _row(i, {"text": f"a video that is all {c}"}, {"video": media[c]["video"]},
                 [{"video": media[other[c]]["video"]}])
            for i, c in enumerate(names)
        ],  # fmt: skip
        "I2V": [_row(i, {"image": media[c]["image"]}, {"video": media[c]["video"]}) for i, c in enumerate(names)],
        "TI2V": [
            _row(i, {"text": f"the same scene but {other[c]}", "image": media[c]["image"]},
                 {"video": media[other[c]]["video"]}, [{"video": media[c]["video"]}])
            for i, c in enumerate(names)
        ],  # fmt: skip
    }
    if bad_rows:
        tasks["T2V"].append(_row(900, {"text": "a video that does not exist"}, {"video": "media/videos/missing.mp4"}))
        tasks["T2T"].append(_row(901, {"text": ""}, {"text": "an empty query"}))
    for name, rows in tasks.items():
        write_task(root, name, rows)
    return {name: len(rows) for name, rows in tasks.items()}


def write_mixture(root: str | Path, *, num_samples: int = 32, batch_size: int = 4) -> Path:
    """``<root>/mixture.yaml`` over the synthetic tasks (``path: .``: the mixture's own folder)."""
    root = Path(root)
    negatives = {"T2V": 1, "TI2V": 1}
    tasks = [
        {"task": f"synthetic-{name}", "path": ".", "name": name, "batch_size": batch_size,
         "num_hard_negatives": negatives.get(name, 0), "num_samples": num_samples}
        for name in ("T2T", "T2I", "T2V", "I2V", "TI2V")
    ]  # fmt: skip
    path = root / "mixture.yaml"
    path.write_text(yaml.safe_dump({"tasks": tasks}, sort_keys=False))
    return path


def make_synthetic_run(out: str | Path, *, bad_rows: bool = False, num_samples: int = 32, batch_size: int = 4) -> dict:
    """Checkpoint + data + mixture under ``out`` (the layout ``tiny-cpu.yaml`` expects)."""
    out = Path(out)
    checkpoint = make_tiny_checkpoint(out / "checkpoint", seed=0)
    counts = make_tasks(out / "data", bad_rows=bad_rows)
    mixture = write_mixture(out / "data", num_samples=num_samples, batch_size=batch_size)
    return {"checkpoint": checkpoint, "data": out / "data", "mixture": mixture, "rows": counts}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="output folder (e.g. outputs/tiny)")
    parser.add_argument("--bad-rows", action="store_true", help="add two rows the processor rejects")
    args = parser.parse_args(argv)
    made = make_synthetic_run(args.out, bad_rows=args.bad_rows)
    print(f"Wrote {made['checkpoint']}, {made['mixture']} ({made['rows']})")


if __name__ == "__main__":
    main()


__all__ = ["COLORS", "make_media", "make_synthetic_run", "make_tasks", "write_mixture"]
