# Copyright 2026 The GVE package authors. Apache-2.0.
"""The settings of one UVRB run: `UVRBRunConfig`, from which ``gve uvrb`` makes its options.

Standard library (and the package's parser) only: ``gve uvrb --help`` and argument errors answer
without loading torch. The values are checked when the config is made (`__post_init__`), before
any data is read or any model loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..args import RecipeArguments
from ..hub_ids import DEFAULT_MODEL
from .tasks import HUB_REPO, resolve_tasks

# A frame folder carries no frame rate: the rate of the authors' indexing code.
DEFAULT_FRAMES_FPS = 1.0
DEFAULT_MEMORY_BUDGET_MB = 64  # one block of similarity scores (`scoring.chunked_topk`)

MediaSelection = Literal["all", "videos", "frames", "none"]
FramesProtocol = Literal["video", "reference", "uniform"]
CmpRanking = Literal["per-query", "corpus"]
EncoderKind = Literal["auto", "gve", "sentence-transformers"]  # = `modeling_gve.encoders.EncoderKind`


def _option(help: str, **kwargs: Any) -> Any:
    """A field with its ``--help`` text."""
    return field(metadata={"help": help, **kwargs.pop("metadata", {})}, **kwargs)


@dataclass
class UVRBRunConfig(RecipeArguments):
    """Settings of one UVRB run (`gve uvrb`)."""

    model: str = _option("a GVE checkpoint or a SentenceTransformer model, Hub id or folder", default=DEFAULT_MODEL)
    output: str = _option("output folder: results.json, results.md, radar.png, tasks/*.json", default="uvrb-results")
    tasks: list[str] | None = _option(
        "task names and/or abilities (TXT, CMP, VIS, CG, FG, LC, S, T, PR); none: all 16", default=None
    )
    data: str = _option(
        "a local copy of UVRB (task folders at any depth, or per-task archives) or a Hub dataset repo",
        default=HUB_REPO,
    )
    data_revision: str | None = _option("Hub revision of --data (the commit scored is recorded)", default=None)
    media: MediaSelection = _option(
        "which media to use where a task has both: all (videos first), videos, frames; none fetches the JSONL only",
        default="all",
    )
    frames_protocol: FramesProtocol = _option(
        "how a videos_frames/ folder becomes model input: video (read like the video it came from: the frame-count "
        "rule, video pixel bounds), reference (qwen_vl_utils.fetch_video given the frame list: every frame), "
        "uniform (N = max_frames frames at linspace positions)",
        default="video",
    )
    frames_fps: float = _option("the frame rate of videos_frames/ folders", default=DEFAULT_FRAMES_FPS)
    cmp_ranking: CmpRanking | None = _option(
        "MS-TI/MS-TV: per-query (each query's own candidates; an error where the data lists none) or corpus "
        "(the whole task corpus); none: per-query where the data lists candidates, else corpus, noted",
        default=None,
    )
    lovr_videos: str | None = _option(
        "a LongVideoBench folder to read the LoVR-V / LoVR-C2V corpus videos from (UVRB does not re-host them)",
        default=None,
    )
    verify: str | None = _option(
        "check --data against the manifest of this results.json (or manifest JSON) and stop; nothing is encoded",
        default=None,
    )
    encoder: EncoderKind = _option("how to load --model: auto, gve or sentence-transformers", default="auto")
    revision: str | None = _option("Hub revision of --model", default=None)
    device: str | None = _option("where the model runs; none: the best available", default=None)
    dtype: Literal["bfloat16", "float16", "float32"] | None = _option(
        "model dtype; none: bfloat16 on GPU, float32 on CPU", default=None
    )
    trust_remote_code: bool = _option("let a SentenceTransformer model run its own code", default=False)
    sampling: dict[str, Any] = _option(
        "preprocessing overrides (SamplingConfig), e.g. max_frames=16 video_max_pixels=313600",
        default_factory=dict,
    )
    segment_seconds: float | None = _option(
        "score the corpus videos of the partially relevant and long-context tasks (DREAM-E, LoVR-TH, PEV-K, "
        "LoVR-V, VDC-D) by their best segment of this many seconds (max over segments); none: one vector per "
        "video, the paper's protocol",
        default=None,
    )
    batch_size: int = _option("inputs per forward pass", default=8)
    num_workers: int = _option("threads reading media ahead of the model", default=2)
    flush_every: int = _option("inputs per cache shard: the most an interruption loses", default=64)
    cache_dir: str | None = _option("the embedding cache; none: <output>/embedding_cache", default=None)
    memory_budget_mb: int = _option("the size of one block of similarity scores", default=DEFAULT_MEMORY_BUDGET_MB)
    show_progress_bar: bool = _option("progress bars on the main process", default=True)
    model_label: str | None = _option(
        "this model's row name in the tables; none: --model", default=None, metadata={"aliases": ["--label"]}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        try:
            resolve_tasks(self.tasks)  # unknown names fail here, with a "did you mean"
        except KeyError as err:
            raise ValueError(err.args[0]) from None
        if self.sampling:
            from ..processing_gve import SamplingConfig  # the one declaration of the sampling options

            try:
                SamplingConfig().replace(**self.sampling)
            except TypeError as err:  # an unknown option, with a "did you mean"
                raise ValueError(err.args[0]) from None
        for name in ("frames_fps", "batch_size", "flush_every", "memory_budget_mb"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.segment_seconds is not None and self.segment_seconds <= 0:
            raise ValueError(f"segment_seconds must be positive, got {self.segment_seconds!r}")
        if self.num_workers < 0:
            raise ValueError(f"num_workers must be >= 0, got {self.num_workers!r}")


__all__ = [
    "DEFAULT_FRAMES_FPS",
    "DEFAULT_MEMORY_BUDGET_MB",
    "CmpRanking",
    "EncoderKind",
    "FramesProtocol",
    "MediaSelection",
    "UVRBRunConfig",
]
