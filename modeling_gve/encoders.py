# Copyright 2026 The GVE package authors. Apache-2.0.
"""The package's one encoder layer: GVE checkpoints, any SentenceTransformer, and a cache around either.

`Encoder` is the protocol every consumer drives (the UVRB runner, V-SynFlow's consistency filter
and hard-negative mining, ``gve search``): ``encode(inputs, instruction, batch_size, role=...,
on_error=..., num_workers=...)`` returning an `EncodeResult` (the contract of `GVEModel.encode`),
plus ``instruction_for(role, instruction)`` (the prompt a role gets), ``cache_settings(instruction)``
(everything a vector depends on besides the input: the namespace of a cache) and ``describe()``.

``role="query"`` embeds with ``instruction``; ``role="document"`` embeds candidates with the model's
candidate prompt. A model with its own role prompts (a SentenceTransformer with ``"query"`` /
``"document"`` prompts) uses them first, as ``encode_query`` / ``encode_document`` and mteb do.

- `GVEEncoder`: a `GVEModel` (the paper's protocol exactly).
- `SentenceTransformerEncoder`: any `SentenceTransformer`; the instruction is ST's ``prompt``.

  * A GVE checkpoint loaded as a SentenceTransformer (module 0 is a `GVETransformer`, it has
    ``sampling_config``) gets the raw inputs and the sampling overrides as flat ``encode``
    keywords: the module samples and resizes once, with the checkpoint's saved settings plus the
    overrides, exactly as `GVEEncoder` does.
  * Any other model gets frames picked by GVE's sampler (the paper's protocol: 8 uniform frames,
    frames capped at 200*28*28 pixels, with the overrides applied) as a video array with its
    metadata, and images resized by GVE's image bounds; the model's own processor then applies
    its own rules to them (it may resize them again). ``max_length`` does not apply (the model's
    ``max_seq_length`` does) and is refused.
- `CachedEncoder`: any of them through an on-disk `EmbeddingCache` (mteb's
  ``CachedEmbeddingWrapper`` shape): the caller calls ``encode`` once and never knows whether a
  vector came from disk. Inputs are keyed by `item_key` (content, not path), so ``gve uvrb``,
  V-SynFlow and ``gve search`` share the vectors of a video when model and settings match.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal, Protocol, runtime_checkable

import torch
from tqdm.auto import tqdm

from .embedding_cache import EmbeddingCache, Fingerprints, item_key, model_fingerprint, namespace_for, segment_key
from .hub_ids import DEFAULT_MODEL, MODEL_SIZES
from .modeling_gve import EncodeResult, GVEModel, SkippedInput, default_num_workers, prefetch
from .processing_gve import SamplingConfig, describe_item, read_item
from .video import GVEInputError, SampledVideo

EncoderKind = Literal["auto", "gve", "sentence-transformers"]
Role = Literal["query", "document"]
GVE_MODEL_TYPES = ("gve", "qwen2_5_vl")
ROLES = ("query", "document")


def default_device() -> str:
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def check_model_source(name_or_path: str, revision: str | None = None) -> None:
    """Fail fast, in one line, when the model ``name_or_path`` cannot be had, before any work:
    a path that does not exist or is not a checkpoint folder (no ``config.json``), a name that is
    neither a folder nor a Hub repo id, or a Hub model that is not in the Hugging Face cache while
    the Hub is offline (``HF_HUB_OFFLINE=1``), unreachable (one request, 10 s at most) or does not
    have it. Each message says what was looked for and the fix (``--model PATH``).

    Raises:
        FileNotFoundError: a missing folder or file. ValueError: not a folder nor a repo id.
        OSError: the Hub cannot provide it.
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"model folder {name_or_path} holds no config.json (looked for {path.resolve() / 'config.json'}); "
                "give a GVE checkpoint folder (gve convert writes one) or a Hub id"
            )
        return
    if path.exists():
        raise FileNotFoundError(f"model {name_or_path}: is a file, not a checkpoint folder or a Hub id")
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    looks_local = name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1 or os.sep != "/" and os.sep in name_or_path
    try:
        if looks_local:
            raise HFValidationError(name_or_path)
        validate_repo_id(name_or_path)
    except HFValidationError:
        raise FileNotFoundError(
            f"model folder {name_or_path} not found (looked for {path.resolve()}); give a GVE checkpoint folder or "
            f"a Hub id such as {DEFAULT_MODEL}"
        ) from None
    _check_hub_model(name_or_path, revision)


