"""The layouts the real UVRB download takes: the mini-UVRB scored from the flat layout, the
per-task downloads' nesting (``<TASK>/UVRB/<TASK>``) and a folder of per-task archives
(``.tar.gz``, one split into parts, one ``.zip``) gives identical metrics and manifests; a
missing or doubled task folder is an error listing what was found."""

import json
import shutil
import tarfile
import zipfile

import pytest
from uvrb_helpers import TEST_SAMPLING, mini_uvrb

from modeling_gve.uvrb import TASKS
from modeling_gve.uvrb import archives as uvrb_archives
from modeling_gve.uvrb.config import UVRBRunConfig
from modeling_gve.uvrb.data import UVRBDataError
from modeling_gve.uvrb.layout import find_task_folders
from modeling_gve.uvrb.metrics import METRIC_NAMES
from modeling_gve.uvrb.runner import run_uvrb


def nested_copy(mini, root):
    """``<TASK>/UVRB/<TASK>/...``, as the per-task downloads extract."""
    for task in TASKS.values():
        shutil.copytree(mini / task.hub_folder, root / task.hub_folder / "UVRB" / task.hub_folder)
    return root


def archive_copy(mini, root):
    """One archive per task holding ``<TASK>/UVRB/<TASK>/...``: .tar.gz, MSRVTT split in three parts, CMRB a zip."""
    root.mkdir(parents=True)
    for task in TASKS.values():
        name = task.hub_folder
        if name == "CMRB":
            with zipfile.ZipFile(root / f"{name}.zip", "w") as zip_file:
                for file in sorted((mini / name).rglob("*")):
                    zip_file.write(file, f"{name}/UVRB/{name}/{file.relative_to(mini / name)}")
            continue
        with tarfile.open(root / f"{name}.tar.gz", "w:gz") as tar:
            tar.add(mini / name, arcname=f"{name}/UVRB/{name}")
    whole = (root / "MSRVTT.tar.gz").read_bytes()
    third = len(whole) // 3 + 1
    for i in range(3):
        (root / f"MSRVTT.tar.gz.{i:02d}").write_bytes(whole[i * third : (i + 1) * third])
    (root / "MSRVTT.tar.gz").unlink()
    return root


def config(data, output, cache, **overrides):
    settings = dict(output=str(output), data=str(data), sampling=dict(TEST_SAMPLING), num_workers=0,
                    flush_every=16, show_progress_bar=False, cache_dir=str(cache))  # fmt: skip
    return UVRBRunConfig(**{**settings, **overrides})


@pytest.fixture(scope="module")
def runs(tiny_ckpt, tmp_path_factory):
    """The mini-UVRB scored from three layouts, sharing one embedding cache."""
    mini = mini_uvrb(tmp_path_factory)
    work = tmp_path_factory.mktemp("uvrb-layouts")
    cache = work / "cache"
    data = {"flat": mini, "nested": nested_copy(mini, work / "nested"), "archives": archive_copy(mini, work / "tars")}
    return {name: run_uvrb(config(folder, work / f"out-{name}", cache, model=str(tiny_ckpt)))
            for name, folder in data.items()}, data  # fmt: skip


def test_flat_nested_and_archived_copies_give_identical_metrics_and_manifests(runs):
    results, _ = runs
    flat = results["flat"]
    assert flat["encoding"]["encoded_this_run"] == flat["encoding"]["unique_inputs"] > 0
    for layout in ("nested", "archives"):
        other = results[layout]
        assert other["encoding"]["encoded_this_run"] == 0  # same content, same keys: every vector from the cache
        for name in TASKS:
            for metric in (*METRIC_NAMES, "main_score"):
                assert other["tasks"][name][metric] == flat["tasks"][name][metric], (layout, name, metric)
        assert other["data"]["tasks"] == flat["data"]["tasks"]  # the manifests do not depend on the layout
    folders = results["archives"]["data"]["folders"]
    assert folders["MSRVTT"].endswith("MSRVTT.tar.gz.uvrb-extracted/MSRVTT/UVRB/MSRVTT")
    assert folders["CMRB"].endswith("CMRB.zip.uvrb-extracted/CMRB/UVRB/CMRB")


def test_archives_are_extracted_once(runs, tiny_ckpt, tmp_path, monkeypatch):
    _, data = runs
    opened = []
    monkeypatch.setattr(uvrb_archives, "_extract_tar", lambda *a: opened.append(a) or {})
    again = find_task_folders(data["archives"], list(TASKS.values()))
    assert opened == [] and again["DiDeMo"].name == "DiDeMo"


