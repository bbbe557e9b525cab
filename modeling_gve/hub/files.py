# Copyright 2026 The GVE package authors. Apache-2.0.
"""Which files of a folder a Hub repo may receive: the rules staging applies.

- A model repo gets what a GVE checkpoint is (`modeling_gve.checkpoint`: config, weights,
  tokenizer and processor files, remote code, sentence-transformers files) plus the generated
  card and ``.eval_results/``: `MODEL_REPO_FILES`. Anything else in the folder is left out and
  listed; a user adds more with ``--include``.
- A dataset repo gets its data files (JSONL, parquet) and media (videos, frames, images):
  `DATASET_SUFFIXES`.
- A file that looks like a credential (`CREDENTIAL_NAMES`: ``token``, ``*.pem``, ``id_rsa``,
  ``.env``, ``.netrc``, ``.git-credentials``, wandb settings...) is never staged, even when a
  user names it; a small text file whose content holds a Hugging Face token or a private key
  (`SECRET_PATTERNS`) stops the publication.
- A symbolic link is followed only when its target lies inside the folder being published.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from ..checkpoint import CHECKPOINT_FILES, OPTIONAL_CHECKPOINT_FILES
from ..paths import PathOutsideRootError, is_inside
from ..search import VIDEO_EXTENSIONS
from ..video import FRAME_EXTENSIONS
from .checks import HubCheckError

CARD_FILE = "README.md"
EVAL_RESULTS_FILE = ".eval_results/uvrb.yaml"
# The one list of what a model repo holds (top-level names and globs, relative POSIX paths).
MODEL_REPO_FILES = (*CHECKPOINT_FILES, *OPTIONAL_CHECKPOINT_FILES, CARD_FILE, ".eval_results/*.yaml")
DATA_SUFFIXES = frozenset({".jsonl", ".parquet"})
IMAGE_SUFFIXES = FRAME_EXTENSIONS | {".gif", ".tif", ".tiff"}
DATASET_SUFFIXES = DATA_SUFFIXES | VIDEO_EXTENSIONS | IMAGE_SUFFIXES
# File names (matched case-insensitively) that hold secrets; ``id_*`` is an SSH key only
# without an extension (or ``.pub``), so ``id_0001.mp4`` stays a video.
CREDENTIAL_NAMES = (
    "token", "*.token", "hf_token*", "stored_tokens", "*.pem", "*.key", "*.p12", "*.pfx", "*.kdbx",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", ".env", ".env.*", "*.env", ".netrc", "_netrc",
    ".git-credentials", ".pypirc", ".npmrc", "credentials", "credentials.json", "*secret*",
    "wandb_settings*", "wandb-settings*", ".wandb*",
)  # fmt: skip
SECRET_PATTERNS = {
    "a Hugging Face token": re.compile(rb"\bhf_[A-Za-z0-9]{30,}"),
    "a private key": re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "an AWS access key": re.compile(rb"\bAKIA[0-9A-Z]{16}\b"),
    "a GitHub token": re.compile(rb"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
}
SNIFF_MAX_BYTES = 1 << 20  # text files read for secrets; weights and media are never read
NOT_SNIFFED = DATASET_SUFFIXES - DATA_SUFFIXES | {".safetensors", ".bin", ".pt", ".npy"}


@dataclass
class Selection:
    """What staging takes from a folder: ``files`` (relative POSIX paths) and ``left_out``
    (relative path -> why, for the listing)."""

    files: list[str] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)


def looks_like_credential(name: str, relative: str = "") -> bool:
    """Whether a file called ``name`` (at ``relative`` in the folder) is a credential by its name."""
    lower = name.lower()
    if fnmatch.fnmatch(lower, "id_*") and PurePosixPath(lower).suffix in ("", ".pub"):
        return True
    if "wandb" in PurePosixPath(relative.lower()).parts[:-1] and lower.startswith("settings"):
        return True
    return any(fnmatch.fnmatch(lower, pattern) for pattern in CREDENTIAL_NAMES)


def find_secret(path: Path) -> str | None:
    """What kind of secret a small text file holds (`SECRET_PATTERNS`), or ``None``."""
    if path.suffix.lower() in NOT_SNIFFED or path.stat().st_size > SNIFF_MAX_BYTES:
        return None
    content = path.read_bytes()
    return next((what for what, pattern in SECRET_PATTERNS.items() if pattern.search(content)), None)


def in_model_repo(relative: str) -> bool:
    """Whether ``relative`` (a POSIX path in the folder) is one of `MODEL_REPO_FILES`."""
    return any(fnmatch.fnmatchcase(relative, pattern) for pattern in MODEL_REPO_FILES)


def in_dataset_repo(relative: str) -> bool:
    """Whether ``relative`` is a data file or a media file (`DATASET_SUFFIXES`)."""
    return PurePosixPath(relative).suffix.lower() in DATASET_SUFFIXES


def select_files(
    root: Path,
    *,
    allowed: Callable[[str], bool],
    not_allowed: str = "not part of the repo",
    named: Iterable[str] = (),
    recursive: bool = True,
    links_outside: Literal["leave out", "refuse"] = "leave out",
) -> Selection:
    """Apply the rules above to the files under ``root``.

    Args:
        allowed: ``relative path -> bool``, the repo's allow-list.
        not_allowed: why a file the allow-list refuses is left out (for the listing).
        named: globs (relative to ``root``) the user asked for on top of the allow-list.
        recursive: walk sub-folders (datasets); else only top-level files (a checkpoint) and the
            named ones, and a sub-folder is listed as left out as a whole.
        links_outside: ``"leave out"`` a symlink whose target is outside ``root`` (listed), or
            ``"refuse"`` it (a dataset whose media link elsewhere is not publishable).

    Raises:
        HubCheckError: a named file that looks like a credential, or a file to publish that holds a secret.
        FileNotFoundError: a named pattern that matches no file.
        PathOutsideRootError: with ``links_outside="refuse"``, a link leading outside ``root``.
    """
    extra = _named_files(root, named)
    selection = Selection()
    walked = dict(_walk(root, recursive, selection.left_out, links_outside))
    for relative in sorted(walked.keys() | extra):
        path = root / relative
        if looks_like_credential(path.name, relative):
            if relative in extra:
                raise HubCheckError(f"{path}: looks like a credential; it is never published, even when named")
            selection.left_out[relative] = "looks like a credential: never published"
        elif not (allowed(relative) or relative in extra):
            selection.left_out[relative] = not_allowed
        elif not path.exists():
            selection.left_out[relative] = "a link to a missing file"
        elif not is_inside(root, path):
            _outside(root, relative, links_outside, selection.left_out)
        else:
            secret = find_secret(path)
            if secret:
                raise HubCheckError(f"{path}: holds what looks like {secret}; remove it before publishing")
            selection.files.append(relative)
    return selection


def _outside(root: Path, relative: str, rule: str, left_out: dict[str, str]) -> None:
    """A link under ``root`` whose target lies outside: listed, or refused."""
    target = (root / relative).resolve()
    if rule == "refuse":
        raise PathOutsideRootError(
            f"{root / relative}: links to {target}, outside {root}: every media link must resolve (symlinks "
            "included) inside the folder published; put the file itself there"
        )
    left_out[relative] = f"a link to {target}, outside the folder"


def _named_files(root: Path, patterns: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for pattern in patterns:
        matches = {p.relative_to(root).as_posix() for p in root.glob(pattern) if p.is_file() or p.is_symlink()}
        if not matches:
            raise FileNotFoundError(f"{root}: --include {pattern!r} matches no file")
        found |= matches
    return found


def _walk(root: Path, recursive: bool, left_out: dict[str, str], links_outside: str) -> Iterator[tuple[str, Path]]:
    """``(relative POSIX path, path)`` of the files under ``root``. Hidden folders (work state,
    caches, ``.git``) and, when not ``recursive``, every sub-folder are listed once in
    ``left_out`` instead of file by file; a linked folder is never walked into (its target is
    walked where it lies, if inside ``root``)."""
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        keep = []
        for name in sorted(dirs):
            relative = (base / name).relative_to(root).as_posix()
            if (base / name).is_symlink():
                if is_inside(root, base / name):
                    left_out[relative + "/"] = "a link to a folder inside the folder"
                else:
                    _outside(root, relative, links_outside, left_out)
            elif name.startswith(".") or not recursive:
                left_out[relative + "/"] = "a hidden folder" if name.startswith(".") else "a sub-folder"
            else:
                keep.append(name)
        dirs[:] = keep
        for name in files:
            path = base / name
            yield path.relative_to(root).as_posix(), path


__all__ = [
    "CARD_FILE",
    "CREDENTIAL_NAMES",
    "DATASET_SUFFIXES",
    "EVAL_RESULTS_FILE",
    "MODEL_REPO_FILES",
    "SECRET_PATTERNS",
    "Selection",
    "find_secret",
    "in_dataset_repo",
    "in_model_repo",
    "looks_like_credential",
    "select_files",
]
