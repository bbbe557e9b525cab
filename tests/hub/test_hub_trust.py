"""Publishing never leaks and never runs what it publishes: a model repo gets the checkpoint's
files only (the rest listed), credentials are never staged even when named, links leading out
of the folder are not followed, a dataset's media must lie inside it and may be uploaded only if
their source allows it, the load checks run the installed package's code (the folder's only when
trusted), and a Hub that cannot be reached is one line with the fix. Every test here fails on the
publishing code of before (it staged every top-level file, followed links, ran the folder's code,
and printed an httpx traceback)."""

import json
import os
import shutil
import sys
from pathlib import Path
from unittest import mock

import pytest
from hub_helpers import BASE_MODEL, vsynflow_output
from uvrb_helpers import mini_uvrb

from modeling_gve.cli import main
from modeling_gve.hub.checks import check_checkpoint_loads
from modeling_gve.uvrb import TASKS

HF_TOKEN = "hf_" + "Qz7" * 12  # looks like a user access token
CREDENTIALS = ("token", "id_rsa", "id_ed25519.pub", ".env", ".netrc", ".git-credentials", "wandb_settings.json",
               "server.pem", "wandb/settings")  # fmt: skip


def files_of(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def push_model(folder: Path, *options: str) -> int:
    return main(["hub", "push-model", str(folder), "me/x", "--base-model", BASE_MODEL, *options])


@pytest.fixture
def planted(tiny_converted, tmp_path):
    """A checkpoint folder a user also keeps other things in: secrets, notes, links."""
    folder = tmp_path / "ckpt"
    shutil.copytree(tiny_converted, folder)
    for name in CREDENTIALS:
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text(HF_TOKEN)
    (folder / "notes.txt").write_text("my notes")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "generation_config.json").write_text(json.dumps({"token": HF_TOKEN}))
    (folder / "generation_config.json").symlink_to(outside / "generation_config.json")  # allow-listed name, outside
    (folder / "aside").mkdir()
    os.replace(folder / "chat_template.jinja", folder / "aside" / "chat_template.jinja")
    (folder / "chat_template.jinja").symlink_to(Path("aside") / "chat_template.jinja")  # a link inside: followed
    return folder


def test_a_model_repo_gets_the_checkpoint_files_only(planted, tiny_converted, tmp_path, capsys):
    out = tmp_path / "out"
    assert push_model(planted, "--include", "notes.txt", "--dry-run", str(out)) == 0
    assert files_of(out) == files_of(tiny_converted) | {"README.md", "notes.txt"}
    assert (out / "chat_template.jinja").read_bytes() == (tiny_converted / "chat_template.jinja").read_bytes()
    assert not any(HF_TOKEN.encode() in (out / name).read_bytes() for name in files_of(out))
    listing = capsys.readouterr().out.split(f"Left out of {planted}:")[1]
    for name in CREDENTIALS:
        shown = name if "/" not in name else name.split("/")[0] + "/"
        assert f"  {shown}: " in listing
    assert "  token: looks like a credential: never published" in listing
    assert f"  generation_config.json: a link to {tmp_path / 'elsewhere'}" in listing


@pytest.mark.parametrize("name", ["token", ".env", "wandb/settings", "id_rsa"])
def test_credentials_are_refused_even_when_named(planted, tmp_path, capsys, name):
    with mock.patch("huggingface_hub.HfApi") as api:
        assert push_model(planted, "--include", name) == 2
    api.return_value.upload_folder.assert_not_called()
    err = capsys.readouterr().err
    assert f"{planted / name}: looks like a credential; it is never published, even when named" in err


def test_a_checkpoint_file_holding_a_secret_stops_the_push(tiny_converted, tmp_path, capsys):
    folder = tmp_path / "ckpt"
    shutil.copytree(tiny_converted, folder)
    config = json.loads((folder / "config_sentence_transformers.json").read_text())
    (folder / "config_sentence_transformers.json").write_text(json.dumps({**config, "hub_token": HF_TOKEN}))
    assert push_model(folder, "--dry-run", str(tmp_path / "out")) == 2
    assert "config_sentence_transformers.json: holds what looks like a Hugging Face token" in capsys.readouterr().err