def test_a_missing_task_names_what_was_found(runs, tmp_path):
    mini = runs[1]["flat"]
    data = tmp_path / "data"
    shutil.copytree(mini / "MSRVTT", data / "UVRB_extracted" / "MSRVTT" / "UVRB" / "MSRVTT")
    shutil.copytree(mini / "DiDeMo", data / "other" / "DiDeMo")
    assert find_task_folders(data, [TASKS["MSRVTT"]])["MSRVTT"] == data / "UVRB_extracted/MSRVTT/UVRB/MSRVTT"
    with pytest.raises(UVRBDataError) as info:
        find_task_folders(data, [TASKS["CRB-G"]])
    message = str(info.value)
    assert "no folder for task CRB-G" in message and "'CRB-G' holding jsonl/" in message
    assert "found: UVRB_extracted/MSRVTT/UVRB/MSRVTT, other/DiDeMo" in message
    (data / "empty").mkdir()
    with pytest.raises(UVRBDataError, match=r"no folder holding jsonl/ and no archive \(top level: empty\)"):
        find_task_folders(data / "empty", [TASKS["CRB-G"]])


def test_two_folders_for_one_task_is_an_error(runs, tmp_path):
    mini = runs[1]["flat"]
    shutil.copytree(mini / "MSRVTT", tmp_path / "a" / "MSRVTT")
    shutil.copytree(mini / "MSRVTT", tmp_path / "b" / "MSRVTT")
    with pytest.raises(UVRBDataError, match="several folders for MSRVTT hold jsonl/: a/MSRVTT, b/MSRVTT"):
        find_task_folders(tmp_path, [TASKS["MSRVTT"]])


def test_the_data_folder_may_be_the_task_folder_itself(runs):
    mini = runs[1]["flat"]
    assert find_task_folders(mini / "LoVR-TH", [TASKS["LoVR-TH"]]) == {"LoVR-TH": mini / "LoVR-TH"}


def test_results_record_where_each_task_was_read(runs):
    results, data = runs
    recorded = json.loads((data["nested"].parent / "out-nested" / "results.json").read_text())
    assert recorded["data"]["folders"]["VDC-O"] == str(data["nested"] / "VDC-O" / "UVRB" / "VDC-O")


def test_verify_checks_a_copy_against_the_manifest_of_a_run(runs, capsys):
    from modeling_gve.cli import main

    results, data = runs
    recorded = data["nested"].parent / "out-flat" / "results.json"
    assert main(["uvrb", "--data", str(data["nested"]), "--verify", str(recorded)]) == 0
    out = capsys.readouterr().out
    assert "MSRVTT: ok" in out and out.strip().endswith(f"16 of 16 tasks match {recorded}")
    assert main(["uvrb", "--data", str(data["archives"]), "--verify", str(recorded), "--tasks", "CMP"]) == 0
    assert "2 of 2 tasks match" in capsys.readouterr().out


def test_mteb_gives_the_main_score_of_gve_uvrb_on_every_task(runs, tiny_ckpt):
    """`mteb.evaluate(gve_mteb_model(path), uvrb_mteb_tasks(data=DIR))`: the same main score as
    ``gve uvrb`` (mteb rounds to 5 decimals), and the same hit rates, for all 16 tasks."""
    import mteb

    from modeling_gve.mteb import gve_mteb_model, uvrb_mteb_tasks

    results, data = runs
    model = gve_mteb_model(str(tiny_ckpt), device="cpu", **TEST_SAMPLING)
    tasks = uvrb_mteb_tasks(data=data["nested"])
    assert [t.metadata.name for t in tasks] == [f"UVRB-{name}" for name in TASKS]
    scored = mteb.evaluate(model, tasks, cache=None, show_progress_bar=False, encode_kwargs={"batch_size": 4})
    for task_result in scored.task_results:
        name = task_result.task_name.removeprefix("UVRB-")
        theirs, ours = task_result.scores["test"][0], results["flat"]["tasks"][name]
        assert theirs["main_score"] == round(ours["main_score"], 5), name
        for k in (1, 5, 10):
            assert theirs[f"hit_rate_at_{k}"] == round(ours[f"R@{k}"], 5), (name, k)
    assert len(scored.task_results) == 16
