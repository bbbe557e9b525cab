# Copyright 2026 The GVE package authors. Apache-2.0.
"""What must hold before anything is pushed: results that follow from their own task scores,
a checkpoint that loads and embeds (with the installed package's classes: no code from the
folder runs unless the user trusts it), cards that parse back with `huggingface_hub` and hold
exactly the results' scores, dataset configs that point at files, an ``eval.yaml`` the Hub
accepts, media that may be redistributed, a metric Space that runs without this package.
Every failure is a `HubCheckError` naming the file (as the user knows it) and the reason.
"""

from __future__ import annotations

import filecmp
import gc
import json
import math
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from hub_cards.gve_model import AGGREGATE_METRIC_TYPES, EVAL_RESULTS_FILE, METRIC_TYPES
from hub_cards.uvrb_dataset import EVALUATION_FRAMEWORKS

from ..checkpoint import CHECKPOINT_FILES, MODULE_TYPE, REMOTE_CODE_FILES
from ..embedding_cache import model_fingerprint
from ..messages import first_line
from ..uvrb.metrics import METRIC_NAMES, aggregate
from ..uvrb.tasks import HUB_REPO, TASKS, UVRBTask, get_task

PROBE_TEXT = "a dog catches a frisbee in a park"
# GVEModel and SentenceTransformer run the same computation; in bf16 they may differ by rounding.
MIN_PATH_AGREEMENT = 0.99
# Media of these sources are published only with `allow_redistribution` (`UVRBTask.media_license`).
NOT_REDISTRIBUTABLE = ("index-only", "unknown")
PACKAGE_DIR = Path(__file__).resolve().parents[1]


class HubCheckError(ValueError):
    """A folder, checkpoint or card that must not be pushed; the message says which and why."""


# --------------------------------------------------------------------------- results.json


def load_uvrb_results(path: str | os.PathLike) -> dict:
    """Read and check a ``gve uvrb`` results file (`check_uvrb_results`).

    Raises:
        HubCheckError: naming the file and what is wrong.
    """
    path = Path(path)
    try:
        results = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise HubCheckError(f"{path}: not a readable results.json ({err})") from None
    check_uvrb_results(results, where=str(path))
    return results


def check_uvrb_results(results: dict, where: str = "results") -> None:
    """Known tasks, every metric present and in [0, 1], the main score equal to the task's main
    metric and the aggregate columns equal to those computed from the task scores (so a
    hand-edited file is caught).

    Raises:
        HubCheckError: naming ``where`` and what is wrong.
    """
    tasks = results.get("tasks") if isinstance(results, dict) else None
    if not tasks or not isinstance(tasks, dict):
        raise HubCheckError(f"{where}: no 'tasks' (expected the results.json written by `gve uvrb`)")
    for name, record in tasks.items():
        try:
            task = get_task(name)
        except KeyError as err:
            raise HubCheckError(f"{where}: {err.args[0]}") from None
        missing = [k for k in (*METRIC_NAMES, "main_score", "main_metric", "complete") if k not in record]
        if missing:
            raise HubCheckError(f"{where}: task {name} lacks {', '.join(missing)}")
        if record["main_metric"] != task.main_metric or record["main_score"] != record[task.main_metric]:
            raise HubCheckError(
                f"{where}: task {name}: main_score {record['main_score']} is not its {task.main_metric} "
                f"({record[task.main_metric]})"
            )
        for metric in METRIC_NAMES:
            value = record[metric]
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise HubCheckError(f"{where}: task {name}: {metric} = {value!r} is not a score in [0, 1]")
    expected = aggregate({name: r["main_score"] for name, r in tasks.items()})
    stored = results.get("aggregate", {})
    for column, value in expected.items():
        if (value is None) != (stored.get(column) is None) or (
            value is not None and abs(value - stored[column]) > 1e-9
        ):
            raise HubCheckError(
                f"{where}: aggregate {column} = {stored.get(column)!r} does not follow from the task scores ({value!r})"
            )


