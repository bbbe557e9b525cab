# Copyright 2026 The GVE package authors. Apache-2.0.
"""What must hold before anything is pushed: a checkpoint that loads and embeds, cards that
parse back with `huggingface_hub` and say what the files hold, eval results equal to the
``results.json`` they come from, dataset configs that point at files, an ``eval.yaml`` the Hub
accepts. Every failure is a `HubCheckError` naming the file and the reason.
"""

from __future__ import annotations

import gc
import json
import math
from pathlib import Path
from typing import Any

import yaml

from ..checkpoint import CHECKPOINT_FILES

PROBE_TEXT = "a dog catches a frisbee in a park"
# GVEModel and SentenceTransformer run the same computation; in bf16 they may differ by rounding.
MIN_PATH_AGREEMENT = 0.99


class HubCheckError(ValueError):
    """A folder, checkpoint or card that must not be pushed; the message says which and why."""


def missing_checkpoint_files(folder: str | Path) -> list[str]:
    """The files a self-contained GVE checkpoint needs that ``folder`` lacks (empty: complete)."""
    folder = Path(folder)
    missing = [name for name in CHECKPOINT_FILES if not (folder / name).is_file()]
    if not any(folder.glob("*.safetensors")):
        missing.append("*.safetensors (weights)")
    config = folder / "config.json"
    if config.is_file():
        data = json.loads(config.read_text())
        if data.get("model_type") != "gve" or "AutoModel" not in (data.get("auto_map") or {}):
            missing.append("config.json with model_type 'gve' and an auto_map")
    return missing