def _check_hub_model(repo_id: str, revision: str | None) -> None:
    """A Hub model in the cache, or one request to see that the Hub has it (see `check_model_source`)."""
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url, try_to_load_from_cache
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(try_to_load_from_cache(repo_id, "config.json", revision=revision), str):
        return
    size = MODEL_SIZES.get(repo_id)
    what = f"{repo_id} ({size} download)" if size else repo_id
    if repo_id != DEFAULT_MODEL:  # the name may have been meant as a folder
        what += f", which is not a folder here either (looked for {Path(repo_id).resolve()})"
    fix = "or give a local checkpoint folder with --model PATH"
    if constants.HF_HUB_OFFLINE:
        raise OSError(f"{what} is not in the Hugging Face cache and the Hub is offline (HF_HUB_OFFLINE=1): go online, {fix}")
    try:
        get_hf_file_metadata(hf_hub_url(repo_id, "config.json", revision=revision), timeout=10)
    except HfHubHTTPError as err:
        status = getattr(err.response, "status_code", None)
        if status in (401, 403, 404):
            raise OSError(f"{what}: no such model on the Hub, or not visible to you (HTTP {status}); {fix}") from None
        raise OSError(f"the Hugging Face Hub could not serve {what} (HTTP {status}): try again later, {fix}") from None
    except Exception as err:  # noqa: BLE001 - connection refused, DNS, timeout, proxy: the Hub cannot be reached
        raise OSError(
            f"cannot reach the Hugging Face Hub ({type(err).__name__}) to download {what}: connect, set HF_ENDPOINT, {fix}"
        ) from None


def load_gve(
    name_or_path: str = DEFAULT_MODEL,
    *,
    revision: str | None = None,
    device: str | None = None,
    dtype: str | torch.dtype | None = None,
    attn_implementation: str | None = None,
) -> GVEModel:
    """A GVE model ready to embed: bf16 on GPU, float32 on CPU unless ``dtype`` says otherwise.

    ``name_or_path`` is a Hub id (``Alibaba-NLP/GVE-3B``, ``Alibaba-NLP/GVE-7B``), a released
    checkpoint folder, or a converted/trained one. Hub downloads honour ``revision``,
    ``HF_HUB_OFFLINE`` and the Hugging Face cache.
    """
    check_model_source(name_or_path, revision)
    device = device or default_device()
    if dtype is None:
        dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    elif isinstance(dtype, str) and dtype != "auto":
        dtype = getattr(torch, dtype)
    kwargs: dict[str, Any] = {"revision": revision, "dtype": dtype}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    model = GVEModel.from_pretrained(name_or_path, **kwargs)
    return model.to(device).eval()


@runtime_checkable
class Encoder(Protocol):
    """What every consumer needs from a model (see the module docstring).

    Attributes:
        dimension: the embedding size.
    """

    dimension: int

    def instruction_for(self, role: Role, instruction: str | None) -> str | None:
        """The prompt ``role`` is embedded with, given the caller's query ``instruction``."""
        ...

    def cache_settings(self, instruction: str | None) -> dict:
        """Everything the embeddings depend on besides the inputs: the cache namespace."""
        ...

    def describe(self) -> dict:
        """A JSON record of the model and its preprocessing, for ``results.json``."""
        ...

    def encode(
        self, inputs: Sequence[Any], instruction: str | None = None, batch_size: int = 8, *, role: Role = "query",
        **kwargs: Any,
    ) -> EncodeResult:  # fmt: skip
        """As `GVEModel.encode` with ``on_error`` and ``num_workers``: an `EncodeResult`
        (embeddings ``(num_good, dim)`` of the good inputs, their indices, the skipped ones)."""
        ...


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be 'query' or 'document', got {role!r}")


