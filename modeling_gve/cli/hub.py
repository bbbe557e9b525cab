# Copyright 2026 The GVE package authors. Apache-2.0.
"""`gve hub`: publish a GVE checkpoint, the UVRB / V-SynFlow datasets or the UVRB metric.

    gve hub push-model ./my-gve my-org/my-gve --results runs/uvrb/results.json
    gve hub push-model Alibaba-NLP/GVE-3B my-org/gve-3b --dry-run out/gve-3b     # convert, card, no upload
    gve hub push-dataset ./UVRB my-org/UVRB
    gve hub push-dataset ./uvrd my-org/uvrd --private
    gve hub push-metric my-org/uvrb

Each command assembles the exact folder the repo will hold (files linked, cards generated),
checks it, and uploads it with `HfApi.upload_folder`; ``--dry-run OUT`` writes that folder to
OUT and prints its file list instead. Published: a model repo gets the checkpoint's files only,
a dataset repo its data and media files; the rest is listed as left out; files that look like
credentials are never published; links must resolve inside the folder. Refused (nothing
uploaded): a checkpoint that does not load and embed with `GVEModel` and `SentenceTransformer`
(loaded with this package's classes: no code from the folder runs unless --trust-remote-code),
a card that does not parse back with `huggingface_hub` or disagrees with its results.json,
UVRB media whose sources are index-only or unknown (unless --allow-redistribution), dataset
configs pointing at no file, UVRB task folders the UVRB loader rejects, an invalid ``eval.yaml``.
The library behind it is `modeling_gve.hub.publish`.
"""

from __future__ import annotations

import argparse

from ..suggest import SuggestingArgumentParser


def build_parser(prog: str = "gve hub") -> argparse.ArgumentParser:
    parser = SuggestingArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="hub_command", required=True, metavar="HUB_COMMAND")
    for add_command in (_add_push_model, _add_push_dataset, _add_push_metric):
        _add_push_options(add_command(commands))
    return parser


def _add_push_model(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    model = commands.add_parser("push-model", help="a GVE checkpoint with its model card and UVRB eval results")
    model.add_argument("source", help="checkpoint folder (gve convert / training output / released layout) or Hub id")
    model.add_argument("repo_id", help="target model repo, e.g. my-org/my-gve")
    model.add_argument("--results", help="results.json of `gve uvrb` for this checkpoint (model-index, .eval_results)")
    model.add_argument(
        "--allow-incomplete", action="store_true", help="publish tasks that skipped inputs, with a note"
    )
    model.add_argument("--source-revision", help="Hub revision of SOURCE when it is a Hub id")
    model.add_argument("--base-model", help="backbone Hub id (default: from the training record or the hidden size)")
    model.add_argument("--license", default="apache-2.0", help="license id of the card (default apache-2.0)")
    model.add_argument("--datasets", nargs="*", help="training datasets (Hub ids) for the card metadata")
    model.add_argument("--model-name", help="name in the card and model-index (default: the repo name)")
    model.add_argument("--device", default="cpu", help="where the load check runs (default cpu)")
    model.add_argument(
        "--include",
        nargs="+",
        metavar="PATTERN",
        help="more files of SOURCE to publish (globs, e.g. LICENSE 'figures/*')",
    )
    model.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="check a folder whose remote-code files differ from this package's by running its code",
    )
    return model


def _add_push_dataset(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    dataset = commands.add_parser("push-dataset", help="a UVRB folder, a V-SynFlow output folder or a gve index table, with its card")
    dataset.add_argument("source", help="dataset folder")
    dataset.add_argument("repo_id", help="target dataset repo, e.g. my-org/UVRB")
    dataset.add_argument("--kind", default="auto", choices=["auto", "uvrb", "vsynflow", "index"])
    dataset.add_argument("--tasks", nargs="*", help="UVRB: tasks to publish (default: every task folder found)")
    dataset.add_argument(
        "--license", default="other", help="UVRB: license id of the card (default other: mixed sources)"
    )
    dataset.add_argument(
        "--evaluation-framework", default="mteb", help="UVRB: eval.yaml framework id (a Hub-listed one)"
    )
    dataset.add_argument("--stats", help="V-SynFlow: the run's stats.json (default SOURCE/.vsynflow/stats.json)")
    dataset.add_argument(
        "--allow-redistribution",
        action="store_true",
        help="UVRB: upload media of sources that are index-only or of unknown terms (you hold the rights)",
    )
    return dataset


def _add_push_metric(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    metric = commands.add_parser("push-metric", help="the UVRB evaluate module, as a Space")
    metric.add_argument(
        "repo_id", help="target Space, e.g. my-org/uvrb (the name is the module's: evaluate.load(repo))"
    )
    metric.add_argument(
        "--requirement",
        dest="requirements",
        action="append",
        help="pip requirement of the Space (default: datasets, evaluate: what the module imports)",
    )
    return metric


def _add_push_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", metavar="OUT", help="write the folder that would be uploaded to OUT; upload nothing"
    )
    parser.add_argument("--revision", help="branch to push to (created if missing; default main)")
    parser.add_argument("--private", action="store_true", default=None, help="create the repo private")
    parser.add_argument("--commit-message", help="commit message")
    parser.add_argument("--create-pr", action="store_true", help="open a pull request instead of committing")


def run(args: argparse.Namespace) -> int:
    from ..hub import publish  # the command's heavy imports, here only

    # every option's dest is the keyword of the publishing function it feeds
    function = {"push-model": publish.publish_model, "push-dataset": publish.publish_dataset}.get(
        args.hub_command, publish.publish_metric
    )
    function(**{name: value for name, value in vars(args).items() if name != "hub_command"})
    return 0