def check_checkpoint_loads(folder: str | Path, device: str = "cpu") -> dict:
    """Load ``folder`` with `GVEModel` and with ``SentenceTransformer(trust_remote_code=True)``
    (the way users will) and embed a short text with each.

    Returns:
        ``{"dimension": D, "agreement": cosine between the two paths' vectors}``.

    Raises:
        HubCheckError: missing files, a load or encode failure, a non-finite or non-unit
            vector, or the two paths disagreeing.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    from ..modeling_gve import GVEModel

    folder = Path(folder)
    missing = missing_checkpoint_files(folder)
    if missing:
        raise HubCheckError(f"{folder}: not a complete GVE checkpoint; missing {', '.join(missing)}")
    try:
        model = GVEModel.from_pretrained(str(folder), dtype="auto").to(device).eval()
        ours = model.encode([PROBE_TEXT]).float()  # (1, D)
        dimension = model.config.text_config.hidden_size
        del model
        gc.collect()
    except Exception as err:  # any failure to load or run is a reason to refuse
        raise HubCheckError(f"{folder}: GVEModel cannot load and encode it: {type(err).__name__}: {err}") from err
    _check_vector(folder, "GVEModel", ours, dimension)
    try:
        st_model = SentenceTransformer(
            str(folder), trust_remote_code=True, device=device, model_kwargs={"dtype": "auto"}
        )
        theirs = st_model.encode([PROBE_TEXT], convert_to_tensor=True).float().cpu()  # (1, D)
        del st_model
        gc.collect()
    except Exception as err:
        raise HubCheckError(
            f"{folder}: SentenceTransformer(trust_remote_code=True) cannot load and encode it: "
            f"{type(err).__name__}: {err}"
        ) from err
    _check_vector(folder, "SentenceTransformer", theirs, dimension)
    agreement = float(torch.nn.functional.cosine_similarity(ours, theirs).item())
    if agreement < MIN_PATH_AGREEMENT:
        raise HubCheckError(
            f"{folder}: SentenceTransformer and GVEModel give different embeddings (cosine {agreement:.4f}); "
            "the sentence-transformers files do not match the model"
        )
    return {"dimension": dimension, "agreement": agreement}


def _check_vector(folder: Path, path: str, vector: Any, dimension: int) -> None:
    if tuple(vector.shape) != (1, dimension):
        raise HubCheckError(f"{folder}: {path} returned shape {tuple(vector.shape)}, expected (1, {dimension})")
    norm = float(vector.norm())
    if not math.isfinite(norm) or abs(norm - 1.0) > 1e-2:
        raise HubCheckError(f"{folder}: {path} returned a vector of norm {norm} (expected a unit vector)")


def check_results_source(results: dict, source: str) -> str | None:
    """Whether a ``gve uvrb`` results dictionary is about ``source`` (the checkpoint pushed).

    Returns:
        ``None`` when the results scored ``source`` itself; a note for the user when they name
        another model (e.g. scored on the Hub id of weights converted here: the same weights).

    Raises:
        HubCheckError: the results scored this very folder, whose config or weight files have
            changed since (the digest `gve uvrb` recorded no longer matches).
    """
    from types import SimpleNamespace

    from ..embedding_cache import model_fingerprint

    record = results.get("encoder") or {}
    scored = record.get("model")
    if not scored:
        return None
    local = Path(source).expanduser()
    if local.is_dir() and Path(scored).is_dir() and Path(scored).resolve() == local.resolve():
        now = model_fingerprint(SimpleNamespace(name_or_path=str(local))).get("local_digest")
        if record.get("local_digest") and now != record["local_digest"]:
            raise HubCheckError(
                f"{local}: its config or weight files changed after `gve uvrb` scored it (weights digest "
                f"{record['local_digest']} then, {now} now); score it again"
            )
        return None
    if scored != source:
        return f"note: the results scored {scored!r}, this push publishes {source!r}; they must be the same weights"
    return None


# --------------------------------------------------------------------------- cards


def check_model_card(folder: str | Path, results: dict | None = None, include_incomplete: bool = False) -> Any:
    """Parse ``folder/README.md`` back with `huggingface_hub.ModelCard`: required metadata present,
    ``model-index`` valid and, with ``results``, equal to it, as is ``.eval_results/uvrb.yaml``.

    Returns:
        the parsed `ModelCard`.
    """
    from huggingface_hub import ModelCard, parse_eval_result_entries

    from hub_cards.gve_model import EVAL_RESULTS_FILE, uvrb_eval_result_entries, uvrb_eval_results

    folder = Path(folder)
    path = folder / "README.md"
    card = _load_card(ModelCard, path)
    for key in ("library_name", "pipeline_tag", "license", "base_model"):
        if not card.data.get(key):
            raise HubCheckError(f"{path}: metadata lacks {key!r}")
    eval_file = folder / EVAL_RESULTS_FILE
    if results is None:
        if card.data.eval_results:
            raise HubCheckError(f"{path}: has a model-index but no results.json was given to check it against")
        if eval_file.exists():
            raise HubCheckError(f"{eval_file}: eval results without a results.json to check them against")
        return card
    expected = uvrb_eval_results(results, include_incomplete)
    got = card.data.eval_results or []
    if [_eval_key(r) for r in got] != [_eval_key(r) for r in expected]:
        raise HubCheckError(f"{path}: model-index does not hold the results.json scores")
    try:
        entries = parse_eval_result_entries(yaml.safe_load(eval_file.read_text()) or [])
    except (OSError, KeyError, TypeError, yaml.YAMLError) as err:
        raise HubCheckError(f"{eval_file}: not valid eval results ({type(err).__name__}: {err})") from None
    if entries != uvrb_eval_result_entries(results, include_incomplete):
        raise HubCheckError(f"{eval_file}: does not hold the results.json scores")
    return card


def _eval_key(result: Any) -> tuple:
    return (*result.unique_identifier, result.metric_type, result.metric_name, result.metric_value)


def check_dataset_card(folder: str | Path) -> Any:
    """Parse ``folder/README.md`` back with `huggingface_hub.DatasetCard`; every config's data
    files must exist in ``folder`` (what ``datasets.load_dataset`` will look for).

    Returns:
        the parsed `DatasetCard`.
    """
    from huggingface_hub import DatasetCard

    folder = Path(folder)
    path = folder / "README.md"
    card = _load_card(DatasetCard, path)
    configs = card.data.get("configs") or []
    if not configs:
        raise HubCheckError(f"{path}: declares no configs")
    for config in configs:
        name = config.get("config_name")
        for entry in config.get("data_files") or []:
            patterns = entry["path"] if isinstance(entry["path"], list) else [entry["path"]]
            for pattern in patterns:
                if not any(p.is_file() for p in folder.glob(pattern)):
                    raise HubCheckError(
                        f"{path}: config {name!r} split {entry.get('split')!r}: no file matches {pattern!r}"
                    )
    return card


def check_eval_yaml(folder: str | Path, card: Any) -> dict:
    """``folder/eval.yaml`` has the Hub benchmark fields, a framework the Hub lists, unique task
    ids, and configs/splits that the dataset card declares."""
    from hub_cards.uvrb_dataset import EVALUATION_FRAMEWORKS

    path = Path(folder) / "eval.yaml"
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise HubCheckError(f"{path}: cannot be read ({err})") from None
    if not isinstance(data, dict):
        raise HubCheckError(f"{path}: expected a mapping")
    for key in ("name", "description", "evaluation_framework", "tasks"):
        if not data.get(key):
            raise HubCheckError(f"{path}: missing {key!r}")
    if data["evaluation_framework"] not in EVALUATION_FRAMEWORKS:
        raise HubCheckError(
            f"{path}: evaluation_framework {data['evaluation_framework']!r} is not one the Hub lists "
            f"({', '.join(EVALUATION_FRAMEWORKS)})"
        )
    splits = {
        c["config_name"]: {f.get("split", "train") for f in c.get("data_files") or []}
        for c in card.data.get("configs") or []
    }
    seen = set()
    for task in data["tasks"]:
        task_id = task.get("id") if isinstance(task, dict) else None
        if not task_id or task_id in seen:
            raise HubCheckError(f"{path}: every task needs a unique 'id'; got {task!r}")
        seen.add(task_id)
        config, split = task.get("config"), task.get("split", "test")
        if config is not None and config not in splits:
            raise HubCheckError(f"{path}: task {task_id!r} names config {config!r}, which the card does not declare")
        if config is not None and split not in splits[config]:
            raise HubCheckError(f"{path}: task {task_id!r}: config {config!r} has no split {split!r}")
    return data


def check_training_pairs(folder: str | Path, card: Any) -> int:
    """Every media path in the parquet configs of a training-pair dataset (V-SynFlow output, the
    schema of docs/training-data.md) names a file of ``folder``. Returns the number of rows."""
    import pyarrow.parquet as pq

    folder = Path(folder)
    rows = 0
    for config in card.data.get("configs") or []:
        for entry in config.get("data_files") or []:
            for parquet in sorted(folder.glob(entry["path"])):
                table = pq.read_table(parquet)
                rows += table.num_rows
                paths = [
                    p
                    for column in ("query_image", "query_video", "pos_image", "pos_video")
                    if column in table.column_names
                    for p in table.column(column).to_pylist()
                    if p
                ]
                if "negatives" in table.column_names:
                    for negatives in table.column("negatives").to_pylist():
                        paths += [n[k] for n in negatives or [] for k in ("image", "video") if n.get(k)]
                for relative in dict.fromkeys(paths):
                    if not (folder / relative).is_file():
                        raise HubCheckError(f"{parquet}: names {relative!r}, which is not in the dataset folder")
    return rows


def check_uvrb_data(folder: str | Path, tasks: list[Any]) -> None:
    """Every task folder reads with the loader `gve uvrb` uses (JSONL valid, media present)."""
    from ..uvrb.data import UVRBDataError, load_task

    for task in tasks:
        try:
            load_task(task, Path(folder) / task.hub_folder)
        except UVRBDataError as err:
            raise HubCheckError(f"UVRB task {task.name}: {err}") from None


def check_metric_folder(folder: str | Path, module_name: str) -> None:
    """The Space folder's module loads with `evaluate` and gives the package's metrics; its card parses."""
    import evaluate
    from huggingface_hub import SpaceCard

    from ..uvrb.metrics import task_metrics

    folder = Path(folder)
    _load_card(SpaceCard, folder / "README.md")
    script = folder / f"{module_name}.py"
    predictions, references = [["v2", "v1", "v3"], ["v1", "v3", "v2"]], [["v1"], ["v1", "v3"]]
    try:
        got = evaluate.load(str(script)).compute(predictions=predictions, references=references, task="MSRVTT")
    except Exception as err:
        raise HubCheckError(
            f"{script}: the evaluate module does not load and compute: {type(err).__name__}: {err}"
        ) from err
    if got != task_metrics("MSRVTT", predictions, references):
        raise HubCheckError(f"{script}: computes other values than modeling_gve.uvrb.metrics")


def _load_card(card_class: Any, path: Path) -> Any:
    if not path.is_file():
        raise HubCheckError(f"{path}: missing")
    try:
        return card_class.load(path, ignore_metadata_errors=False)
    except (ValueError, TypeError, KeyError, yaml.YAMLError) as err:  # bad YAML, metadata or model-index
        raise HubCheckError(f"{path}: does not parse as a {card_class.__name__}: {err}") from None


__all__ = [
    "CHECKPOINT_FILES",
    "HubCheckError",
    "check_checkpoint_loads",
    "check_dataset_card",
    "check_eval_yaml",
    "check_metric_folder",
    "check_model_card",
    "check_results_source",
    "check_training_pairs",
    "check_uvrb_data",
    "missing_checkpoint_files",
]
