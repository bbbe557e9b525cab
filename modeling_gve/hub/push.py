# Copyright 2026 The GVE package authors. Apache-2.0.
"""Publishing a staged folder with `huggingface_hub.HfApi.upload_folder`.

The folder is uploaded as it is (it was assembled to be exactly the repo's content): the
repo is created if needed (``private`` applies then), the ``revision`` branch too, and the
commit goes to that branch, or opens a pull request with ``create_pr``. Credentials are
huggingface_hub's own (``HF_TOKEN`` or ``hf auth login``).
"""

from __future__ import annotations

import os
from typing import Any

from .checks import first_line
from .stage import StagedFolder

HUB_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}


def repo_url(repo_id: str, repo_type: str) -> str:
    return f"https://huggingface.co/{HUB_URL_PREFIX[repo_type]}{repo_id}"


def push_folder(
    staged: StagedFolder,
    repo_id: str,
    *,
    private: bool | None = None,
    revision: str | None = None,
    commit_message: str | None = None,
    create_pr: bool = False,
    api: Any = None,
) -> Any:
    """Upload ``staged`` to ``repo_id``; returns the `CommitInfo`.

    A pull request (``create_pr``) targets an existing repo, so the repo is not created then.
    """
    from huggingface_hub import HfApi

    api = api or HfApi()
    repo_type = staged.repo_type
    try:
        if not create_pr:
            extra = {"space_sdk": "gradio"} if repo_type == "space" else {}
            api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True, **extra)
        if revision:
            api.create_branch(repo_id, branch=revision, repo_type=repo_type, exist_ok=True)
        return api.upload_folder(
            repo_id=repo_id,
            folder_path=str(staged.path),
            repo_type=repo_type,
            revision=revision,
            commit_message=commit_message or f"Upload with gve hub ({len(staged.files)} files)",
            create_pr=create_pr,
        )
    except Exception as err:
        translated = hub_error(err, repo_url(repo_id, repo_type))
        if translated is err:
            raise
        raise translated from err


class HubUnreachableError(ConnectionError):
    """The Hub could not be reached or refused the upload; the message is one line with the fix."""


def hub_error(err: BaseException, url: str) -> BaseException:
    """One line saying why an upload to ``url`` failed and what to do (``err`` itself when it is
    not about reaching the Hub or the credentials)."""
    from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError, OfflineModeIsEnabled

    dry_run = "or write the folder with --dry-run OUT instead"
    if isinstance(err, OfflineModeIsEnabled):
        return HubUnreachableError(f"cannot upload to {url}: HF_HUB_OFFLINE is set; unset it to upload, {dry_run}")
    status = getattr(getattr(err, "response", None), "status_code", None)
    if isinstance(err, LocalTokenNotFoundError) or status in (401, 403):
        return HubUnreachableError(
            f"the Hub refused the upload to {url} ({status or 'no token'}): log in with `hf auth login` or set "
            f"HF_TOKEN to a token with write access, {dry_run}"
        )
    if isinstance(err, HfHubHTTPError):
        return HubUnreachableError(f"the Hub refused the upload to {url}: {first_line(err)}")
    if _is_transport_error(err):
        endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
        return HubUnreachableError(
            f"cannot reach the Hugging Face Hub at {endpoint} ({type(err).__name__}: {first_line(err)}): check the "
            f"network, a proxy or HF_ENDPOINT, {dry_run}"
        )
    return err


def _is_transport_error(err: BaseException) -> bool:
    """A network failure of any HTTP client huggingface_hub may use (httpx, httpx2, requests) or the OS."""
    names = {cls.__name__ for cls in type(err).__mro__}
    return isinstance(err, (ConnectionError, TimeoutError)) or bool(
        names & {"TransportError", "NetworkError", "TimeoutException", "ConnectionError", "ConnectTimeout"}
    )


__all__ = ["HubUnreachableError", "hub_error", "push_folder", "repo_url"]
