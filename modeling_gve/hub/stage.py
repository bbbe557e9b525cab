# Copyright 2026 The GVE package authors. Apache-2.0.
"""Assembling the exact folder a Hub repo receives: the files to publish (hard links to the
originals, or symbolic links across file systems, never copies of large files) plus the
generated cards. `gve hub ... --dry-run OUT` writes this folder to OUT; a push writes it to a
temporary folder and uploads that folder as it is. What may enter it is decided by the rules of
`modeling_gve.hub.files` (allow-lists, credentials, links); what is left out is listed.

- model: a complete GVE checkpoint folder (`save_gve_checkpoint` output: a `gve convert`,
  a training run) is published file by file: the checkpoint's files, plus what ``include`` names;
  anything else (a released-layout folder, a Hub id) is converted first with
  `convert_checkpoint`, which downloads through `from_pretrained` and so honours ``revision``,
  ``HF_HUB_OFFLINE`` and the Hugging Face cache. Then ``README.md`` and ``.eval_results/uvrb.yaml``.
- dataset: a UVRB folder (task folders in the authors' layout) gets its card and ``eval.yaml``;
  a V-SynFlow output folder its UVRD card (regenerated from the run's ``stats.json`` when found).
- metric: the UVRB `evaluate` module as a Space (``<name>.py``, ``uvrb_retrieval.py``,
  ``app.py``, card, requirements): self-contained, it needs only ``evaluate`` and ``datasets``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from hub_cards.gve_model import write_gve_model_card
from hub_cards.uvrb_dataset import write_uvrb_dataset_card
from hub_cards.uvrb_metric_card import (
    METRIC_DIR,
    METRICS_FILE,
    MODULE_FILE,
    SPACE_REQUIREMENTS,
    app_file,
    build_uvrb_metric_card,
    standalone_metrics_module,
)
from hub_cards.uvrd_dataset import write_uvrd_dataset_card

from ..convert import convert_checkpoint
from ..uvrb.tasks import TASKS, UVRBTask, resolve_tasks
from .checks import HubCheckError, first_line, missing_checkpoint_files, publishable_tasks
from .files import Selection, in_dataset_repo, in_model_repo, select_files

RepoType = Literal["model", "dataset", "space"]
DatasetKind = Literal["auto", "uvrb", "vsynflow"]
# Why a file is left out, in the listing.
NOT_CHECKPOINT = "not part of a GVE checkpoint (add it with --include)"
NOT_DATA = "not a data file (JSONL, parquet) or media"
# A `gve index` table (modeling_gve.index.table): its record, FAISS / quantized indexes and card
# beside the parquet rows. rescore.npy is left out (float vectors the parquet rows already hold).
INDEX_RECORD = "gve_index.json"
INDEX_FILES = ("README.md", INDEX_RECORD, "index.faiss", "index-binary.faiss", "index-int8.usearch", "int8-ranges.safetensors")


@dataclass
class StagedFolder:
    """A folder laid out exactly as the Hub repo will be after the upload.

    Attributes:
        source: what the user published (a folder or a Hub id), as errors name it.
        left_out: files of the source that are not published (relative path -> why).
    """

    path: Path
    repo_type: RepoType
    notes: list[str]
    source: str = ""
    left_out: dict[str, str] = field(default_factory=dict)

    @property
    def files(self) -> list[str]:
        """Relative paths (POSIX) of every file, sorted."""
        return sorted(p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file())

    def listing(self) -> str:
        """One line per file with its size, the total, then what was left out and why."""
        lines, total = [], 0
        for name in self.files:
            size = (self.path / name).stat().st_size
            total += size
            lines.append(f"  {_size(size):>10}  {name}")
        lines.append(f"  {_size(total):>10}  total, {len(lines)} files")
        if self.left_out:
            lines.append(f"Left out of {self.source}:")
            lines += [f"  {name}: {why}" for name, why in sorted(self.left_out.items())]
        return "\n".join(lines)


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def prepare_output(out: str | os.PathLike) -> Path:
    """An empty folder at ``out`` (created); an existing non-empty one is refused."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out}: exists and is not empty; give a new folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