class GVEEncoder:
    """A `GVEModel` with fixed sampling overrides (``max_frames=...`` etc.)."""

    def __init__(self, model: GVEModel, sampling: dict | None = None):
        self.model = model
        self.sampling = dict(sampling or {})
        model.processor.sampling_config(**self.sampling)  # unknown keys fail here, with a suggestion
        self.config = model.config
        self.dimension: int = model.config.text_config.hidden_size

    def instruction_for(self, role: Role, instruction: str | None) -> str | None:
        """Queries get ``instruction``; candidates the processor's default (``None``)."""
        _check_role(role)
        return instruction if role == "query" else None

    def cache_settings(self, instruction: str | None) -> dict:
        return {
            "model": model_fingerprint(self.model),
            "dtype": str(self.model.dtype),
            "sampling": self.settings(),
            "instruction": instruction if instruction is not None else self.model.processor.instruction,
            "protocol": "gve-last-token-v1",
        }

    def describe(self) -> dict:
        return {
            "encoder": "gve",
            **model_fingerprint(self.model),
            "dtype": str(self.model.dtype),
            "sampling": self.settings(),
        }

    def settings(self) -> dict:
        return self.model.processor.sampling_config(**self.sampling).to_dict()

    def encode(
        self, inputs: Sequence[Any], instruction: str | None = None, batch_size: int = 8, *, role: Role = "query",
        on_error: Literal["raise", "skip"] = "skip", **kwargs: Any,
    ) -> EncodeResult:  # fmt: skip
        instruction = self.instruction_for(role, instruction)
        options = {
            "instruction": instruction,
            "batch_size": batch_size,
            "on_error": on_error,
            **self.sampling,
            **kwargs,
        }
        result = self.model.encode(inputs, **options)
        if isinstance(result, torch.Tensor):  # on_error="raise": every input was embedded
            return EncodeResult(embeddings=result, indices=list(range(len(inputs))), errors=[])
        return result


