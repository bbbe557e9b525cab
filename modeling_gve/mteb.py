# Copyright 2026 The GVE package authors. Apache-2.0.
"""GVE in mteb, and UVRB as mteb tasks (``pip install -e ".[mteb]"``; docs/mteb.md).

    >>> import mteb
    >>> from modeling_gve.mteb import gve_mteb_model, uvrb_mteb_tasks
    >>> model = gve_mteb_model("Alibaba-NLP/GVE-3B")                      # GVE's exact protocol
    >>> results = mteb.evaluate(model, uvrb_mteb_tasks(["MSRVTT"], data="./UVRB"), cache=None)
    >>> results = mteb.evaluate(model, mteb.get_tasks(["MSVDT2VRetrieval"]))  # any mteb task

`gve_mteb_model` wraps the package's encoder layer (`modeling_gve.encoders`) in mteb's encoder
protocol: queries get the task's prompt, documents the candidate prompt, media are read and
embedded exactly as ``gve uvrb`` and ``GVEModel.encode`` do (8 uniform frames, per-frame pixel
bounds, the sampled fps in ``video_metadata``, the appended ``<|endoftext|>``). On UVRB tasks it reads
each row's ``uvrb_input``, so its scores equal ``gve uvrb``'s on the same data; on other tasks it
reads the ``text``, ``image`` and ``video`` columns.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from mteb.models.abs_encoder import AbsEncoder
from mteb.models.model_meta import ModelMeta, ScoringFunction
from mteb.types import PromptType

from .encoders import Encoder, EncoderKind, load_encoder
from .uvrb.mteb_tasks import UVRBRetrieval, uvrb_input, uvrb_mteb_tasks
from .uvrb.tasks import UVRB_CITATION

if TYPE_CHECKING:
    from mteb.abstasks.task_metadata import TaskMetadata
    from torch.utils.data import DataLoader


class GVEMtebModel(AbsEncoder):
    """An `Encoder` of this package in mteb's encoder protocol (`mteb.models.AbsEncoder`).

    Args:
        encoder: a `GVEEncoder` (or any `Encoder`: a SentenceTransformer loaded by `load_encoder`).
        meta: its `ModelMeta`.
    """

    def __init__(self, encoder: Encoder, meta: ModelMeta):
        self.encoder = encoder
        self.mteb_model_meta = meta
        self.sampling = encoder.describe()["sampling"]  # the frames protocols of UVRB rows need them

    def encode(
        self,
        inputs: DataLoader,
        *,
        task_metadata: TaskMetadata,
        hf_split: str,
        hf_subset: str,
        prompt_type: PromptType | None = None,
        batch_size: int = 8,
        **kwargs: Any,
    ) -> np.ndarray:
        """``(len(inputs.dataset), dim)`` float32 embeddings, L2-normalised; a bad input is an error
        naming it (mteb needs one vector per input)."""
        role = "document" if prompt_type == PromptType.document else "query"
        instruction = self.get_instruction(task_metadata, prompt_type) if role == "query" else None
        chunks = []
        for batch in inputs:
            items = self.items(batch)
            result = self.encoder.encode(items, instruction or None, batch_size, role=role, on_error="raise")
            chunks.append(result.embeddings.float().numpy())
        return np.concatenate(chunks) if chunks else np.zeros((0, self.encoder.dimension), dtype=np.float32)

    def items(self, batch: dict) -> list[Any]:
        """One collated mteb batch -> encoder inputs: a UVRB row's ``uvrb_input``, else its columns."""
        size = len(next(iter(batch.values())))
        if "uvrb_input" in batch:
            return [uvrb_input(record, self.sampling) for record in batch["uvrb_input"]]
        if "audio" in batch:
            raise ValueError("GVE embeds text, images and videos; this task has audio")
        items = []
        for i in range(size):
            item = {key: batch[key][i] for key in ("text", "image", "video") if batch.get(key) is not None}
            item = {key: value for key, value in item.items() if value is not None}
            items.append(item["text"] if list(item) == ["text"] else item)
        return items


def model_meta(encoder: Encoder, name_or_path: str, revision: str | None = None) -> ModelMeta:
    """mteb's record of a loaded encoder: a Hub id keeps its name; a folder is ``local/<name>``."""
    record = encoder.describe()
    local = Path(name_or_path).is_dir()
    name = f"local/{Path(name_or_path).resolve().name}" if local else name_or_path
    parameters = getattr(encoder, "model", None)
    return ModelMeta(
        loader=None,
        name=name,
        revision=record.get("commit") or record.get("local_digest") or revision,
        release_date=None,
        languages=["eng-Latn"],
        n_parameters=sum(p.numel() for p in parameters.parameters()) if parameters is not None else None,
        memory_usage_mb=None,
        max_tokens=record.get("sampling", {}).get("max_length"),
        embed_dim=encoder.dimension,
        license=None,
        open_weights=True,
        public_training_code=None,
        public_training_data=None,
        framework=["PyTorch", "Transformers"],
        reference=None if local else f"https://huggingface.co/{name_or_path}",
        similarity_fn_name=ScoringFunction.COSINE,
        use_instructions=True,
        training_datasets=None,
        modalities=["image", "text", "video"],
        citation=UVRB_CITATION,
    )


def gve_mteb_model(
    name_or_path: str = "Alibaba-NLP/GVE-3B",
    *,
    revision: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
    encoder: EncoderKind = "gve",
    trust_remote_code: bool = False,
    **sampling: Any,
) -> GVEMtebModel:
    """A GVE checkpoint (Hub id or folder) as an mteb model that embeds with GVE's exact protocol.

    Args:
        sampling: `SamplingConfig` overrides (``max_frames=16``...), as ``gve uvrb --sampling``.
        encoder: ``"gve"`` (default), ``"sentence-transformers"`` or ``"auto"`` (`load_encoder`).
    """
    loaded = load_encoder(name_or_path, kind=encoder, revision=revision, device=device, dtype=dtype,
                          sampling=sampling, trust_remote_code=trust_remote_code)  # fmt: skip
    return GVEMtebModel(loaded, model_meta(loaded, name_or_path, revision))


__all__ = ["GVEMtebModel", "UVRBRetrieval", "gve_mteb_model", "model_meta", "uvrb_mteb_tasks"]