def link(source: Path, target: Path) -> None:
    """Place ``source`` at ``target`` without copying: a hard link, else a symbolic link."""
    target.parent.mkdir(parents=True, exist_ok=True)
    original = source.resolve()  # link(2) would link a symlink itself, not its (checked) target
    try:
        os.link(original, target)
    except OSError:  # another file system, or links not allowed: point at the original
        target.symlink_to(original)


def stage_files(
    source: Path,
    out: Path,
    *,
    allowed: Callable[[str], bool],
    not_allowed: str = "not part of the repo",
    include: Sequence[str] = (),
    recursive: bool = True,
    links_outside: Literal["leave out", "refuse"] = "leave out",
) -> Selection:
    """Link into ``out`` the files of ``source`` the rules let through (`select_files`, same
    arguments); returns what was taken and what was left out."""
    selection = select_files(
        source,
        allowed=allowed,
        not_allowed=not_allowed,
        named=include,
        recursive=recursive,
        links_outside=links_outside,
    )
    for relative in selection.files:
        link(source / relative, out / relative)
    return selection


def link_tree(source: Path, target: Path) -> int:
    """Link every data and media file under ``source`` into ``target`` (the dataset rules of
    `stage_files`). Returns the number of files."""
    return len(stage_files(Path(source), Path(target), allowed=in_dataset_repo, not_allowed=NOT_DATA).files)


# --------------------------------------------------------------------------- model


def stage_model(
    source: str,
    out: str | os.PathLike,
    *,
    repo_id: str,
    results: dict | None = None,
    source_revision: str | None = None,
    base_model: str | None = None,
    license: str = "apache-2.0",
    datasets: list[str] | None = None,
    model_name: str | None = None,
    include_incomplete: bool = False,
    include: Sequence[str] = (),
) -> StagedFolder:
    """Write into ``out`` (empty) the model repo for ``source`` (a folder or a Hub id): the
    checkpoint's files (plus what ``include`` names) and the card made from ``results`` (checked
    with `load_uvrb_results`; tasks that skipped inputs only with ``include_incomplete``).

    Raises:
        HubCheckError: incomplete results, a credential named in ``include``, or a ``source``
            that cannot be converted to a GVE checkpoint.
    """
    if results is not None:
        publishable_tasks(results, include_incomplete)
    out = Path(out)
    local = Path(source).expanduser()
    staged = StagedFolder(out, "model", [], source=source)
    if local.is_dir() and not missing_checkpoint_files(local):
        selection = stage_files(
            local, out, allowed=in_model_repo, not_allowed=NOT_CHECKPOINT, include=include, recursive=False
        )
        staged.left_out = selection.left_out
        staged.notes.append(f"checkpoint files from {local}")
    else:
        if include:
            raise HubCheckError(f"{source}: --include applies to a checkpoint folder, not to one that is converted")
        try:
            convert_checkpoint(str(local) if local.is_dir() else source, out, revision=source_revision)
        except Exception as err:  # not a checkpoint GVEModel can load: refuse
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            raise HubCheckError(
                f"{source}: cannot be loaded as a GVE checkpoint ({type(err).__name__}: {first_line(err)})"
            ) from err
        staged.notes.append(f"converted from {source}" + (f"@{source_revision}" if source_revision else ""))
    write_gve_model_card(
        out,
        out,
        repo_id=repo_id,
        results=results,
        base_model=base_model,
        license=license,
        datasets=datasets,
        model_name=model_name,
        run_folder=local if local.is_dir() else out,
    )
    return staged


# --------------------------------------------------------------------------- datasets