def publishable_tasks(results: dict, allow_incomplete: bool = False) -> list[str]:
    """The tasks whose scores can be published, in registry order.

    A task that skipped inputs (undecodable videos...) is not comparable to the paper's; it is
    refused unless ``allow_incomplete`` (then the card and its entries carry a note).

    Raises:
        HubCheckError: an incomplete task and ``allow_incomplete`` is false.
    """
    incomplete = [name for name, r in results["tasks"].items() if not r["complete"]]
    if incomplete and not allow_incomplete:
        details = ", ".join(
            f"{n} ({len(results['tasks'][n].get('skipped_queries', []))} queries, "
            f"{len(results['tasks'][n].get('skipped_candidates', []))} videos skipped)"
            for n in incomplete
        )
        raise HubCheckError(
            f"results are incomplete for {details}: these scores are not comparable; fix the data and re-run "
            "`gve uvrb` (it resumes), or publish them with a note (--allow-incomplete)"
        )
    return [name for name in TASKS if name in results["tasks"]]


def check_results_source(results: dict, source: str) -> str | None:
    """Whether a ``gve uvrb`` results dictionary is about ``source`` (the checkpoint pushed).

    Returns:
        ``None`` when the results scored ``source`` itself; a note for the user when they name
        another model (e.g. scored on the Hub id of weights converted here: the same weights).

    Raises:
        HubCheckError: the results scored this very folder, whose config or weight files have
            changed since (the digest `gve uvrb` recorded no longer matches).
    """
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


# --------------------------------------------------------------------------- the checkpoint


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


def remote_code_differences(folder: str | Path) -> list[str]:
    """The remote-code files of ``folder`` that are not byte for byte the installed package's."""
    folder = Path(folder)
    return [
        name
        for name in REMOTE_CODE_FILES
        if (folder / name).is_file() and not filecmp.cmp(folder / name, PACKAGE_DIR / name, shallow=False)
    ]


def check_checkpoint_loads(
    folder: str | Path,
    device: str = "cpu",
    *,
    trust_remote_code: bool = False,
    name: str | None = None,
    left_out: Mapping[str, str] | None = None,
) -> dict:
    """Load ``folder`` with `GVEModel` and as a ``SentenceTransformer`` and embed a short text with each.

    Both load with the installed package's classes, so no code from the folder runs; a folder
    whose remote-code files differ from the package's is refused, since users would run that
    code. With ``trust_remote_code`` the folder is loaded the way users load it instead
    (``AutoModel`` and ``SentenceTransformer`` with ``trust_remote_code=True``).

    Args:
        name: how the folder is named in messages (default: its path).
        left_out: files staging left out of the folder, and why (said when one is missing).

    Returns:
        ``{"dimension": D, "agreement": cosine between the two paths' vectors}``.

    Raises:
        HubCheckError: missing files, differing remote code, a load or encode failure, a
            non-finite or non-unit vector, or the two paths disagreeing.
    """
    import torch

    folder = Path(folder)
    name = name or str(folder)
    missing = missing_checkpoint_files(folder)
    if missing:
        why = {file: (left_out or {}).get(file) for file in missing}
        listed = ", ".join(file + (f" (left out: {why[file]})" if why[file] else "") for file in missing)
        raise HubCheckError(f"{name}: not a complete GVE checkpoint; missing {listed}")
    differing = remote_code_differences(folder)
    if differing and not trust_remote_code:
        raise HubCheckError(
            f"{name}: its remote-code files differ from the installed gve package's ({', '.join(differing)}); "
            "checking them would run the folder's code. Re-save it with this package (`gve convert`), or pass "
            "--trust-remote-code if you trust that code"
        )
    model_path, st_path = ("AutoModel", "SentenceTransformer")
    if trust_remote_code:
        model_path, st_path = (f"{p}(trust_remote_code=True)" for p in (model_path, st_path))
    else:
        model_path = "GVEModel"
    ours = _embed(lambda: _load_model(folder, device, trust_remote_code), name, model_path)
    theirs = _embed(lambda: _load_sentence_transformer(folder, device, trust_remote_code), name, st_path, st=True)
    dimension = json.loads((folder / "config.json").read_text()).get("text_config", {}).get("hidden_size")
    for path, vector in ((model_path, ours), (st_path, theirs)):
        _check_vector(name, path, vector, dimension)
    agreement = float(torch.nn.functional.cosine_similarity(ours, theirs).item())
    if agreement < MIN_PATH_AGREEMENT:
        raise HubCheckError(
            f"{name}: SentenceTransformer and GVEModel give different embeddings (cosine {agreement:.4f}); "
            "the sentence-transformers files do not match the model"
        )
    return {"dimension": dimension, "agreement": agreement}