class SentenceTransformerEncoder:
    """Any `SentenceTransformer` (see the module docstring for how sampling settings apply).

    Raises:
        ValueError: ``sampling`` sets ``max_length`` for a model that is not a GVE checkpoint.
    """

    def __init__(self, model: Any, name: str, revision: str | None = None, sampling: dict | None = None):
        self.model = model
        self.name = name
        self.revision = revision
        self.sampling = dict(sampling or {})
        first = model[0] if len(model) else None
        # Duck-typed: loaded as remote code, the module's class is the checkpoint's own copy.
        self.gve_module = first if callable(getattr(first, "sampling_config", None)) else None
        if self.gve_module is not None:
            # the checkpoint's saved settings plus the overrides: what the module will apply
            self.sampling_config = self.gve_module.sampling_config(**self.sampling)
        else:
            if "max_length" in self.sampling:
                raise ValueError(
                    f"sampling option max_length applies to GVE checkpoints only; {name!r} is not one "
                    "(its token cap is its own max_seq_length)"
                )
            self.sampling_config = SamplingConfig().replace(**self.sampling)
        dim = (getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension)()
        self.dimension: int = dim
        self.config = SimpleNamespace(text_config=SimpleNamespace(hidden_size=dim))  # as a GVEModel's

    def instruction_for(self, role: Role, instruction: str | None) -> str | None:
        """The model's own non-empty prompt for ``role`` if it has one; else ``instruction`` for a
        query and no prompt for a document (the model's default prompt, if it names one, applies)."""
        _check_role(role)
        prompts = self.model.prompts or {}
        if role == "query":
            own = prompts.get("query")
            chosen = own if own or instruction is None else instruction
        else:
            chosen = prompts.get("document")
        if not chosen and self.model.default_prompt_name is None:
            return None  # an empty prompt is no prompt: one cache namespace for both
        return chosen

    def describe(self) -> dict:
        import sentence_transformers

        record = model_fingerprint(SimpleNamespace(name_or_path=self.name))  # name, local weights digest
        for module in self.model:  # the Hub commit of the underlying transformers model, when known
            config = getattr(getattr(module, "auto_model", None), "config", None)
            if getattr(config, "_commit_hash", None):
                record["commit"] = config._commit_hash
        return {
            "encoder": "sentence-transformers",
            **record,
            "revision": self.revision,
            "dtype": str(next(self.model.parameters()).dtype),
            "sentence_transformers": sentence_transformers.__version__,
            "sampling": self.sampling_config.to_dict(),
        }

    def cache_settings(self, instruction: str | None) -> dict:
        protocol = "st-gve-v1" if self.gve_module is not None else "st-uvrb-v1"
        return {**self.describe(), "instruction": instruction, "protocol": protocol}

    def _load(self, item: Any) -> Any:
        """One input -> what ST takes: text, a PIL image, a video dict, or a dict of them."""
        loaded = read_item(item, self.sampling_config)  # GVE's frame sampling and resizing
        videos = [st_video(sampled) for sampled in loaded.videos]
        out: dict[str, Any] = {}
        if loaded.text is not None:
            out["text"] = loaded.text
        if loaded.images:
            out["image"] = loaded.images[0] if len(loaded.images) == 1 else loaded.images
        if videos:
            out["video"] = videos[0] if len(videos) == 1 else videos
        return out["text"] if list(out) == ["text"] else out

    def encode(
        self,
        inputs: Sequence[Any],
        instruction: str | None = None,
        batch_size: int = 8,
        *,
        role: Role = "query",
        on_error: Literal["raise", "skip"] = "skip",
        num_workers: int | None = None,
        show_progress_bar: bool = False,
        **sampling: Any,
    ) -> EncodeResult:
        if sampling:
            raise TypeError(f"set sampling options when creating the encoder, not per call: {sorted(sampling)}")
        instruction = self.instruction_for(role, instruction)
        if self.gve_module is not None:
            return self._encode_gve(inputs, instruction, batch_size, on_error)
        loaded, indices, errors = [], [], []
        if num_workers is None:
            num_workers = default_num_workers(inputs)
        for index, result in enumerate(prefetch(self._load, inputs, num_workers=num_workers, ahead=2 * batch_size)):
            if isinstance(result, GVEInputError):
                if on_error == "raise":
                    raise GVEInputError(f"inputs[{index}] {result.input}", result.reason)
                errors.append(SkippedInput(index=index, input=result.input, reason=result.reason))
            else:
                loaded.append(result)
                indices.append(index)
        if not loaded:
            return EncodeResult(embeddings=torch.empty(0, self.dimension), indices=indices, errors=errors)
        embeddings = self._st_encode(loaded, instruction, batch_size, show_progress_bar=show_progress_bar)
        return EncodeResult(embeddings=embeddings, indices=indices, errors=errors)

    def _st_encode(self, items: list, instruction: str | None, batch_size: int, **kwargs: Any) -> torch.Tensor:
        """``SentenceTransformer.encode`` as the runner needs it: ``(len(items), dim)`` float32 on CPU."""
        kwargs.setdefault("show_progress_bar", False)
        options = {"batch_size": batch_size, "convert_to_tensor": True, "normalize_embeddings": True, **kwargs}
        embeddings = self.model.encode(items, prompt=instruction, **options)
        return embeddings.float().cpu()

    def _encode_gve(
        self, inputs: Sequence[Any], instruction: str | None, batch_size: int, on_error: Literal["raise", "skip"]
    ) -> EncodeResult:
        """Raw GVE items and the overrides to the GVE module, one ``batch_size`` chunk at a time;
        a chunk with a bad input is re-encoded item by item so that the bad ones are skipped and
        named (results do not depend on batch composition). Media are read in the module's
        ``preprocess``, in this thread: ``num_workers`` does not apply on this path."""
        # the error class of the module's processor (a remote-code copy has its own)
        error_type = type(self.gve_module.input_error("", ""))
        chunks, indices, errors = [], [], []
        for start in range(0, len(inputs), batch_size):
            items = list(inputs[start : start + batch_size])
            try:
                chunks.append(self._st_encode(items, instruction, batch_size, **self.sampling))
                indices.extend(range(start, start + len(items)))
                continue
            except error_type:
                pass
            for offset, item in enumerate(items):
                try:
                    chunks.append(self._st_encode([item], instruction, 1, **self.sampling))
                except error_type as err:
                    if on_error == "raise":
                        raise GVEInputError(f"inputs[{start + offset}] {err.input}", err.reason) from None
                    errors.append(SkippedInput(index=start + offset, input=err.input, reason=err.reason))
                else:
                    indices.append(start + offset)
        embeddings = torch.cat(chunks) if chunks else torch.empty(0, self.dimension)
        return EncodeResult(embeddings=embeddings, indices=indices, errors=errors)


def st_video(sampled: SampledVideo) -> dict:
    """GVE's sampled frames of one video as sentence-transformers' video dict (``array`` and
    ``video_metadata``). The array is a video of its own: its frames at the sampled rate, so that a
    processor that samples again keeps them all and gets the right temporal positions."""
    frames = sampled.frames.permute(0, 2, 3, 1).numpy()  # (T, H, W, 3) uint8
    count = len(sampled.frames_indices)
    metadata = {
        "fps": sampled.sampled_fps,
        "frames_indices": list(range(count)),
        "total_num_frames": count,
        "width": frames.shape[2],
        "height": frames.shape[1],
    }
    return {"array": frames, "video_metadata": metadata}