def detect_dataset_kind(folder: Path) -> Literal["uvrb", "vsynflow", "index"]:
    """``uvrb`` when ``folder`` holds UVRB task folders (``<TASK>/jsonl/``), ``index`` when it is a
    ``gve index`` table (``gve_index.json``), ``vsynflow`` when it holds a V-SynFlow output
    (``.vsynflow/`` work state or parquet task configs)."""
    if (folder / INDEX_RECORD).is_file():
        return "index"
    if any((folder / t.hub_folder / "jsonl").is_dir() for t in TASKS.values()):
        return "uvrb"
    if (folder / ".vsynflow").is_dir() or any(folder.glob("*/*.parquet")):
        return "vsynflow"
    raise ValueError(
        f"{folder}: neither a UVRB folder (<TASK>/jsonl/*.jsonl) nor a V-SynFlow output (<TASK>/*.parquet); "
        "use --kind to say which"
    )


def uvrb_tasks_in(source: Path, tasks: list[str] | None = None) -> list[UVRBTask]:
    """The UVRB tasks to publish from ``source``: ``tasks`` (each must have its folder), or every
    registry task whose ``<TASK>/jsonl/`` is there."""
    if tasks:
        selected = resolve_tasks(tasks)
        missing = [t.name for t in selected if not (source / t.hub_folder).is_dir()]
        if missing:
            raise FileNotFoundError(f"{source}: no folder for task(s) {', '.join(missing)}")
        return selected
    selected = [t for t in TASKS.values() if (source / t.hub_folder / "jsonl").is_dir()]
    if not selected:
        raise FileNotFoundError(f"{source}: no UVRB task folder (<TASK>/jsonl/)")
    return selected


def stage_uvrb_dataset(
    source: str | os.PathLike,
    out: str | os.PathLike,
    *,
    repo_id: str,
    tasks: Sequence[str | UVRBTask] | None = None,
    license: str | None = "other",
    evaluation_framework: str = "mteb",
    redistributed: Sequence[str] = (),
) -> StagedFolder:
    """The UVRB repo: the data and media files of the ``tasks`` folders (default: every task
    folder found, `uvrb_tasks_in`), the card and ``eval.yaml``. A media link leading outside its
    task folder is refused. ``redistributed``: the tasks whose media are published on the user's
    word (said in the card)."""
    source, out = Path(source), Path(out)
    if not tasks or not all(isinstance(t, UVRBTask) for t in tasks):
        tasks = uvrb_tasks_in(source, list(tasks or []))
    staged = StagedFolder(out, "dataset", [], source=str(source))
    count = 0
    for task in tasks:
        selection = stage_files(
            source / task.hub_folder, out / task.hub_folder, allowed=in_dataset_repo, not_allowed=NOT_DATA,
            links_outside="refuse",
        )  # fmt: skip
        count += len(selection.files)
        staged.left_out.update({f"{task.hub_folder}/{name}": why for name, why in selection.left_out.items()})
    names = [t.name for t in tasks]
    write_uvrb_dataset_card(
        out, names, repo_id=repo_id, license=license, evaluation_framework=evaluation_framework,
        redistributed=list(redistributed),
    )  # fmt: skip
    staged.notes.append(f"{count} files of {len(tasks)} task(s) from {source}: {', '.join(names)}")
    return staged


def find_vsynflow_stats(folder: Path) -> Path | None:
    """The run's ``stats.json`` in its default work folder, if there."""
    path = folder / ".vsynflow" / "stats.json"
    return path if path.is_file() else None


