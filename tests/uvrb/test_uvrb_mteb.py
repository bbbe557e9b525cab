"""mteb: UVRB tasks carry the paper's metadata and rows any mteb model can read (frame folders
included); gve_mteb_model implements mteb's encoder protocol, also on mteb tasks that are not UVRB's.
The score parity with ``gve uvrb`` on all 16 tasks is in test_uvrb_layouts.py."""

import json

import mteb
import numpy as np
import pytest
import torch
from mteb.models import EncoderProtocol
from mteb.models.modality_collators import FramesCollator
from uvrb_helpers import TEST_SAMPLING, mini_uvrb

from modeling_gve.mteb import GVEMtebModel, gve_mteb_model, uvrb_mteb_tasks
from modeling_gve.uvrb import TASKS


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    return mini_uvrb(tmp_path_factory)


@pytest.fixture(scope="module")
def model(tiny_ckpt):
    return gve_mteb_model(str(tiny_ckpt), device="cpu", **TEST_SAMPLING)


def test_task_metadata_is_the_task_record(mini):
    msrvtt, cmrb, ms_ti, c2v = uvrb_mteb_tasks(["MSRVTT", "CMRB", "MS-TI", "LoVR-C2V"], data=mini, revision="abc")
    meta = msrvtt.metadata
    assert (meta.name, meta.main_score, meta.category, meta.prompt) == (
        "UVRB-MSRVTT", "hit_rate_at_1", "t2v", {"query": TASKS["MSRVTT"].prompt}
    )
    assert meta.dataset == {"path": str(mini), "revision": "abc"} and "'video' frames protocol at 1.0 fps" in meta.description
    assert cmrb.metadata.main_score == "hit_rate_at_10" and ms_ti.metadata.main_score == "precision_at_1"
    assert (ms_ti.metadata.category, c2v.metadata.category) == ("it2v", "v2v")
    assert [t.metadata.name for t in uvrb_mteb_tasks("CMP")] == ["UVRB-MS-TI", "UVRB-MS-TV"]
    with pytest.raises(KeyError, match="did you mean 'MS-TI'"):
        uvrb_mteb_tasks(["MS_TI"])
    with pytest.raises(ValueError, match="frames_protocol"):
        uvrb_mteb_tasks(["MSRVTT"], frames_protocol="all")


def test_rows_are_readable_by_any_mteb_model(mini):
    """The `video` cells read like torchcodec decoders (raw files and frame folders), as mteb's own
    video wrappers read them; MS-TI's candidates go to mteb as `top_ranked`."""
    (didemo, msrvtt, ms_ti) = uvrb_mteb_tasks(["DiDeMo", "MSRVTT", "MS-TI"], data=mini)
    for task in (didemo, msrvtt, ms_ti):
        task.load_data()
    for task in (didemo, msrvtt):
        video = task.dataset["default"]["test"]["corpus"][0]["video"]
        frames = FramesCollator.resample_video(video, num_frames=2)
        assert frames.dtype == torch.uint8 and frames.shape[:2] == (2, 3)
    split = ms_ti.dataset["default"]["test"]
    assert split["top_ranked"] == {"m0": ["v0", "v1", "v2", "v3"], "m1": ["v1", "v2", "v0", "v3"]}
    query = split["queries"][0]
    assert query["image"].mode == "RGB" and json.loads(query["uvrb_input"])["query"]["text"] == query["text"]


def test_gve_scores_any_mteb_task_from_its_columns(model, mini, gve_model, tmp_path):
    """A task that is not UVRB's (text queries, a datasets `Video` column): GVE reads the decoders
    mteb hands it and embeds them as it embeds the files."""
    from datasets import Dataset, Video
    from mteb.abstasks.retrieval import AbsTaskRetrieval
    from mteb.abstasks.retrieval_dataset_loaders import RetrievalSplitData
    from mteb.abstasks.task_metadata import TaskMetadata

    videos = sorted(str(p) for p in (mini / "MSRVTT" / "videos").iterdir())
    corpus = Dataset.from_dict({"id": ["a", "b", "c"], "video": videos}).cast_column("video", Video())
    queries = Dataset.from_dict({"id": ["q"], "text": ["a red scene"]})

    class Plain(AbsTaskRetrieval):
        metadata = TaskMetadata(name="PlainT2V", description="plain", dataset={"path": "x/y", "revision": "1"},
                                type="Any2AnyRetrieval", category="t2v", modalities=["text", "video"],
                                eval_splits=["test"], eval_langs=["eng-Latn"], main_score="hit_rate_at_1",
                                prompt={"query": "Find the video."})  # fmt: skip

        def load_data(self, **kwargs):
            self.dataset = {"default": {"test": RetrievalSplitData(queries=queries, corpus=corpus,
                                                                   relevant_docs={"q": {"b": 1}}, top_ranked=None)}}
            self.data_loaded = True

    mteb.evaluate(model, Plain(), cache=None, show_progress_bar=False, prediction_folder=tmp_path)
    predicted = json.loads((tmp_path / "PlainT2V_predictions.json").read_text())["default"]["test"]["q"]
    documents = gve_model.encode([{"video": v} for v in videos], **TEST_SAMPLING)
    query = gve_model.encode(["a red scene"], instruction="Find the video.", **TEST_SAMPLING)
    expected = dict(zip(["a", "b", "c"], (query @ documents.T)[0].tolist()))
    assert predicted == pytest.approx(expected, abs=1e-5)


def test_the_encoder_protocol(model, mini, gve_model):
    assert isinstance(model, GVEMtebModel) and isinstance(model, EncoderProtocol)
    meta = model.mteb_model_meta
    assert meta.name.startswith("local/") and meta.embed_dim == gve_model.config.text_config.hidden_size
    assert meta.modalities == ["image", "text", "video"] and meta.similarity_fn_name.value == "cosine"
    (task,) = uvrb_mteb_tasks(["LoVR-C2V"], data=mini)
    task.load_data()
    from mteb._create_dataloaders import create_dataloader
    from mteb.types import PromptType

    queries = task.dataset["default"]["test"]["queries"]
    loader = create_dataloader(queries, task_metadata=task.metadata, prompt_type=PromptType.query, batch_size=2)
    got = model.encode(loader, task_metadata=task.metadata, hf_split="test", hf_subset="default",
                       prompt_type=PromptType.query)  # fmt: skip
    clips = [json.loads(r)["query"]["video"]["path"] for r in queries["uvrb_input"]]
    expected = gve_model.encode([{"video": c} for c in clips], instruction=TASKS["LoVR-C2V"].prompt, **TEST_SAMPLING)
    assert isinstance(got, np.ndarray) and got.shape == tuple(expected.shape)
    assert np.allclose(got, expected.numpy(), atol=1e-5)
