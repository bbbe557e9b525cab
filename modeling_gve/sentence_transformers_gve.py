# Copyright 2026 The GVE package authors. Apache-2.0.
"""GVE as a sentence-transformers input module: `GVETransformer`.

A subclass of sentence-transformers' multimodal `Transformer` that replaces `preprocess` (GVE's
processor steps) and `forward` (GVE's pooling). Why, and the inputs, prompts and settings it
takes: docs/sentence_transformers.md.

This file is copied into every converted checkpoint and imports its siblings relatively only,
so ``SentenceTransformer(path, trust_remote_code=True)`` works without the ``gve`` package.
"""

from __future__ import annotations

import mimetypes
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from sentence_transformers.base.modality import is_image_url_or_path, is_message_dict, is_video_url_or_path
from sentence_transformers.base.modules import Transformer
from transformers.dynamic_module_utils import get_relative_import_files

from .processing_gve import SamplingConfig, did_you_mean
from .video import GVEInputError

# Every modality combination GVE embeds, in sentence-transformers' spelling (tuples are sorted).
GVE_MODALITIES: list = [
    "text",
    "image",
    "video",
    ("image", "text"),
    ("text", "video"),
    ("image", "video"),
    ("image", "text", "video"),
    "message",
]
# GVEModel.forward returns GVEModelOutput(embeddings, last_hidden_state); `embeddings` is pooled.
MODALITY_CONFIG = {m: {"method": "forward", "method_output_name": "embeddings"} for m in GVE_MODALITIES}
MODULE_OUTPUT_NAME = "sentence_embedding"

# sentence-transformers groups processor settings by modality (``processing_kwargs={"video": {...}}``)
# with the Qwen processors' names; GVE's `SamplingConfig` is flat. This table is the whole mapping;
# a field not listed lives under "common" with its own name (any field may also be given there).
PROCESSING_LAYOUT: dict[str, tuple[str, str]] = {
    "fps": ("video", "fps"),
    "min_frames": ("video", "min_frames"),
    "max_frames": ("video", "max_frames"),
    "num_frames": ("video", "num_frames"),
    "video_min_pixels": ("video", "min_pixels"),
    "video_max_pixels": ("video", "max_pixels"),
    "max_total_pixels": ("video", "max_total_pixels"),
    "seek_mode": ("video", "seek_mode"),
    "num_threads": ("video", "num_threads"),
    "image_min_pixels": ("image", "min_pixels"),
    "image_max_pixels": ("image", "max_pixels"),
    "max_length": ("text", "max_length"),
}
PROCESSING_GROUPS = ("common", "text", "image", "video")
SAMPLING_FIELDS = tuple(SamplingConfig.__dataclass_fields__)

# Keys of the collated batch that `GVEModel.forward` takes as they are.
MODEL_INPUT_KEYS = (
    "input_ids",
    "attention_mask",
    "mm_token_type_ids",
    "pixel_values",
    "image_grid_thw",
    "pixel_values_videos",
    "video_grid_thw",
)