def test_checks_run_the_installed_code_and_refuse_other_remote_code(tiny_converted, tmp_path, capsys):
    """The folder's code would run on users' machines: the checks do not run it unless trusted."""
    folder = tmp_path / "ckpt"
    shutil.copytree(tiny_converted, folder)
    before = {m for m in sys.modules if m.startswith("transformers_modules")}
    report = check_checkpoint_loads(folder)  # identical remote code: loaded with the installed classes
    assert report["agreement"] > 0.9999
    assert {m for m in sys.modules if m.startswith("transformers_modules")} == before

    marker = tmp_path / "ran"
    with open(folder / "sentence_transformers_gve.py", "a") as handle:
        handle.write(f"\nimport pathlib\npathlib.Path({str(marker)!r}).write_text('folder code ran')\n")
    assert push_model(folder, "--dry-run", str(tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert (
        f"{folder}: its remote-code files differ from the installed gve package's (sentence_transformers_gve.py)"
        in err
    )
    assert "--trust-remote-code" in err and not marker.exists()
    assert push_model(folder, "--trust-remote-code", "--dry-run", str(tmp_path / "out2")) == 0
    assert marker.read_text() == "folder code ran"  # trusted: loaded the way users load it


def test_errors_name_the_source_folder_not_the_staging_folder(tiny_converted, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_converted, broken)
    (broken / "model.safetensors").write_bytes(b"not weights")
    assert push_model(broken) == 2
    err = capsys.readouterr().err
    assert f"{broken}: GVEModel cannot load and encode it" in err and "gve-hub-" not in err
    incomplete = tmp_path / "incomplete"
    shutil.copytree(tiny_converted, incomplete)
    (tmp_path / "elsewhere").mkdir()
    os.replace(incomplete / "modules.json", tmp_path / "elsewhere" / "modules.json")
    (incomplete / "modules.json").symlink_to(tmp_path / "elsewhere" / "modules.json")
    assert push_model(incomplete, "--dry-run", str(tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert f"{incomplete}: not a complete GVE checkpoint; missing modules.json (left out: a link to" in err


# --------------------------------------------------------------------------- datasets


@pytest.fixture
def uvrb_copy(tmp_path_factory, tmp_path):
    folder = tmp_path / "uvrb"
    for task in ("MSRVTT", "CMRB"):
        shutil.copytree(mini_uvrb(tmp_path_factory) / task, folder / task)
    return folder


def test_uvrb_media_of_sources_that_forbid_or_do_not_say_are_uploaded_only_when_allowed(uvrb_copy, tmp_path, capsys):
    assert TASKS["LoVR-V"].media_license == TASKS["LoVR-C2V"].media_license == "index-only"
    assert TASKS["MSRVTT"].media_license == "unknown" and TASKS["CMRB"].media_license == "cc-by-4.0"
    with mock.patch("huggingface_hub.HfApi") as api:
        assert main(["hub", "push-dataset", str(uvrb_copy), "me/uvrb"]) == 2
    api.return_value.upload_folder.assert_not_called()
    err = capsys.readouterr().err
    assert "would upload the media of MSRVTT (unknown)" in err and "--allow-redistribution" in err
    assert (
        main(["hub", "push-dataset", str(uvrb_copy), "me/uvrb", "--tasks", "CMRB", "--dry-run", str(tmp_path / "a")])
        == 0
    )
    out = tmp_path / "b"
    assert (
        main(["hub", "push-dataset", str(uvrb_copy), "me/uvrb", "--allow-redistribution", "--dry-run", str(out)]) == 0
    )
    assert "the right to redistribute the media\nof MSRVTT." in (out / "README.md").read_text()


def test_dataset_files_are_data_and_media_and_links_must_stay_inside(uvrb_copy, tmp_path, capsys):
    task = uvrb_copy / "CMRB"
    (task / "token").write_text(HF_TOKEN)
    (task / "jsonl" / ".env").write_text(HF_TOKEN)
    (task / "notes.md").write_text("mine")
    out = tmp_path / "out"
    assert main(["hub", "push-dataset", str(uvrb_copy), "me/uvrb", "--tasks", "CMRB", "--dry-run", str(out)]) == 0
    assert {"CMRB/token", "CMRB/jsonl/.env", "CMRB/notes.md"}.isdisjoint(files_of(out))
    listing = capsys.readouterr().out
    assert (
        "  CMRB/token: looks like a credential: never published" in listing and "  CMRB/notes.md: not a data file" in listing
    )

    video = next(task.glob("*.mp4"))
    moved = tmp_path / "outside.mp4"
    os.replace(video, moved)
    video.symlink_to(moved)  # the media file is a link to a file outside the dataset
    assert (
        main(["hub", "push-dataset", str(uvrb_copy), "me/uvrb", "--tasks", "CMRB", "--dry-run", str(tmp_path / "o2")])
        == 2
    )
    err = capsys.readouterr().err
    assert f"{video}: links to {moved}, outside {task}: every media link must resolve" in err


def test_vsynflow_media_links_must_stay_inside(tmp_path_factory, tmp_path, capsys):
    source = tmp_path / "uvrd"
    shutil.copytree(vsynflow_output(tmp_path_factory), source)
    video = next((source / "media").rglob("*.mp4"))
    (tmp_path / "passwd").write_text("root:x:0:0")
    video.unlink()
    video.symlink_to(tmp_path / "passwd")
    assert main(["hub", "push-dataset", str(source), "me/uvrd", "--dry-run", str(tmp_path / "out")]) == 2
    assert f"{video}: links to {tmp_path / 'passwd'}, outside {source}" in capsys.readouterr().err


# --------------------------------------------------------------------------- the Hub out of reach


def _one_line(err: str) -> str:
    """The error line: one line (progress notes aside), then only the GVE_DEBUG hint."""
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("[gve hub]")]
    assert len(lines) == 2 and lines[1] == "(set GVE_DEBUG=1 for the traceback)" and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def unchecked_metric(monkeypatch):
    """push-metric without its load check (a fresh interpreter, seconds): these tests are about the upload."""
    monkeypatch.setattr("modeling_gve.hub.publish.check_metric_folder", lambda *args: None)


def test_offline_hub_is_one_line_with_the_fix(capsys, unchecked_metric):
    assert os.environ["HF_HUB_OFFLINE"] == "1"  # set by the test suite: the real client refuses
    assert main(["hub", "push-metric", "me/uvrb"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "cannot upload to https://huggingface.co/spaces/me/uvrb: HF_HUB_OFFLINE is set" in line
    assert "--dry-run OUT" in line


def test_unreachable_hub_and_missing_login_are_one_line_with_the_fix(capsys, unchecked_metric):
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    unauthorized = httpx2.Response(401, request=httpx2.Request("POST", "https://huggingface.co/api/repos/create"))
    cases = {
        httpx2.ConnectError("[Errno -2] Name or service not known"): "cannot reach the Hugging Face Hub at",
        HfHubHTTPError("401 Client Error: Unauthorized\nmore lines", response=unauthorized): "hf auth login",
    }
    for error, expected in cases.items():
        with mock.patch("huggingface_hub.HfApi") as api:
            api.return_value.create_repo.side_effect = error
            assert main(["hub", "push-metric", "me/uvrb"]) == 2
        assert expected in _one_line(capsys.readouterr().err)