def _load_model(folder: Path, device: str, trust_remote_code: bool) -> Any:
    if trust_remote_code:
        from transformers import AutoModel

        return AutoModel.from_pretrained(str(folder), trust_remote_code=True, dtype="auto").to(device).eval()
    from ..modeling_gve import GVEModel

    return GVEModel.from_pretrained(str(folder), dtype="auto").to(device).eval()


def _load_sentence_transformer(folder: Path, device: str, trust_remote_code: bool) -> Any:
    """sentence-transformers' own loading of ``folder`` (``modules.json``, prompts, settings),
    with the module class it names resolved to the installed `GVETransformer` unless the folder's
    code is trusted."""
    from sentence_transformers import SentenceTransformer

    from ..sentence_transformers_gve import GVETransformer

    kwargs = {"device": device, "model_kwargs": {"dtype": "auto"}}
    if trust_remote_code:
        return SentenceTransformer(str(folder), trust_remote_code=True, **kwargs)
    return SentenceTransformer._load_with_module_classes(str(folder), {MODULE_TYPE: GVETransformer}, **kwargs)


def _embed(load: Any, name: str, path: str, st: bool = False) -> Any:
    """The probe text's vector, ``(1, D)`` float32 on the CPU, from the model ``load()`` returns
    (a sentence-transformers model if ``st``)."""
    try:
        model = load()
        options = {"convert_to_tensor": True} if st else {}
        vector = model.encode([PROBE_TEXT], **options).float().cpu()
        del model
        gc.collect()
    except Exception as err:  # any failure to load or run is a reason to refuse
        raise HubCheckError(
            f"{name}: {path} cannot load and encode it: {type(err).__name__}: {first_line(err)}"
        ) from err
    return vector


def _check_vector(name: str, path: str, vector: Any, dimension: int | None) -> None:
    if vector.ndim != 2 or vector.shape[0] != 1 or (dimension and vector.shape[1] != dimension):
        raise HubCheckError(f"{name}: {path} returned shape {tuple(vector.shape)}, expected (1, {dimension})")
    norm = float(vector.norm())
    if not math.isfinite(norm) or abs(norm - 1.0) > 1e-2:
        raise HubCheckError(f"{name}: {path} returned a vector of norm {norm} (expected a unit vector)")


# --------------------------------------------------------------------------- cards


def check_model_card(folder: str | Path, results: dict | None = None, *, name: str | None = None) -> Any:
    """Parse ``folder/README.md`` back with `huggingface_hub.ModelCard`: required metadata present,
    ``model-index`` valid and holding exactly ``results``' scores (every metric of every task and
    the aggregate columns that follow from them), as must ``.eval_results/uvrb.yaml``. The scores
    are compared with the results themselves, not with what the card generator would write.

    Returns:
        the parsed `ModelCard`.
    """
    from huggingface_hub import ModelCard, parse_eval_result_entries

    folder = Path(folder)
    where = f"{name or folder}: the generated README.md"
    card = _load_card(ModelCard, folder / "README.md", where)
    for key in ("library_name", "pipeline_tag", "license", "base_model"):
        if not card.data.get(key):
            raise HubCheckError(f"{where}: metadata lacks {key!r}")
    eval_file = folder / EVAL_RESULTS_FILE
    if results is None:
        if card.data.eval_results:
            raise HubCheckError(f"{where}: has a model-index but no results.json was given to check it against")
        if eval_file.exists():
            raise HubCheckError(f"{name or folder}: {EVAL_RESULTS_FILE} without a results.json to check it against")
        return card
    got = card.data.eval_results or []
    if len(got) != len(_card_scores(got)) or _card_scores(got) != _expected_scores(results):
        raise HubCheckError(f"{where}: model-index does not hold the results.json scores")
    try:
        entries = parse_eval_result_entries(yaml.safe_load(eval_file.read_text()) or [])
    except (OSError, KeyError, TypeError, yaml.YAMLError) as err:
        raise HubCheckError(
            f"{name or folder}: {EVAL_RESULTS_FILE} is not valid ({type(err).__name__}: {err})"
        ) from None
    expected = sorted((task, record["main_score"]) for task, record in results["tasks"].items())
    datasets = {HUB_REPO, results.get("data", {}).get("data")}
    if sorted((e.task_id, e.value) for e in entries) != expected or any(e.dataset_id not in datasets for e in entries):
        raise HubCheckError(f"{name or folder}: {EVAL_RESULTS_FILE} does not hold the results.json scores")
    return card