def processing_kwargs_from_sampling(sampling: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`SamplingConfig` fields -> sentence-transformers ``processing_kwargs`` (grouped by modality)."""
    grouped: dict[str, dict[str, Any]] = {}
    for name, value in sampling.items():
        group, key = PROCESSING_LAYOUT.get(name, ("common", name))
        grouped.setdefault(group, {})[key] = value
    return grouped


def sampling_from_processing_kwargs(processing_kwargs: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    """sentence-transformers ``processing_kwargs`` -> `SamplingConfig` overrides (the inverse of
    `processing_kwargs_from_sampling`). Unknown groups or names fail with a suggestion."""
    by_group: dict[str, dict[str, str]] = {group: {} for group in PROCESSING_GROUPS}
    by_group["common"] = {name: name for name in SAMPLING_FIELDS}
    for name, (group, key) in PROCESSING_LAYOUT.items():
        by_group[group][key] = name
    overrides: dict[str, Any] = {}
    for group in sorted(processing_kwargs or {}, key=lambda g: g != "common"):  # "common" first
        options = processing_kwargs[group]
        if group not in by_group:
            raise ValueError(
                f"Unknown processing_kwargs group {group!r}{did_you_mean(group, PROCESSING_GROUPS)} "
                f"GVE reads {', '.join(PROCESSING_GROUPS)}; its prompt is fixed, so there are no "
                "chat_template options."
            )
        for key, value in (options or {}).items():
            if key not in by_group[group]:
                valid = list(by_group[group])
                raise ValueError(
                    f"Unknown processing_kwargs[{group!r}] option {key!r}{did_you_mean(key, valid)} "
                    f"Valid options: {', '.join(valid)}."
                )
            overrides[by_group[group][key]] = value
    return overrides


def _media_kind(text: str) -> str | None:
    """``"image"`` / ``"video"`` for a string with no whitespace and an image/video file extension
    (meant as a file, not as text), else ``None``."""
    kind = (mimetypes.guess_type(text)[0] or "").split("/")[0]
    return kind if kind in ("image", "video") and not any(c.isspace() for c in text) else None


class GVETransformer(Transformer):
    r"""
    sentence-transformers input module for GVE checkpoints (see the module docstring).

    Args:
        model_name_or_path (`str`): a converted GVE checkpoint (local folder or Hub id).
        processing_kwargs (`dict`, *optional*): sampling settings grouped as sentence-transformers
            does (``{"video": {...}, "image": {...}, "text": {...}, "common": {...}}``); defaults to
            the checkpoint processor's `SamplingConfig`. Saved in ``sentence_bert_config.json``.
        **kwargs: as for `sentence_transformers.base.modules.Transformer` (``model_kwargs``,
            ``processor_kwargs``, ``config_kwargs``, ``backend``...).

    Example:

    ```python
    >>> from sentence_transformers import SentenceTransformer
    >>> model = SentenceTransformer("path/to/GVE-3B-converted", trust_remote_code=True)
    >>> videos = model.encode_document([{"video": "a.mp4"}, {"video": "b.mp4"}])
    >>> query = model.encode_query("a dog catches a frisbee", prompt_name="MSRVTT")
    >>> model.similarity(query, videos).shape
    torch.Size([1, 2])
    ```
    """

    # Flat `SamplingConfig` names may be given to `encode` like `GVEModel.encode(..., max_frames=16)`.
    forward_kwargs: set[str] = set(SAMPLING_FIELDS)

    def __init__(
        self,
        model_name_or_path: str,
        *,
        transformer_task: str = "feature-extraction",
        modality_config: dict | None = None,
        module_output_name: str | None = None,
        unpad_inputs: bool | None = False,
        processing_kwargs: dict | None = None,
        **kwargs: Any,
    ) -> None:
        if transformer_task != "feature-extraction":
            raise ValueError(
                f"GVETransformer embeds (transformer_task='feature-extraction'), got {transformer_task!r}"
            )
        super().__init__(
            model_name_or_path,
            transformer_task=transformer_task,
            modality_config=modality_config or dict(MODALITY_CONFIG),
            module_output_name=module_output_name or MODULE_OUTPUT_NAME,
            # GVE pads (M-RoPE positions need the 2-D layout); never the flash-attention unpadded path.
            unpad_inputs=False,
            processing_kwargs=processing_kwargs,
            **kwargs,
        )
        if not callable(getattr(self.processor, "load_item", None)):
            raise TypeError(
                f"{model_name_or_path!r} has a {type(self.processor).__name__}, not a GVEProcessor: "
                "convert the checkpoint first with `gve convert SRC DST`."
            )
        if not processing_kwargs:
            self.processing_kwargs = processing_kwargs_from_sampling(self.processor.sampling)
        self.sampling_config()  # fail at load time on a bad saved configuration

    # ------------------------------------------------------------------ settings

    def sampling_config(self, processing_kwargs: Mapping | None = None, **overrides: Any) -> SamplingConfig:
        """The effective `SamplingConfig`: the processor's saved settings, this module's
        ``processing_kwargs``, then per-call ``processing_kwargs`` and flat ``overrides``."""
        merged = dict(self.processing_kwargs)
        for group, options in (processing_kwargs or {}).items():
            merged = {**merged, group: {**merged.get(group, {}), **(options or {})}}
        return self.processor.sampling_config(**{**sampling_from_processing_kwargs(merged), **overrides})

    @property
    def max_seq_length(self) -> int:
        """GVE's token cap (``SamplingConfig.max_length``); longer prompts keep the embedding token."""
        return self.sampling_config().max_length

    @max_seq_length.setter
    def max_seq_length(self, value: int) -> None:
        text = {**self.processing_kwargs.get("text", {}), "max_length": value}
        self.processing_kwargs = {**self.processing_kwargs, "text": text}

    # ------------------------------------------------------------------ inputs

    def input_error(self, name: str, reason: str) -> GVEInputError:
        """A `GVEInputError` of the class the processor raises. Loaded as remote code, each
        transformers entry point gets its own copy of ``video.py``; raising the processor's class
        keeps one error type per model (the installed ``modeling_gve.GVEInputError`` when the
        processor resolved to the installed package)."""
        error_class = getattr(sys.modules[type(self.processor).__module__], "GVEInputError", GVEInputError)
        return error_class(name, reason)

    def to_gve_input(self, item: Any, prompt: str | None) -> tuple[Any, str | None]:
        """One sentence-transformers input -> (GVE item for `GVEProcessor.load_item`, instruction).

        A path string of an existing image/video file becomes ``{"image": path}`` /
        ``{"video": path}`` (sentence-transformers' rule); a string that looks like a media path
        but is no file is read as one too, so the reader reports it missing instead of silently
        embedding the path as text. Chat messages give their system text as the instruction.
        """
        instruction = prompt or None
        if isinstance(item, str):
            if is_video_url_or_path(item):
                return {"video": item}, instruction
            if is_image_url_or_path(item):
                return {"image": item}, instruction
            if kind := _media_kind(item):
                return {kind: item}, instruction
            return item, instruction
        if is_message_dict(item) or (isinstance(item, list) and item and is_message_dict(item[0])):
            return self._from_messages([item] if isinstance(item, dict) else item, instruction)
        if isinstance(item, Mapping) and "array" in item:  # sentence-transformers' video dict
            return {"video": self._video_dict(item)}, instruction
        if isinstance(item, Mapping) and isinstance(item.get("video"), Mapping) and "array" in item["video"]:
            return {**item, "video": self._video_dict(item["video"])}, instruction
        return item, instruction

    def _from_messages(self, messages: list, instruction: str | None) -> tuple[dict, str | None]:
        """A one-turn conversation -> GVE item; a system message overrides ``prompt``."""
        item: dict[str, Any] = {}
        user_turns = 0
        for message in messages:
            role, content = message.get("role"), message.get("content")
            parts = [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])
            if role == "system":
                texts = [p.get("text") for p in parts if p.get("type", "text") == "text"]
                if len(texts) != len(parts) or not texts:
                    raise self.input_error("<chat messages>", "a system message must hold text only")
                instruction = "".join(texts)
            elif role == "user":
                user_turns += 1
                if user_turns > 1:
                    raise self.input_error("<chat messages>", "expected one user message, got 2 or more")
                for part in parts:
                    kind = part.get("type", "text")
                    if kind not in ("text", "image", "video") or kind not in part:
                        raise self.input_error(
                            "<chat messages>",
                            f"unsupported content part {sorted(part)}; use text, image or video parts",
                        )
                    if kind == "text":
                        if "text" in item:
                            raise self.input_error("<chat messages>", "a user message may hold one text part")
                        item["text"] = part["text"]
                    else:
                        item.setdefault(kind, []).append(part[kind])
            else:
                raise self.input_error("<chat messages>", f"role {role!r} is not supported; use 'system' and 'user'")
        if user_turns == 0:
            raise self.input_error("<chat messages>", "expected one user message, got none")
        return item, instruction

    def _video_dict(self, video: Mapping) -> dict:
        """sentence-transformers' ``{"array": frames, "video_metadata": {"fps": ...}}`` -> GVE's
        ``{"frames": frames, "fps": ...}`` (GVE needs the native fps for the temporal positions)."""
        fps = (video.get("video_metadata") or {}).get("fps")
        if not fps:
            raise self.input_error(
                "<video dict with 'array'>",
                "video_metadata needs the native 'fps' of the frames; or pass {'frames': ..., 'fps': ...}",
            )
        return {"frames": video["array"], "fps": fps}

    # ------------------------------------------------------------------ preprocess / forward

    def preprocess(
        self,
        inputs: Sequence[Any],
        prompt: str | None = None,
        processing_kwargs: Mapping | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Inputs -> one padded batch for `forward`, exactly as `GVEModel.encode` builds it.

        Args:
            inputs: texts, image/video paths, PIL images, ``VideoFrames``, ``VideoDecoder``s, dicts
                ``{"text", "image", "video"}`` or chat messages.
            prompt: system-turn instruction (a UVRB task prompt for queries); default: the
                candidate instruction ``"You are a helpful assistant."``.
            processing_kwargs: per-call sampling settings, e.g. ``{"video": {"max_frames": 16}}``.
            **kwargs: flat `SamplingConfig` names (``max_frames=16``); ``max_length`` (from the
                training data collator); ``task`` and other keys are ignored.

        Returns:
            `dict` with ``input_ids``, ``attention_mask``, ``mm_token_type_ids`` of shape
            ``(batch_size, seq_len)``; where present ``pixel_values`` / ``image_grid_thw`` and
            ``num_images_per_sample`` ``(batch_size,)``; ``pixel_values_videos`` /
            ``video_grid_thw``, ``num_videos_per_sample`` ``(batch_size,)`` and
            ``second_per_grid_ts_per_sample`` ``(batch_size, max_videos_per_sample)``.
        """
        if not inputs:
            return {}
        overrides = {key: kwargs[key] for key in SAMPLING_FIELDS if kwargs.get(key) is not None}
        sampling = self.sampling_config(processing_kwargs, **overrides)
        features = []
        for raw in inputs:
            item, instruction = self.to_gve_input(raw, prompt)
            loaded = self.processor.load_item(item, sampling)
            features.append(self.processor.tokenize_item(loaded, instruction, sampling))
        batch = dict(self.processor.collate(features))
        return _per_sample_media(batch, features)

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Embed a batch from `preprocess` (or a GradCache mini-batch of it) with `GVEModel.forward`.

        Adds ``sentence_embedding`` ``(batch_size, hidden_size)`` (float32, L2-normalised) and
        ``token_embeddings`` ``(batch_size, seq_len, hidden_size)`` to ``features``.
        """
        inputs = {key: value for key, value in features.items() if key in MODEL_INPUT_KEYS}
        counts = features.get("num_videos_per_sample")
        if counts is not None and int(counts.sum()) > 0 and "video_grid_thw" in inputs:
            rows = features["second_per_grid_ts_per_sample"]
            # back to one value per video, in batch order
            inputs["second_per_grid_ts"] = torch.cat([row[:n] for row, n in zip(rows, counts.tolist())])
        output = self.model(**self.model.prepare_inputs(inputs))
        features[MODULE_OUTPUT_NAME] = output.embeddings
        features["token_embeddings"] = output.last_hidden_state
        return features

    # ------------------------------------------------------------------ save

    def save(self, output_path: str, *args: Any, safe_serialization: bool = True, **kwargs: Any) -> None:
        """Write a self-contained GVE checkpoint (`save_gve_files`) and ``sentence_bert_config.json``;
        sentence-transformers writes its own files around it. Weights are always safetensors."""
        save_gve_files(self.model, self.processor, output_path)
        self.save_config(output_path)

    def __repr__(self) -> str:
        return f"GVETransformer({dict(self.get_config_dict(), architecture=type(self.model).__name__)})"


def save_gve_files(model: Any, processor: Any, folder: str | os.PathLike) -> None:
    """Write a GVE model and its processor into ``folder`` so that it loads anywhere: the weights
    (transformers 5 key names), the processor files, and the remote code: the files defining the
    config, model and processor classes and this module, with every file they import relatively,
    flat as transformers lays out remote code (installed package or remote code alike).

    `modeling_gve.checkpoint.save_gve_checkpoint` adds the sentence-transformers files. This lives
    here, in the remote-code set, because a model loaded as remote code saves without the package.
    """
    model.config.architectures = [type(model).__name__]
    # An installed-package class records no remote code of its own: name the copied files.
    model.config.auto_map = {"AutoConfig": _class_ref(model.config), "AutoModel": _class_ref(model)}
    processor.auto_map = {"AutoProcessor": _class_ref(processor)}
    model.save_pretrained(str(folder), save_original_format=False)
    processor.save_pretrained(str(folder))
    roots = [__file__] + [sys.modules[type(obj).__module__].__file__ for obj in (model, model.config, processor)]
    files = {Path(f).name: f for root in roots for f in [root, *get_relative_import_files(root)]}
    for source in files.values():
        target = Path(folder) / Path(source).name
        if not target.exists() or not os.path.samefile(source, target):
            shutil.copyfile(source, target)


def _class_ref(obj: Any) -> str:
    """``"<file stem>.<class name>"``: how an ``auto_map`` names a class of a remote-code file."""
    return f"{type(obj).__module__.rsplit('.', 1)[-1]}.{type(obj).__name__}"


def _per_sample_media(batch: dict[str, Any], features: list[dict]) -> dict[str, Any]:
    """Add per-sample media counts so sentence-transformers can split a batch into mini-batches
    (GradCache), and store ``second_per_grid_ts`` (one value per video) per sample for the same
    reason; `GVETransformer.forward` flattens it back."""
    num_images = torch.tensor([f["image_grid_thw"].shape[0] if "image_grid_thw" in f else 0 for f in features])
    num_videos = torch.tensor([f["video_grid_thw"].shape[0] if "video_grid_thw" in f else 0 for f in features])
    if "pixel_values" in batch:
        batch["num_images_per_sample"] = num_images
    seconds = batch.pop("second_per_grid_ts", None)
    if "pixel_values_videos" in batch:
        batch["num_videos_per_sample"] = num_videos
        per_sample = torch.zeros(len(features), int(num_videos.max()), dtype=seconds.dtype)  # (B, max videos)
        for row, f in enumerate(features):
            if "second_per_grid_ts" in f:
                per_sample[row, : f["second_per_grid_ts"].shape[0]] = f["second_per_grid_ts"]
        batch["second_per_grid_ts_per_sample"] = per_sample
    return batch


__all__ = [
    "GVETransformer",
    "MODALITY_CONFIG",
    "processing_kwargs_from_sampling",
    "sampling_from_processing_kwargs",
    "save_gve_files",
]
