"""Reading UVRB tasks in the authors' layout: good data, malformed data (errors name the
file and line), raw videos vs frame folders, and the Hub download patterns."""

import json
import shutil
from pathlib import Path

import pytest

from modeling_gve.testing.media import make_image, make_video
from modeling_gve.uvrb import TASKS
from modeling_gve.uvrb.data import UVRBDataError, load_task
from modeling_gve.uvrb.layout import hub_patterns, resolve_data


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_video(tmp_path_factory.mktemp("uvrb-data") / "clip.mp4", seconds=1.0, fps=8, size=(64, 48))


def _write(folder: Path, name: str, records: list) -> Path:
    path = folder / "jsonl" / f"{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def _task(root: Path, clip: Path, *, queries=None, corpus=None, instances=None) -> Path:
    """An MSRVTT-shaped folder: v0 a raw video under videos/, v1 a frame folder."""
    folder = root / "MSRVTT"
    (folder / "videos").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(clip, folder / "videos" / "v0.mp4")
    frames = folder / "videos_frames" / "v1"
    frames.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(clip, frames / "notes.bin")  # not a frame: ignored
    for i in range(3):
        make_image(frames / f"{i:04d}.jpg", size=(64, 48), seed=i)
    _write(
        folder,
        "corpus",
        corpus if corpus is not None else [{"id": "v0", "video": "v0.mp4"}, {"id": "v1", "video": "v1.mp4"}],
    )
    _write(folder, "queries", queries if queries is not None else [{"id": "q0", "text": "a"}, {"id": 7, "text": "b"}])
    _write(
        folder,
        "instances",
        instances
        if instances is not None
        else [{"qid": "q0", "pos": ["v0"]}, {"qid": 7, "pos": ["v1"]}, {"qid": 7, "pos": "v0"}],
    )
    return folder


def test_load_task_reads_videos_frames_and_merges_repeated_qids(tmp_path, clip):
    data = load_task(TASKS["MSRVTT"], _task(tmp_path, clip))
    assert [q.id for q in data.queries] == ["q0", "7"]  # ids compared as strings
    assert data.relevant == {"q0": {"v0"}, "7": {"v1", "v0"}}  # a repeated qid adds positives
    assert not data.corpus["v0"].is_frames and data.corpus["v0"].path.name == "v0.mp4"
    assert data.corpus["v1"].is_frames and data.corpus["v1"].path.name == "v1"
    frames = data.corpus["v1"].as_input(2.0)
    assert len(frames.frames) == 3 and frames.fps == 2.0
    assert data.candidates is None and len(data.fingerprint) == 64


def _error(tmp_path, clip, **files) -> UVRBDataError:
    with pytest.raises(UVRBDataError) as info:
        load_task(TASKS["MSRVTT"], _task(tmp_path, clip, **files))
    return info.value


def test_bad_json_line_names_file_and_line(tmp_path, clip):
    err = _error(tmp_path, clip, queries=[{"id": "q0", "text": "a"}, '{"id": "q1", "text": ', {"id": 7, "text": "b"}])
    assert err.file.endswith("queries.jsonl") and err.line == 2 and "invalid JSON" in str(err)
    assert "queries.jsonl:2: invalid JSON" in str(err)


def test_missing_video_names_file_line_and_places_looked(tmp_path, clip):
    err = _error(tmp_path, clip, corpus=[{"id": "v0", "video": "v0.mp4"}, {"id": "v9", "video": "gone.mp4"}])
    assert err.file.endswith("corpus.jsonl") and err.line == 2
    assert "video 'gone.mp4' not found" in err.reason and "videos_frames/gone" in err.reason


def test_query_without_relevant_ids(tmp_path, clip):
    err = _error(tmp_path, clip, instances=[{"qid": "q0", "pos": ["v0"]}])
    assert err.file.endswith("queries.jsonl") and err.line == 2 and "query '7' has no relevant ids" in err.reason
    err = _error(tmp_path, clip, instances=[{"qid": "q0", "pos": ["v0"]}, {"qid": 7, "pos": []}])
    assert err.file.endswith("instances.jsonl") and err.line == 2 and "empty 'pos'" in err.reason