def detect_encoder(name_or_path: str, revision: str | None = None) -> Literal["gve", "sentence-transformers"]:
    """``"gve"`` for a GVE / Qwen2.5-VL checkpoint (``config.json`` model_type ``gve`` or
    ``qwen2_5_vl``), else ``"sentence-transformers"`` (also when the folder or Hub repo has no
    ``config.json``).

    Raises:
        OSError: the Hub could not say whether ``config.json`` exists (offline and not cached,
            timeout, server error, unauthorised, unknown repo): guessing would send a GVE
            checkpoint to the mean-pooling sentence-transformers path and give wrong vectors.
    """
    folder = Path(name_or_path)
    config_file: Path | None = folder / "config.json" if folder.is_dir() else None
    if config_file is None:
        from huggingface_hub import _CACHED_NO_EXIST, hf_hub_download, try_to_load_from_cache
        from huggingface_hub.errors import LocalEntryNotFoundError, RemoteEntryNotFoundError

        try:
            config_file = Path(hf_hub_download(name_or_path, "config.json", revision=revision))
        except RemoteEntryNotFoundError:  # the repo exists and has no config.json
            return "sentence-transformers"
        except LocalEntryNotFoundError as err:  # offline or Hub unreachable, and not in the cache
            if try_to_load_from_cache(name_or_path, "config.json", revision=revision) is _CACHED_NO_EXIST:
                return "sentence-transformers"  # known from an earlier download to have none
            raise OSError(_undetected(name_or_path, err)) from err
        except Exception as err:  # noqa: BLE001 - timeouts, 5xx, 401, unknown repo: cannot tell
            raise OSError(_undetected(name_or_path, err)) from err
    if not config_file.is_file():
        return "sentence-transformers"
    model_type = json.loads(config_file.read_text()).get("model_type")
    return "gve" if model_type in GVE_MODEL_TYPES else "sentence-transformers"


def _undetected(name_or_path: str, err: BaseException) -> str:
    return (
        f"Could not read config.json of {name_or_path!r} to tell a GVE checkpoint from a SentenceTransformer "
        f"({type(err).__name__}: {err}); pass --encoder gve or --encoder sentence-transformers "
        "(encoder='gve' / 'sentence-transformers') to skip the check."
    )


def load_encoder(
    name_or_path: str,
    *,
    kind: EncoderKind = "auto",
    revision: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
    sampling: dict | None = None,
    trust_remote_code: bool = False,
) -> GVEEncoder | SentenceTransformerEncoder:
    """Load ``name_or_path`` as an `Encoder` (``kind="auto"``: see `detect_encoder`)."""
    if kind not in ("auto", "gve", "sentence-transformers"):
        raise ValueError(f"encoder must be 'auto', 'gve' or 'sentence-transformers', got {kind!r}")
    if kind == "auto":
        kind = detect_encoder(name_or_path, revision)
    if kind == "gve":
        model = load_gve(name_or_path, revision=revision, device=device, dtype=dtype)
        return GVEEncoder(model, sampling=sampling)
    from sentence_transformers import SentenceTransformer

    kwargs: dict[str, Any] = {}
    if dtype is not None:
        kwargs["model_kwargs"] = {"dtype": getattr(torch, dtype)}
    model = SentenceTransformer(
        name_or_path, revision=revision, device=device, trust_remote_code=trust_remote_code, **kwargs
    )
    return SentenceTransformerEncoder(model.eval(), name_or_path, revision, sampling=sampling)


