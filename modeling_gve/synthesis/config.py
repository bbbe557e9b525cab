# Copyright 2026 The GVE package authors. Apache-2.0.
"""V-SynFlow settings: argument dataclasses, YAML defaults and command-line overrides.

TRL/alignment-handbook style: a flat YAML file (``recipes/configs/vsynflow.yaml``) sets the
defaults, ``--name value`` on the command line overrides them, and every key belongs to one
of the dataclasses below. Unknown keys (in the file or on the command line) are errors with
a "did you mean"; values are type-checked (``Literal`` fields list the valid choices). The
parsing and checking are `modeling_gve.args`'s, shared with the training recipe.

On the command line a list is one YAML list or several values, a mapping is YAML, and
``null`` clears an optional setting: ``--tasks '[T2V, I2V]'`` (or ``--tasks T2V I2V``),
``--hard_negatives '{T2V: 1}'``, ``--consistency_threshold null``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args

from .._deprecation import moved_names, warn_moved
from ..args import RecipeArguments, RecipeConfig
from ..directions import instruction
from ..suggest import did_you_mean

# The directions V-SynFlow builds rows for (stage 3, `tasks.py`): a subset of `modeling_gve.directions`.
TaskName = Literal["T2V", "T2T", "T2I", "I2V", "V2V", "TI2V", "TV2V"]
StageName = Literal["qc", "enrich", "tasks"]
EnrichKind = Literal["video_captions", "frame_captions", "ti_query", "tv_query"]
EmbedderKind = Literal["gve", "sentence-transformers"]

TASKS: tuple[str, ...] = get_args(TaskName)
STAGES: tuple[str, ...] = get_args(StageName)
ENRICH_KINDS: tuple[str, ...] = get_args(EnrichKind)


@dataclass
class DataArguments(RecipeArguments):
    """Where the captioned videos come from and where the dataset goes."""

    input: str = field(
        default="", metadata={"help": "folder of captioned videos, or a Hub dataset repo id in the same layout"}
    )
    input_revision: str | None = field(default=None, metadata={"help": "Hub revision of `input`"})
    metadata_file: str | None = field(
        default=None,
        metadata={
            "help": "captions file inside `input` (default: metadata.jsonl/.csv/.parquet or captions.jsonl/.csv)"
        },
    )
    video_column: str = field(
        default="file_name", metadata={"help": "column holding the video path (relative to the metadata file)"}
    )
    caption_column: str = field(default="caption", metadata={"help": "column holding the caption"})
    id_column: str | None = field(
        default="id", metadata={"help": "column holding a unique id (default: the file path)"}
    )
    max_videos: int | None = field(default=None, metadata={"help": "use only the first N videos (trial runs)"})
    output_dir: str = field(
        default="", metadata={"help": "the dataset folder written (parquet per task + media + card)"}
    )
    work_dir: str | None = field(default=None, metadata={"help": "resumable state (default: <output_dir>/.vsynflow)"})
    stages: list[StageName] = field(default_factory=lambda: list(STAGES), metadata={"help": "stages to run, in order"})
    num_shards: int = field(
        default=64, metadata={"help": "work units; processes split them; keep fixed across reruns"}
    )
    seed: int = field(default=42, metadata={"help": "seed of every random choice (profiles, sampled captions...)"})
    link_mode: Literal["hardlink", "copy", "symlink"] = field(
        default="hardlink", metadata={"help": "how source videos enter media/videos (hardlink falls back to copy)"}
    )
    rows_per_file: int = field(default=100_000, metadata={"help": "rows per parquet file"})


@dataclass
class QualityArguments(RecipeArguments):
    """Stage 1: annotation rectification, temporal dynamics, cross-modal consistency, frames and clips."""

    min_words: int = field(default=3, metadata={"help": "drop captions with fewer words (after stripping)"})
    max_words: int | None = field(default=300, metadata={"help": "drop captions with more words"})
    min_alpha_ratio: float = field(default=0.5, metadata={"help": "drop captions whose share of letters is lower"})
    max_word_repeat_ratio: float = field(
        default=0.5, metadata={"help": "drop captions (>= 6 words) where one word is more than this share"}
    )
    strip_patterns: list[str] | None = field(
        default=None, metadata={"help": "regexes removed from captions first (null: the built-in boilerplate list)"}
    )
    drop_patterns: list[str] | None = field(
        default=None, metadata={"help": "regexes that mark a caption non-descriptive (null: the built-in list)"}
    )
    max_videos_per_caption: int | None = field(
        default=1, metadata={"help": "drop captions shared by more videos than this (WebVid rule); null: keep"}
    )
    motion_threshold: float | None = field(
        default=0.005, metadata={"help": "drop videos whose mean frame difference (0-1) is lower; null: report only"}
    )
    motion_num_frames: int = field(default=8, metadata={"help": "frames sampled over the video to measure motion"})
    motion_max_pixels: int = field(default=64 * 28 * 28, metadata={"help": "pixels per frame when measuring motion"})
    embedder: str | None = field(
        default=None, metadata={"help": "GVE / sentence-transformers model for consistency and hard negatives"}
    )
    embedder_type: EmbedderKind = field(default="gve")
    embedder_trust_remote_code: bool = field(
        default=False,
        metadata={"help": "sentence-transformers embedder: run the model repo's own code (only for repos you trust)"},
    )
    embedder_dtype: str | None = field(default=None, metadata={"help": "bfloat16, float32... (default: per device)"})
    embed_batch_size: int = field(default=8)
    consistency_threshold: float | None = field(
        default=None, metadata={"help": "drop pairs with cosine(caption, video) below; null: score and report only"}
    )
    consistency_instruction: str = field(
        default=instruction("T2V"),
        metadata={"help": "query instruction of the caption when scoring (GVE)"},
    )
    qc_report_only: bool = field(
        default=False, metadata={"help": "score and report the filters, extract nothing (to choose thresholds)"}
    )
    frames_per_video: int = field(default=3, metadata={"help": "frames extracted from each kept video"})
    frame_max_side: int | None = field(
        default=1280, metadata={"help": "downscale extracted frames to this longest side"}
    )
    frame_quality: int = field(default=90, metadata={"help": "JPEG quality of extracted frames"})
    clips_per_video: int = field(default=1, metadata={"help": "clips cut from each kept video"})
    clip_seconds: float = field(default=3.0, metadata={"help": "clip length (at most half the video)"})
    clip_codec: Literal["libx264", "copy"] = field(
        default="libx264", metadata={"help": "libx264: frame-accurate re-encode; copy: keyframe cuts, no re-encode"}
    )
    qc_workers: int = field(default=2, metadata={"help": "threads measuring motion and extracting media"})


@dataclass
class CaptionerArguments(RecipeArguments):
    """Stage 2: the MLLM captioner and the enrichment requests."""

    captioner_backend: Literal["openai", "transformers"] = field(
        default="openai", metadata={"help": "openai: any OpenAI-compatible server (vLLM, SGLang); transformers: local"}
    )
    captioner_model: str = field(
        default="", metadata={"help": "served model name, or local checkpoint (transformers)"}
    )
    captioner_base_url: str = field(default="http://localhost:8000/v1")
    captioner_api_key_env: str = field(
        default="OPENAI_API_KEY", metadata={"help": "environment variable with the key"}
    )
    captioner_concurrency: int = field(default=16, metadata={"help": "requests in flight (openai)"})
    captioner_timeout: float = field(default=180.0, metadata={"help": "seconds per request before it is retried"})
    captioner_request_retries: int = field(
        default=3,
        metadata={"help": "transport retries: a request that timed out or got HTTP 429 / 5xx is sent again up to "
                  "this many times (no answer was read); still failing, it is left for the next run"},
    )  # fmt: skip
    captioner_backoff: float = field(default=1.0, metadata={"help": "first retry delay in seconds (doubles)"})
    captioner_generation_attempts: int = field(
        default=3,
        metadata={"help": "answers per request: an answer that is not valid (JSON, schema, word ranges) is "
                  "generated again, up to this many answers in all; then the request is recorded as failed"},
    )  # fmt: skip
    captioner_temperature: float = field(default=0.7)
    captioner_max_tokens: int = field(default=1024)
    captioner_guided_json: bool = field(
        default=False, metadata={"help": "send the JSON schema as response_format (vLLM/SGLang guided decoding)"}
    )
    captioner_video_input: Literal["video_url", "frames"] = field(
        default="video_url", metadata={"help": "send videos as video_url parts or as sampled frames (image_url parts)"}
    )
    captioner_media_url: Literal["data", "file"] = field(
        default="data", metadata={"help": "data: base64 inline; file: file:// paths (server needs local access)"}
    )
    captioner_num_frames: int = field(default=16, metadata={"help": "frames per video when frames are sent/decoded"})
    captioner_max_pixels: int = field(default=360 * 420, metadata={"help": "pixels per frame/image sent"})
    captioner_batch_size: int = field(default=1, metadata={"help": "generations per forward pass (transformers)"})
    captioner_dtype: str | None = field(default=None, metadata={"help": "dtype of the local model"})
    prompts_dir: str | None = field(default=None, metadata={"help": "folder overriding the packaged prompt files"})
    word_range_tolerance: float | None = field(
        default=0.5, metadata={"help": "accept captions within word ranges widened by this share; null: no check"}
    )
    enrich_kinds: list[EnrichKind] = field(default_factory=lambda: list(ENRICH_KINDS))
    frame_captions_per_video: int = field(default=1, metadata={"help": "frames captioned per video (T2I)"})
    ti_queries_per_video: int = field(default=1, metadata={"help": "(frame, video) composed queries per video (TI2V)"})
    tv_queries_per_video: int = field(default=1, metadata={"help": "(clip, video) composed queries per video (TV2V)"})


@dataclass
class TaskArguments(RecipeArguments):
    """Stage 3: the retrieval tasks built from the pool and the enrichment."""

    tasks: list[TaskName] = field(default_factory=lambda: list(TASKS))
    t2v_captions_per_video: int = field(default=1, metadata={"help": "T2V rows per video (sampled captions)"})
    t2t_pairs_per_video: int = field(default=1, metadata={"help": "T2T rows per video (pairs of unused captions)"})
    i2v_per_video: int = field(default=1, metadata={"help": "I2V rows per video (frames)"})
    v2v_per_video: int = field(default=1, metadata={"help": "V2V rows per video (clips)"})
    max_rows: dict[str, int] = field(default_factory=dict, metadata={"help": "cap rows per task, e.g. {T2V: 879000}"})
    mine_hard_negatives: bool = field(default=False, metadata={"help": "mine hard negatives with `embedder`"})
    hard_negatives: dict[str, int] = field(
        default_factory=lambda: {"T2V": 1, "TI2V": 1, "TV2V": 1},
        metadata={"help": "negatives per row per task (paper Table 7)"},
    )
    negative_margin: float | None = field(
        default=0.95,
        metadata={
            "help": "skip candidates scoring above margin * positive score (likely false negatives); null: keep all"
        },
    )
    mining_chunk_size: int = field(default=256, metadata={"help": "queries scored at once when mining"})


@dataclass
class HubArguments(RecipeArguments):
    """Publishing: dataset card and upload."""

    push_to_hub: bool = field(default=False)
    hub_repo_id: str | None = field(default=None, metadata={"help": "e.g. my-org/my-uvrd"})
    hub_private: bool | None = field(default=None)
    hub_revision: str | None = field(default=None, metadata={"help": "branch to push to (created if missing)"})
    hub_commit_message: str = field(default="Upload V-SynFlow dataset")
    pretty_name: str = field(default="UVRD (V-SynFlow)")
    card_license: str = field(
        default="other", metadata={"help": "license of the card; the source videos' terms apply"}
    )


@dataclass
class SynthesisConfig(RecipeConfig):
    """Every V-SynFlow setting, one attribute per argument group."""

    data: DataArguments
    quality: QualityArguments
    captioner: CaptionerArguments
    tasks: TaskArguments
    hub: HubArguments

    # renamed keys, accepted with a FutureWarning until the next release
    DEPRECATED_KEYS: ClassVar[dict[str, str]] = {
        "captioner_max_retries": "captioner_request_retries",
        "captioner_max_attempts": "captioner_generation_attempts",
    }

    def __post_init__(self) -> None:
        _check_semantics(self)

    @property
    def output_dir(self) -> Path:
        return Path(self.data.output_dir)

    @property
    def work_dir(self) -> Path:
        return Path(self.data.work_dir) if self.data.work_dir else self.output_dir / ".vsynflow"


ARGUMENT_CLASSES = SynthesisConfig.argument_classes()


def _check_semantics(config: SynthesisConfig) -> None:
    d, q, c, t, h = config.data, config.quality, config.captioner, config.tasks, config.hub
    if not d.input and "qc" in d.stages:
        raise ValueError("input: give the folder (or Hub dataset) of captioned videos")
    if not d.output_dir:
        raise ValueError("output_dir: give the dataset folder to write")
    for name, value, low in (
        ("num_shards", d.num_shards, 1),
        ("rows_per_file", d.rows_per_file, 1),
        ("motion_num_frames", q.motion_num_frames, 2),
        ("frames_per_video", q.frames_per_video, 0),
        ("clips_per_video", q.clips_per_video, 0),
        ("captioner_concurrency", c.captioner_concurrency, 1),
        ("captioner_generation_attempts", c.captioner_generation_attempts, 1),
        ("captioner_request_retries", c.captioner_request_retries, 0),
        ("embed_batch_size", q.embed_batch_size, 1),
        ("qc_workers", q.qc_workers, 1),
    ):
        if value < low:
            raise ValueError(f"{name}: must be >= {low}, got {value}")
    if q.clip_seconds <= 0 or c.captioner_timeout <= 0:
        raise ValueError("clip_seconds and captioner_timeout must be positive")
    for key in list(t.max_rows) + list(t.hard_negatives):
        if key not in TASKS:
            raise ValueError(
                f"task {key!r} in max_rows/hard_negatives is not one of {', '.join(TASKS)}{did_you_mean(key, TASKS)}"
            )
    if t.mine_hard_negatives and not q.embedder:
        raise ValueError("mine_hard_negatives: true needs an `embedder` (a GVE or sentence-transformers model)")
    if "enrich" in d.stages and not c.captioner_model:
        raise ValueError("captioner_model: give the served model name (openai) or a local checkpoint (transformers)")
    if h.push_to_hub and not h.hub_repo_id:
        raise ValueError("push_to_hub: true needs hub_repo_id (e.g. my-org/my-uvrd)")
    if h.push_to_hub and d.link_mode == "symlink":
        raise ValueError(
            "push_to_hub: true needs media inside output_dir; link_mode 'symlink' links to the input videos "
            "(published datasets never follow links outside their folder): use 'hardlink' or 'copy'"
        )


def parse_args(argv: list[str] | None = None, prog: str = "synthesize", **parser_kwargs: Any) -> SynthesisConfig:
    """``[--config FILE.yaml] [--key value ...]`` -> checked settings."""
    parser_kwargs.setdefault("description", "V-SynFlow data synthesis.")
    return SynthesisConfig.parse(argv, prog=prog, **parser_kwargs)


def _add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The deprecated ``add_arguments(parser)``: the recipe's options copied onto ``parser``."""
    parser._add_container_actions(SynthesisConfig.parser(add_help=False))  # what argparse's parents= does
    return parser


# Second names kept for one release (reading one warns and names the real one).
_SECOND_NAMES = {
    "build_config": ("SynthesisConfig.from_values", lambda: SynthesisConfig.from_values),
    "config_from_args": ("SynthesisConfig.from_args", lambda: SynthesisConfig.from_args),
    "add_arguments": ("SynthesisConfig.parser", lambda: _add_arguments),
}
_moved = moved_names(
    __name__,
    {"load_yaml": "modeling_gve.args:load_yaml_config", "fingerprint": "modeling_gve.synthesis.workstore:fingerprint"},
)


def __getattr__(name: str) -> Any:
    if name in _SECOND_NAMES:
        new, resolve = _SECOND_NAMES[name]
        warn_moved(f"{__name__}.{name}", f"{__name__}.{new}")
        return resolve()
    return _moved(name)


__all__ = [
    "ARGUMENT_CLASSES",
    "CaptionerArguments",
    "DataArguments",
    "ENRICH_KINDS",
    "HubArguments",
    "QualityArguments",
    "STAGES",
    "SynthesisConfig",
    "TASKS",
    "TaskArguments",
    "parse_args",
]