@pytest.mark.parametrize(
    "files,where,message",
    [
        (
            {"instances": [{"qid": "q0", "pos": ["v5"]}]},
            ("instances.jsonl", 1),
            "positive 'v5' of qid 'q0' is not in corpus.jsonl",
        ),
        ({"instances": [{"qid": "zz", "pos": ["v0"]}]}, ("instances.jsonl", 1), "qid 'zz' is not in queries.jsonl"),
        ({"instances": [{"pos": ["v0"]}]}, ("instances.jsonl", 1), "missing required field 'qid'"),
        (
            {"queries": [{"id": "q0", "image": "x.png"}]},
            ("queries.jsonl", 1),
            "MSRVTT queries are text; this one has image",
        ),
        ({"queries": [{"id": "q0", "text": " "}]}, ("queries.jsonl", 1), "'text' must be a non-empty string"),
        (
            {"queries": [{"id": "q0", "text": "a"}, {"id": "q0", "text": "b"}]},
            ("queries.jsonl", 2),
            "duplicate query id 'q0' (first on line 1)",
        ),
        ({"corpus": [["v0", "v0.mp4"]]}, ("corpus.jsonl", 1), "expected a JSON object, got list"),
        ({"corpus": [{"id": 1.5, "video": "v0.mp4"}]}, ("corpus.jsonl", 1), "'id' must be a string or an integer"),
    ],
)
def test_malformed_records(tmp_path, clip, files, where, message):
    err = _error(tmp_path, clip, **files)
    assert (Path(err.file).name, err.line) == where
    assert message in err.reason


def test_missing_file_and_empty_frame_folder(tmp_path, clip):
    folder = _task(tmp_path, clip)
    (folder / "jsonl" / "instances.jsonl").unlink()
    with pytest.raises(UVRBDataError, match="instances.jsonl: file not found"):
        load_task(TASKS["MSRVTT"], folder)
    folder = _task(tmp_path / "b", clip)
    for jpg in (folder / "videos_frames" / "v1").glob("*.jpg"):
        jpg.unlink()
    with pytest.raises(UVRBDataError, match=r"corpus.jsonl:2: frame folder .*v1 holds no frames"):
        load_task(TASKS["MSRVTT"], folder)
    with pytest.raises(UVRBDataError, match="task folder for DiDeMo not found"):
        load_task(TASKS["DiDeMo"], tmp_path / "nowhere")


def test_per_query_candidates_from_the_data_or_the_whole_corpus(tmp_path, clip):
    folder = tmp_path / "MS-TI"
    shutil.copytree(_task(tmp_path, clip), folder)
    make_image(folder / "images" / "ref.png", size=(64, 48))
    _write(folder, "queries", [{"id": "m0", "text": "brighter", "image": "ref.png"}])
    _write(folder, "instances", [{"qid": "m0", "pos": ["v0"]}])
    # no candidate lists in the data: the whole task corpus, said so
    data = load_task(TASKS["MS-TI"], folder)
    assert data.candidates is None and data.ranking == "corpus" and "not the paper's P@1" in data.ranking_note
    with pytest.raises(UVRBDataError, match="instances.jsonl: MS-TI ranks each query's own candidates"):
        load_task(TASKS["MS-TI"], folder, cmp_ranking="per-query")
    # lists in the instances ('neg' ranked with 'pos')
    _write(folder, "instances", [{"qid": "m0", "pos": ["v0"], "neg": ["v1"]}])
    data = load_task(TASKS["MS-TI"], folder)
    assert data.candidates == {"m0": ["v0", "v1"]} and data.ranking == "per-query" and data.ranking_note is None
    assert data.queries[0].image.name == "ref.png"
    forced = load_task(TASKS["MS-TI"], folder, cmp_ranking="corpus")
    assert forced.candidates is None and "--cmp-ranking corpus" in forced.ranking_note
    # lists in the corpus: a query id, or a group shared with the query
    _write(folder, "instances", [{"qid": "m0", "pos": ["v0"]}])
    _write(folder, "corpus", [{"id": "v0", "video": "v0.mp4", "qid": "m0"}, {"id": "v1", "video": "v1.mp4"}])
    assert load_task(TASKS["MS-TI"], folder).candidates == {"m0": ["v0"]}
    _write(folder, "corpus", [{"id": "v0", "video": "v0.mp4", "group": 3}, {"id": "v1", "video": "v1.mp4", "group": 3}])
    _write(folder, "queries", [{"id": "m0", "text": "brighter", "image": "ref.png", "group": 3}])
    assert load_task(TASKS["MS-TI"], folder).candidates == {"m0": ["v0", "v1"]}