class CachedEncoder:
    """An `Encoder` whose vectors go through an on-disk cache under ``cache`` (one `EmbeddingCache`
    namespace per model, settings and prompt): only inputs the cache lacks are encoded, and what is
    encoded is written every ``flush_every`` inputs or ``flush_seconds``, whichever comes first (an
    interrupted job resumes; several processes can fill one folder); inputs that fail are recorded with the reason and reported, not retried until their
    content changes; any other failure (out of memory, a broken model) is raised and nothing is
    recorded for it. Damaged cache files are reported in `problems` and their inputs encoded again.

    Args:
        encoder: the `Encoder` to wrap.
        cache: the cache folder.
        flush_every: inputs per shard at most.
        flush_seconds: write what is encoded at least this often (``None``: by count only); with
            ``flush_every``, the most an interruption loses.
        fingerprints: the memo of file content keys (default: ``<cache>/content-keys.json``).

    Attributes:
        num_encoded: inputs this wrapper sent to ``encoder`` (the rest came from disk).
    """

    def __init__(
        self, encoder: Encoder, cache: str | os.PathLike, *, flush_every: int = 64,
        flush_seconds: float | None = 30.0, fingerprints: Fingerprints | None = None,
    ):  # fmt: skip
        self.encoder, self.root, self.flush_every, self.flush_seconds = encoder, Path(cache), flush_every, flush_seconds
        self.fingerprints = fingerprints or Fingerprints(self.root / "content-keys.json")
        self.dimension: int = encoder.dimension
        self.num_encoded = 0
        # One store per namespace, kept: opening one reads (and verifies) every shard in its folder.
        self._stores: dict[str, EmbeddingCache] = {}

    def instruction_for(self, role: Role, instruction: str | None) -> str | None:
        return self.encoder.instruction_for(role, instruction)

    def cache_settings(self, instruction: str | None) -> dict:
        return self.encoder.cache_settings(instruction)

    def describe(self) -> dict:
        return self.encoder.describe()

    @property
    def problems(self) -> list[str]:
        """Damaged cache files found so far (file name and reason), which were not trusted."""
        return self.fingerprints.problems + [p for store in self._stores.values() for p in store.problems]

    def store(self, role: Role, instruction: str | None = None) -> EmbeddingCache:
        """The `EmbeddingCache` of ``role`` with ``instruction`` (the namespace of what it embeds)."""
        settings = self.encoder.cache_settings(self.encoder.instruction_for(role, instruction))
        namespace = namespace_for(settings)
        if namespace not in self._stores:
            self._stores[namespace] = EmbeddingCache(self.root, settings)
        return self._stores[namespace]

    def encode(
        self,
        inputs: Sequence[Any],
        instruction: str | None = None,
        batch_size: int = 8,
        *,
        role: Role = "query",
        keys: Sequence[str] | None = None,
        on_error: Literal["raise", "skip"] = "skip",
        num_workers: int | None = None,
        show_progress_bar: bool = False,
        **sampling: Any,
    ) -> EncodeResult:
        """As `Encoder.encode`, through the cache.

        Args:
            keys: ``item_key`` of each input, when the caller has them already (equal keys are
                encoded once).
        """
        if sampling:  # they would change the vectors but not the cache namespace
            raise TypeError(f"set sampling options on the wrapped encoder, not per call: {sorted(sampling)}")
        keys = [item_key(x, self.fingerprints) for x in inputs] if keys is None else list(keys)
        if len(keys) != len(inputs):
            raise ValueError(f"{len(inputs)} inputs but {len(keys)} keys")
        self.fingerprints.save()
        cache = self.store(role, instruction)
        self.num_encoded += fill_cache(
            self.encoder, cache, inputs, keys, instruction=instruction, batch_size=batch_size,
            flush_every=self.flush_every, flush_seconds=self.flush_seconds, num_workers=num_workers,
            show_progress_bar=show_progress_bar, role=role,
        )  # fmt: skip
        result = read_cache(cache, inputs, keys, self.dimension)
        if on_error == "raise" and result.errors:
            error = result.errors[0]
            raise GVEInputError(f"inputs[{error.index}] {error.input}", error.reason)
        return result