def _card_scores(eval_results: Sequence[Any]) -> dict[tuple, float]:
    return {(r.dataset_config, r.metric_type): r.metric_value for r in eval_results}


def _expected_scores(results: dict) -> dict[tuple, float]:
    """``(dataset config, metric id) -> value`` a card must hold for ``results``."""
    expected = {
        (f"{task}-queries", METRIC_TYPES[metric]): record[metric]
        for task, record in results["tasks"].items()
        for metric in METRIC_NAMES
    }
    columns = aggregate({task: record["main_score"] for task, record in results["tasks"].items()})
    expected.update({(None, AGGREGATE_METRIC_TYPES[c]): v for c, v in columns.items() if v is not None})
    return expected


def check_dataset_card(folder: str | Path, *, name: str | None = None) -> Any:
    """Parse ``folder/README.md`` back with `huggingface_hub.DatasetCard`; every config's data
    files must exist in ``folder`` (what ``datasets.load_dataset`` will look for).

    Returns:
        the parsed `DatasetCard`.
    """
    from huggingface_hub import DatasetCard

    folder = Path(folder)
    where = f"{name or folder}: the card README.md"
    card = _load_card(DatasetCard, folder / "README.md", where)
    configs = card.data.get("configs") or []
    if not configs:
        raise HubCheckError(f"{where}: declares no configs")
    for config in configs:
        config_name = config.get("config_name")
        for entry in config.get("data_files") or []:
            patterns = entry["path"] if isinstance(entry["path"], list) else [entry["path"]]
            for pattern in patterns:
                if not any(p.is_file() for p in folder.glob(pattern)):
                    raise HubCheckError(
                        f"{where}: config {config_name!r} split {entry.get('split')!r}: no file matches {pattern!r}"
                    )
    return card


def check_eval_yaml(folder: str | Path, card: Any) -> dict:
    """``folder/eval.yaml`` has the Hub benchmark fields, a framework the Hub lists, unique task
    ids, and configs/splits that the dataset card declares."""
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


# --------------------------------------------------------------------------- datasets


def check_training_pairs(folder: str | Path, card: Any, *, name: str | None = None) -> int:
    """Every media path in the parquet configs of a training-pair dataset (V-SynFlow output, the
    schema of docs/training_data.md) names a file of ``folder``. Returns the number of rows."""
    import pyarrow.parquet as pq

    from ..paths import PathOutsideRootError, resolve_inside

    folder = Path(folder)
    rows = 0
    for config in card.data.get("configs") or []:
        for entry in config.get("data_files") or []:
            for parquet in sorted(folder.glob(entry["path"])):
                table = pq.read_table(parquet)
                rows += table.num_rows
                where = f"{name or folder}/{parquet.relative_to(folder)}"
                for relative in _media_paths(table):
                    try:
                        found = resolve_inside(folder, relative, where).is_file()
                    except PathOutsideRootError as err:
                        raise HubCheckError(str(err)) from None
                    if not found:
                        raise HubCheckError(f"{where}: names {relative!r}, which is not in the dataset folder")
    return rows


def _media_paths(table: Any) -> list[str]:
    """The distinct media paths a training-pair table names (query, positive, negatives)."""
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
    return list(dict.fromkeys(paths))


def check_uvrb_data(folder: str | Path, tasks: list[Any], *, name: str | None = None) -> None:
    """Every task folder reads with the loader `gve uvrb` uses (JSONL valid, media present)."""
    from ..uvrb.data import UVRBDataError, load_task

    for task in tasks:
        try:
            load_task(task, Path(folder) / task.hub_folder)
        except UVRBDataError as err:
            message = str(err).replace(str(folder), name) if name else str(err)
            raise HubCheckError(f"UVRB task {task.name}: {message}") from None