def test_hub_download_is_limited_to_the_tasks(monkeypatch, tmp_path):
    calls = []
    snapshot = tmp_path / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)

    def fake_snapshot_download(repo_id, **kwargs):
        calls.append((repo_id, kwargs))
        return str(snapshot)

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    root, source = resolve_data([TASKS["CRB-G"], TASKS["MS-TV"]], "Alibaba-NLP/UVRB", revision="main", media="videos")
    assert root == snapshot and source == {"data": "Alibaba-NLP/UVRB", "revision": "a" * 40}
    ((repo_id, kwargs),) = calls
    assert repo_id == "Alibaba-NLP/UVRB" and kwargs["repo_type"] == "dataset" and kwargs["revision"] == "main"
    allow, ignore = kwargs["allow_patterns"], kwargs["ignore_patterns"]
    assert allow[:2] == ["CRB-G/*", "*/CRB-G/*"] and {"CRB-G.tar.gz", "*/MS-TV.tar.gz.*", "MS-TV.zip"} <= set(allow)
    assert not [p for p in allow if "CRB-G" not in p and "MS-TV" not in p]  # the two tasks only
    assert ignore == ["CRB-G/videos_frames/*", "*/CRB-G/videos_frames/*", "MS-TV/videos_frames/*",
                      "*/MS-TV/videos_frames/*"]  # fmt: skip
    assert hub_patterns(TASKS["PEV-K"], "frames")[0][:3] == ["PEV-K/jsonl/*", "PEV-K/videos_frames/*", "PEV-K/images/*"]
    with pytest.raises(ValueError, match="'all', 'videos', 'frames', 'none'"):
        hub_patterns(TASKS["PEV-K"], "raw")
    with pytest.raises(FileNotFoundError, match="no such folder"):
        resolve_data([TASKS["CRB-G"]], str(tmp_path / "missing" / "dir"))


def test_frame_folders_accept_what_the_frame_reader_reads(tmp_path, clip):
    """The loader's "holds no frames" check and `VideoFrames.from_folder` use the one extension
    set of video.py: a folder the loader accepts is one the reader can read."""
    from modeling_gve import video
    from modeling_gve.uvrb import data as uvrb_data
    from modeling_gve.video import read_video

    assert uvrb_data.FRAME_EXTENSIONS is video.FRAME_EXTENSIONS
    folder = _task(tmp_path, clip)
    frames = folder / "videos_frames" / "v1"
    for i, jpg in enumerate(sorted(frames.glob("*.jpg"))):
        jpg.unlink()
        make_image(frames / f"{i:04d}.WEBP", size=(64, 48), seed=i)
    source = load_task(TASKS["MSRVTT"], folder).corpus["v1"]
    assert read_video(source.as_input()).frames.shape[0] == 2  # 3 frames -> an even 2


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink", "image"])
def test_media_outside_the_task_folder_are_refused_with_file_and_line(tmp_path, clip, how):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copyfile(clip, outside / "secret.mp4")
    make_image(outside / "secret.png", size=(32, 32), seed=0)
    corpus = [{"id": "v0", "video": "v0.mp4"}, {"id": "v1", "video": "v1.mp4"}]
    queries = None
    if how == "dotdot":
        corpus[0]["video"] = "../../elsewhere/secret.mp4"
    elif how == "absolute":
        corpus[0]["video"] = str(outside / "secret.mp4")
    elif how == "image":
        queries = [{"id": "q0", "image": str(outside / "secret.png")}, {"id": 7, "image": "../../elsewhere/secret.png"}]
    folder = _task(tmp_path / "data", clip, corpus=corpus, queries=queries)
    if how == "symlink":
        (folder / "videos" / "v0.mp4").unlink()
        (folder / "videos" / "v0.mp4").symlink_to(outside / "secret.mp4")
    with pytest.raises(UVRBDataError) as caught:
        load_task(TASKS["MSRVTT-I2V" if how == "image" else "MSRVTT"], folder)
    err = caught.value
    assert err.file.endswith("queries.jsonl" if how == "image" else "corpus.jsonl") and err.line == 1
    assert f"outside {folder}" in err.reason and "media paths must resolve (symlinks included) inside" in err.reason


def test_links_inside_the_task_folder_and_into_a_hub_snapshot_are_read(tmp_path, clip):
    corpus = [{"id": "v0", "video": "alias.mp4"}, {"id": "v1", "video": "v1.mp4"}]
    folder = _task(tmp_path / "data", clip, corpus=corpus)
    (folder / "videos" / "alias.mp4").symlink_to("v0.mp4")
    assert load_task(TASKS["MSRVTT"], folder).corpus["v0"].path.name == "alias.mp4"
    # a Hugging Face cache snapshot: files link to ../../blobs/, outside the snapshot but inside the repo's folder
    repo = tmp_path / "hub" / "datasets--Alibaba-NLP--UVRB"
    snapshot = _task(repo / "snapshots" / "abc123", clip)
    (repo / "blobs").mkdir(parents=True)
    blob = repo / "blobs" / "f00d"
    (snapshot / "videos" / "v0.mp4").rename(blob)
    (snapshot / "videos" / "v0.mp4").symlink_to(Path("../../../../blobs/f00d"))
    assert load_task(TASKS["MSRVTT"], snapshot).corpus["v0"].path.resolve() == blob.resolve()