def fill_cache(
    encoder: Any,
    cache: EmbeddingCache,
    inputs: Sequence[Any],
    keys: Sequence[str],
    *,
    instruction: str | None,
    batch_size: int,
    flush_every: int,
    num_workers: int | None,
    show_progress_bar: bool,
    flush_seconds: float | None = None,
    **encode_kwargs: Any,
) -> int:
    """Encode (``encoder.encode(..., on_error="skip")``) the inputs whose keys ``cache`` lacks, one
    batch at a time, storing vectors and failures every ``flush_every`` inputs or ``flush_seconds``
    (whichever comes first) and at the end. Returns how many inputs were encoded.

    The progress bar counts inputs, with their rate and the time left. Failures are stored with
    their reason only: they are reported under the input's current name (`read_cache`)."""
    todo = cache.missing(keys)
    if todo:
        cache.refresh()  # what other processes wrote since
        todo = cache.missing(keys)
    first: dict[str, int] = {}
    for index, key in enumerate(keys):
        first.setdefault(key, index)
    progress = tqdm(total=len(todo), desc=f"Encoding ({len(first) - len(todo)} cached)", unit="item",
                    disable=not show_progress_bar or not todo)  # fmt: skip
    pending = PendingWrites(cache)
    step = max(1, min(batch_size, flush_every))
    for start in range(0, len(todo), step):
        chunk = todo[start : start + step]
        result = encoder.encode(
            [inputs[first[k]] for k in chunk], instruction=instruction, batch_size=batch_size, on_error="skip",
            num_workers=num_workers, **encode_kwargs,
        )  # fmt: skip
        pending.add(chunk, result)
        progress.update(len(chunk))
        if pending.count >= flush_every or (flush_seconds is not None and pending.age >= flush_seconds):
            pending.flush()
    pending.flush()
    progress.close()
    return len(todo)


class PendingWrites:
    """Encoded results not yet written to a cache: `add` an encoded chunk, `flush` to write it
    (vectors, then the segment records that name them, then failures)."""

    def __init__(self, cache: EmbeddingCache):
        self.cache = cache
        self._clear()

    def _clear(self) -> None:
        self.keys: list[str] = []
        self.vectors: list[torch.Tensor] = []
        self.errors: dict[str, str] = {}
        self.spans: dict[str, list[tuple[float, float]]] = {}
        self.count = 0
        self.since = time.monotonic()

    @property
    def age(self) -> float:
        return time.monotonic() - self.since

    def add(self, chunk: Sequence[str], result: EncodeResult) -> None:
        """One encoded chunk (``chunk``: the keys of its inputs): rows under the input's key, or,
        for an encoder with several rows per input (``result.spans``), under `segment_key`."""
        if result.spans is None:
            self.keys += [chunk[i] for i in result.indices]
        else:
            for index, span in zip(result.indices, result.spans):
                self.spans.setdefault(chunk[index], []).append(span)
                self.keys.append(segment_key(chunk[index], span))
        if result.indices:
            self.vectors.append(result.embeddings)
        self.errors.update({chunk[e.index]: e.reason for e in result.errors})
        self.count += len(chunk)

    def flush(self) -> None:
        if self.keys:
            self.cache.put(self.keys, torch.cat(self.vectors))
        self.cache.put_spans(self.spans)  # after the vectors they name
        self.cache.put_errors(self.errors)
        self._clear()


def recorded_reason(error: SkippedInput) -> str:
    """The reason of a `CachedEncoder` failure without the input's name (for a report that names
    the input itself)."""
    return error.reason.removeprefix(f"{error.input}: ")


def read_cache(cache: EmbeddingCache, inputs: Sequence[Any], keys: Sequence[str], dimension: int) -> EncodeResult:
    """The `EncodeResult` of ``inputs`` from ``cache``: vectors of the good ones in order, the
    failed ones (``reason``: their current description, then the reason recorded by content, so
    a moved file is named where it is now; `recorded_reason` gives the reason alone). Inputs
    stored as several rows give each row, with ``spans``."""
    failed, stored_spans = cache.errors, cache.spans
    good = [i for i, key in enumerate(keys) if key not in failed]
    errors = []
    for i, key in enumerate(keys):
        if key in failed:
            name = describe_item(inputs[i])
            errors.append(SkippedInput(index=i, input=name, reason=f"{name}: {failed[key]}"))
    if not any(keys[i] in stored_spans for i in good):
        embeddings = cache.get([keys[i] for i in good]) if good else torch.empty(0, dimension)
        return EncodeResult(embeddings=embeddings, indices=good, errors=errors)
    indices, spans, row_keys = [], [], []
    for i in good:
        for span in stored_spans[keys[i]]:
            indices.append(i)
            spans.append(span)
            row_keys.append(segment_key(keys[i], span))
    return EncodeResult(embeddings=cache.get(row_keys), indices=indices, errors=errors, spans=spans)


__all__ = [
    "DEFAULT_MODEL",
    "CachedEncoder",
    "Encoder",
    "PendingWrites",
    "EncoderKind",
    "GVEEncoder",
    "Role",
    "SentenceTransformerEncoder",
    "check_model_source",
    "default_device",
    "detect_encoder",
    "load_encoder",
    "load_gve",
    "recorded_reason",
    "st_video",
]
