# Copyright 2026 The GVE package authors. Apache-2.0.
"""Publish a GVE checkpoint, a UVRB / V-SynFlow dataset or the UVRB metric to the Hub.

Each function assembles the exact folder the repo will hold (files linked, cards generated,
`stage`), checks it (`checks`) and uploads it with `HfApi.upload_folder` (`push`); with
``dry_run=OUT`` it writes that folder to OUT and uploads nothing. ``gve hub`` and V-SynFlow's
``push_to_hub`` both call these functions.

    >>> from modeling_gve.hub.publish import publish_dataset
    >>> publish_dataset("./my-uvrd", "my-org/my-uvrd", dry_run="out/my-uvrd")  # doctest: +SKIP
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypedDict, Unpack

from hub_cards.uvrb_metric_card import SPACE_REQUIREMENTS

from .checks import (
    check_checkpoint_loads,
    check_dataset_card,
    check_eval_yaml,
    check_metric_folder,
    check_model_card,
    check_redistribution,
    check_results_source,
    check_training_pairs,
    check_uvrb_data,
    load_uvrb_results,
)
from .push import push_folder, repo_url
from .stage import (
    StagedFolder,
    detect_dataset_kind,
    metric_module_name,
    prepare_output,
    stage_index_dataset,
    stage_metric,
    stage_model,
    stage_uvrb_dataset,
    stage_vsynflow_dataset,
    uvrb_tasks_in,
)


class PushOptions(TypedDict, total=False):
    """Where and how `publish` uploads (the keywords every ``publish_*`` function takes).

    Keys:
        dry_run: write the staged folder to this new folder and upload nothing.
        revision: branch to push to (created if missing; default main).
        private: create the repo private.
        commit_message: the commit's message.
        create_pr: open a pull request instead of committing.
    """

    dry_run: str | Path | None
    revision: str | None
    private: bool | None
    commit_message: str | None
    create_pr: bool


@dataclass
class Published:
    """What `publish` did: the checked folder, and where it went (the repo URL for a dry run;
    the commit or pull-request URL after an upload)."""

    staged: StagedFolder
    url: str
    dry_run: bool


def publish(
    stage: Callable[[Path], StagedFolder],
    check: Callable[[StagedFolder], None],
    *,
    repo_id: str,
    dry_run: str | Path | None = None,
    revision: str | None = None,
    private: bool | None = None,
    commit_message: str | None = None,
    create_pr: bool = False,
) -> Published:
    """Stage into ``dry_run`` (a new folder) or a temporary folder, check, then upload unless
    it is a dry run (the upload options: `PushOptions`). Progress goes to stdout, the staging
    notes to stderr.

    Raises:
        HubCheckError: a check refused the folder (nothing was uploaded).
    """
    temporary = None if dry_run else tempfile.TemporaryDirectory(prefix="gve-hub-")
    out = prepare_output(dry_run) if dry_run else Path(temporary.name)
    try:
        staged = stage(out)
        check(staged)
        url = repo_url(repo_id, staged.repo_type)
        where = url + (f" (branch {revision})" if revision else "")
        for note in staged.notes:
            print(f"[gve hub] {note}", file=sys.stderr)
        if dry_run:
            print(f"Dry run: {out} is what would be uploaded to {where}:\n{staged.listing()}")
            return Published(staged, url, dry_run=True)
        print(f"Uploading to {where}:\n{staged.listing()}")
        info = push_folder(
            staged, repo_id, private=private, revision=revision, commit_message=commit_message, create_pr=create_pr
        )
        url = getattr(info, "pr_url", None) or getattr(info, "commit_url", None) or url
        print(f"Pushed: {url}")
        return Published(staged, url, dry_run=False)
    finally:
        if temporary is not None:
            temporary.cleanup()


def publish_model(
    source: str | Path,
    repo_id: str,
    *,
    results: str | Path | None = None,
    allow_incomplete: bool = False,
    source_revision: str | None = None,
    base_model: str | None = None,
    license: str = "apache-2.0",
    datasets: list[str] | None = None,
    model_name: str | None = None,
    device: str = "cpu",
    include: list[str] | None = None,
    trust_remote_code: bool = False,
    **push: Unpack[PushOptions],
) -> Published:
    """A GVE checkpoint (folder or Hub id) with its model card and, from ``results`` (the
    ``results.json`` of `gve uvrb`), its UVRB eval results.

    Only the checkpoint's files are published (plus what ``include`` names); the rest of the
    folder is listed as left out, and a file that looks like a credential is never published.
    Refused unless the staged folder loads and embeds with `GVEModel` and ``SentenceTransformer``,
    loaded with the installed package's classes (a folder whose remote-code files differ from the
    package's is refused unless ``trust_remote_code``: then the checks run the folder's code).
    Tasks that skipped inputs are published only with ``allow_incomplete`` (and a note)."""
    source = str(source)
    loaded = load_uvrb_results(results) if results else None
    note = check_results_source(loaded, source) if loaded is not None else None
    if note:
        print(f"[gve hub] {note}", file=sys.stderr)

    def stage(out: Path) -> StagedFolder:
        return stage_model(
            source,
            out,
            repo_id=repo_id,
            results=loaded,
            source_revision=source_revision,
            base_model=base_model,
            license=license,
            datasets=datasets,
            model_name=model_name,
            include_incomplete=allow_incomplete,
            include=include or (),
        )

    def check(staged: StagedFolder) -> None:
        check_model_card(staged.path, loaded, name=source)
        report = check_checkpoint_loads(
            staged.path, device, trust_remote_code=trust_remote_code, name=source, left_out=staged.left_out
        )
        staged.notes.append(
            f"loads with GVEModel and SentenceTransformer: {report['dimension']}-d unit vectors, "
            f"cosine {report['agreement']:.6f} between the two"
        )

    return publish(stage, check, repo_id=repo_id, **push)


def publish_dataset(
    source: str | Path,
    repo_id: str,
    *,
    kind: Literal["auto", "uvrb", "vsynflow", "index"] = "auto",
    tasks: list[str] | None = None,
    license: str = "other",
    evaluation_framework: str = "mteb",
    stats: str | Path | None = None,
    allow_redistribution: bool = False,
    **push: Unpack[PushOptions],
) -> Published:
    """A UVRB folder (its ``tasks``, ``license`` and ``eval.yaml`` framework) or a V-SynFlow output
    folder (its card from ``stats``, default ``SOURCE/.vsynflow/stats.json``), with its card.

    Only data files (JSONL, parquet) and media are published; every media link must resolve inside
    the folder. Refused: UVRB tasks whose sources do not allow re-hosting their videos (index-only)
    or whose terms are unknown, unless ``allow_redistribution`` (said in the card); dataset configs
    pointing at no file, task folders the UVRB loader rejects, an invalid ``eval.yaml``, training
    pairs naming media that are not in the folder."""
    source = Path(source)
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: no such folder")
    kind = detect_dataset_kind(source) if kind == "auto" else kind
    selected = uvrb_tasks_in(source, tasks) if kind == "uvrb" else []
    redistributed = check_redistribution(selected, allow_redistribution, name=str(source))

    def stage(out: Path) -> StagedFolder:
        if kind == "index":
            return stage_index_dataset(source, out)
        if kind == "uvrb":
            return stage_uvrb_dataset(
                source, out, repo_id=repo_id, tasks=selected, license=license,
                evaluation_framework=evaluation_framework, redistributed=redistributed,
            )  # fmt: skip
        return stage_vsynflow_dataset(source, out, repo_id=repo_id, stats_path=stats)

    def check(staged: StagedFolder) -> None:
        card = check_dataset_card(staged.path, name=str(source))
        if kind == "index":  # the table's own card and rows, as gve index wrote them
            return
        if kind == "uvrb":
            check_eval_yaml(staged.path, card)
            check_uvrb_data(staged.path, selected, name=str(source))
        else:
            rows = check_training_pairs(staged.path, card, name=str(source))
            staged.notes.append(f"{rows} training pairs; every media file they name is in the folder")

    return publish(stage, check, repo_id=repo_id, **push)


def publish_metric(
    repo_id: str,
    *,
    requirements: list[str] | None = None,
    **push: Unpack[PushOptions],
) -> Published:
    """The UVRB evaluate module as a Space named like the module (``evaluate.load(repo_id)``). The
    Space holds a copy of the package's metric functions, so its ``requirements.txt`` (default
    ``datasets`` and ``evaluate``, what the module imports) needs no ``gve``; it is checked by loading
    the staged module in a fresh interpreter that cannot import this package."""
    name = metric_module_name(repo_id)  # fails before anything is written
    requirements = list(requirements or SPACE_REQUIREMENTS)

    def stage(out: Path) -> StagedFolder:
        return stage_metric(out, repo_id=repo_id, requirements=requirements)

    def check(staged: StagedFolder) -> None:
        check_metric_folder(staged.path, name)

    return publish(stage, check, repo_id=repo_id, **push)


__all__ = ["PushOptions", "Published", "publish", "publish_dataset", "publish_metric", "publish_model"]