def check_redistribution(tasks: Sequence[UVRBTask], allow_redistribution: bool, *, name: str) -> list[str]:
    """Media of a task may be uploaded only if its source allows it (`UVRBTask.media_license`),
    or the user says they may (``allow_redistribution``).

    Returns:
        the tasks whose media are published on the user's word (to say so in the card).

    Raises:
        HubCheckError: media of index-only or unknown sources, without ``allow_redistribution``.
    """
    restricted = [t for t in tasks if t.media_license in NOT_REDISTRIBUTABLE]
    if restricted and not allow_redistribution:
        listed = ", ".join(f"{t.name} ({t.media_license})" for t in restricted)
        raise HubCheckError(
            f"{name}: would upload the media of {listed}: their sources allow publishing the index only, or this "
            "project could not establish that they allow re-hosting. Leave them out with --tasks, or pass "
            "--allow-redistribution if you hold the right to redistribute those videos"
        )
    return [t.name for t in restricted]


# --------------------------------------------------------------------------- metric


def check_metric_folder(folder: str | Path, module_name: str) -> None:
    """The Space folder runs without this package: its module loads with `evaluate` in a fresh
    interpreter that cannot import ``modeling_gve`` or ``hub_cards``, and computes what
    `modeling_gve.uvrb.metrics` computes; every package the module imports is in its
    ``requirements.txt``; its card parses."""
    from evaluate.loading import get_imports
    from huggingface_hub import SpaceCard

    from ..uvrb.metrics import task_metrics

    folder = Path(folder)
    _load_card(SpaceCard, folder / "README.md", f"{folder}: the Space card README.md")
    script = folder / f"{module_name}.py"
    needed = {name for kind, name, _, _ in get_imports(str(script)) if kind == "library"}
    lines = (folder / "requirements.txt").read_text().splitlines()
    listed = {
        canonicalize_name(Requirement(line).name) for line in lines if line.strip() and not line.startswith(("#", "-"))
    }
    if needed - listed:
        raise HubCheckError(f"{script}: imports {', '.join(sorted(needed - listed))}, which requirements.txt lacks")
    predictions, references = [["v2", "v1", "v3"], ["v1", "v3", "v2"]], [["v1"], ["v1", "v3"]]
    code = BLOCK_PACKAGES + textwrap.dedent(
        f"""
        import json, evaluate
        metric = evaluate.load({str(script)!r})
        print(json.dumps(metric.compute(predictions={predictions!r}, references={references!r}, task="MSRVTT")))
        """
    )
    with tempfile.TemporaryDirectory(prefix="gve-metric-") as modules:  # where evaluate copies the module
        env = {**os.environ, "PYTHONPATH": "", "HF_MODULES_CACHE": modules}
        done = subprocess.run([sys.executable, "-c", code], cwd=folder, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise HubCheckError(
            f"{script}: does not load and compute without the gve package: {(done.stderr.strip().splitlines() or [''])[-1]}"
        )
    if json.loads(done.stdout.strip().splitlines()[-1]) != task_metrics("MSRVTT", predictions, references):
        raise HubCheckError(f"{script}: computes other values than modeling_gve.uvrb.metrics")


# Prepended to a subprocess: the gve package and the cards cannot be imported (a machine without them).
BLOCK_PACKAGES = textwrap.dedent(
    """
    import importlib.abc, sys
    class _Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("modeling_gve", "hub_cards"):
                raise ModuleNotFoundError(f"No module named {name!r}")
    sys.meta_path.insert(0, _Block())
    """
)


def _load_card(card_class: Any, path: Path, where: str) -> Any:
    if not path.is_file():
        raise HubCheckError(f"{where}: missing")
    try:
        return card_class.load(path, ignore_metadata_errors=False)
    except (ValueError, TypeError, KeyError, yaml.YAMLError) as err:  # bad YAML, metadata or model-index
        raise HubCheckError(f"{where}: does not parse as a {card_class.__name__}: {err}") from None


__all__ = [
    "BLOCK_PACKAGES",
    "CHECKPOINT_FILES",
    "HubCheckError",
    "check_checkpoint_loads",
    "check_dataset_card",
    "check_eval_yaml",
    "check_metric_folder",
    "check_model_card",
    "check_redistribution",
    "check_results_source",
    "check_training_pairs",
    "check_uvrb_data",
    "check_uvrb_results",
    "first_line",
    "load_uvrb_results",
    "missing_checkpoint_files",
    "publishable_tasks",
    "remote_code_differences",
]