def stage_vsynflow_dataset(
    source: str | os.PathLike,
    out: str | os.PathLike,
    *,
    repo_id: str,
    stats_path: str | os.PathLike | None = None,
) -> StagedFolder:
    """The V-SynFlow dataset repo: parquet configs and media (not the ``.vsynflow`` work state;
    a media link leading outside the folder is refused), with the UVRD card regenerated for
    ``repo_id`` from the run's statistics when available (else the folder's own README.md, which
    the pipeline wrote)."""
    source, out = Path(source), Path(out)
    stats_file = Path(stats_path) if stats_path else find_vsynflow_stats(source)
    selection = stage_files(source, out, allowed=in_dataset_repo, not_allowed=NOT_DATA, links_outside="refuse")
    left_out = {name: why for name, why in selection.left_out.items() if name != "README.md"}
    if stats_file is not None:
        stats = json.loads(Path(stats_file).read_text())
        settings = stats.get("settings", {})
        card_kwargs = {
            k: settings[s] for k, s in (("pretty_name", "pretty_name"), ("license", "card_license")) if s in settings
        }
        write_uvrd_dataset_card(out, stats, repo_id=repo_id, **card_kwargs)
        note = f"card regenerated from {stats_file}"
    elif (source / "README.md").is_file():
        shutil.copyfile(source / "README.md", out / "README.md")
        note = f"card: {source / 'README.md'} as written by the pipeline (no stats.json found)"
    else:
        raise FileNotFoundError(f"{source}: no README.md and no .vsynflow/stats.json to write the card from")
    return StagedFolder(out, "dataset", [f"V-SynFlow dataset from {source}", note], str(source), left_out)


def stage_index_dataset(source: str | os.PathLike, out: str | os.PathLike) -> StagedFolder:
    """A ``gve index`` table: its parquet rows (``data/``), the card it wrote, its record and its
    FAISS (and quantized) indexes, so ``load_dataset(repo)`` reads the rows and ``gve search`` can
    search a download of it."""
    source, out = Path(source), Path(out)

    def allowed(relative: str) -> bool:
        return relative in INDEX_FILES or (relative.startswith("data/") and relative.endswith(".parquet"))

    if not (source / "README.md").is_file():
        raise FileNotFoundError(f"{source}: a gve index table without its README.md; rebuild it with gve index")
    selection = stage_files(
        source, out, allowed=allowed, not_allowed="not part of a gve index table", links_outside="refuse"
    )
    notes = [f"gve index table from {source}", f"{len(selection.files)} files"]
    return StagedFolder(out, "dataset", notes, str(source), selection.left_out)


# --------------------------------------------------------------------------- metric


def metric_module_name(repo_id: str) -> str:
    """The module file a Space must hold for ``evaluate.load(repo_id)``: ``<repo name>.py``."""
    name = repo_id.split("/")[-1]
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or f"{name}.py" == METRICS_FILE:
        raise ValueError(
            f"{repo_id!r}: evaluate imports the module <repo name>.py, so the repo name must be a Python "
            f"identifier (letters, digits, underscores) other than {METRICS_FILE[:-3]}, e.g. my-org/uvrb"
        )
    return name


def stage_metric(
    out: str | os.PathLike, *, repo_id: str, requirements: Sequence[str] = SPACE_REQUIREMENTS
) -> StagedFolder:
    """The UVRB metric Space: ``<name>.py`` (the module), ``uvrb_retrieval.py`` (the package's
    metric functions, copied: the Space does not need the ``gve`` package), ``app.py`` (the
    widget), the card and ``requirements.txt``."""
    out = Path(out)
    name = metric_module_name(repo_id)
    shutil.copyfile(METRIC_DIR / MODULE_FILE, out / f"{name}.py")
    (out / METRICS_FILE).write_text(standalone_metrics_module())
    (out / "app.py").write_text(app_file(repo_id))
    (out / "requirements.txt").write_text("\n".join(requirements or SPACE_REQUIREMENTS) + "\n")
    build_uvrb_metric_card(load_name=repo_id).save(str(out / "README.md"))
    return StagedFolder(out, "space", [f"UVRB evaluate module as {name}.py"], source="the gve package's UVRB metric")


__all__ = [
    "StagedFolder",
    "detect_dataset_kind",
    "link",
    "link_tree",
    "metric_module_name",
    "prepare_output",
    "stage_files",
    "stage_metric",
    "stage_model",
    "stage_uvrb_dataset",
    "stage_vsynflow_dataset",
    "uvrb_tasks_in",
]
