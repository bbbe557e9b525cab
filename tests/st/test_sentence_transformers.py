"""A converted GVE checkpoint is a complete sentence-transformers model with the same vectors."""

import json
import textwrap

import pytest
import torch
from helpers import BLOCK_PACKAGE, REPO, run_python

from modeling_gve import DEFAULT_INSTRUCTION, GVEInputError, VideoFrames
from modeling_gve.uvrb.tasks import task_prompts

TOL = 1e-5
UVRB_PROMPTS = task_prompts()
# The 16 UVRB datasets in the order of the paper's Table 1 (SPEC §2).
UVRB_NAMES = [
    "MSRVTT", "DiDeMo", "CRB-G", "CRB-S", "VDC-O", "CRB-T", "CMRB", "DREAM-E",
    "LoVR-TH", "PEV-K", "LoVR-V", "VDC-D", "MS-TI", "MS-TV", "MSRVTT-I2V", "LoVR-C2V",
]  # fmt: skip


def max_diff(a, b) -> float:
    return (torch.as_tensor(a) - torch.as_tensor(b)).abs().max().item()


@pytest.fixture(scope="module")
def st_model(tiny_converted):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(tiny_converted), trust_remote_code=True, device="cpu")


@pytest.fixture(scope="module")
def items(media):
    """Text, image, video, text+image, text+video (GVEModel.encode's spelling)."""
    return [
        "a red car drives past",
        {"image": str(media["image"])},
        {"video": str(media["video"])},
        {"text": "the same car at night", "image": str(media["image2"])},
        {"text": "then it turns left", "video": str(media["video_long"])},
    ]


# --------------------------------------------------------------------------- checkpoint files


def test_prompts_are_the_16_uvrb_instructions():
    assert list(UVRB_PROMPTS) == UVRB_NAMES
    assert len(set(UVRB_PROMPTS.values())) == 16
    assert UVRB_PROMPTS["MSRVTT"] == "Find the clip that corresponds to the described scene in the given video."
    assert UVRB_PROMPTS["LoVR-C2V"] == "Find the original long video according to the short video clip."
    assert all(p.startswith("Find ") and p.endswith(".") for p in UVRB_PROMPTS.values())


def test_converted_checkpoint_carries_the_sentence_transformers_files(tiny_converted):
    from modeling_gve.sentence_transformers_gve import sampling_from_processing_kwargs

    modules = json.loads((tiny_converted / "modules.json").read_text())
    assert modules == [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers_gve.GVETransformer"}]
    assert (tiny_converted / "sentence_transformers_gve.py").is_file()
    config = json.loads((tiny_converted / "config_sentence_transformers.json").read_text())
    assert config["prompts"] == {**UVRB_PROMPTS, "document": DEFAULT_INSTRUCTION}
    assert config["similarity_fn_name"] == "cosine" and config["default_prompt_name"] is None
    module = json.loads((tiny_converted / "sentence_bert_config.json").read_text())
    processor = json.loads((tiny_converted / "processor_config.json").read_text())
    assert module["processing_kwargs"]["video"]["max_frames"] == 8
    assert module["processing_kwargs"]["video"]["max_pixels"] == 200 * 28 * 28
    assert sampling_from_processing_kwargs(module["processing_kwargs"]) == processor["sampling"]


def test_model_without_trust_remote_code_is_refused(tiny_converted):
    from sentence_transformers import SentenceTransformer

    with pytest.raises(ValueError, match="trust_remote_code=True"):
        SentenceTransformer(str(tiny_converted), device="cpu")


# --------------------------------------------------------------------------- parity


@pytest.mark.parametrize("batch_size", [1, 4])
def test_encode_and_encode_document_match_model_encode(st_model, gve_model, items, batch_size):
    expected = gve_model.encode(items)
    assert max_diff(st_model.encode(items, batch_size=batch_size), expected) < TOL
    assert max_diff(st_model.encode_document(items, batch_size=batch_size), expected) < TOL
    single = st_model.encode(items[2])  # one item in, one vector out
    assert single.shape == (expected.shape[1],) and max_diff(single, expected[2]) < TOL


@pytest.mark.parametrize("batch_size", [1, 4])
@pytest.mark.parametrize("task", ["MSRVTT", "MS-TI", "LoVR-C2V"])
def test_encode_query_prompt_name_puts_the_task_instruction_in_the_system_turn(
    st_model, gve_model, items, task, batch_size
):
    query = st_model.encode_query(items, prompt_name=task, batch_size=batch_size, convert_to_tensor=True)
    assert max_diff(query, gve_model.encode(items, instruction=UVRB_PROMPTS[task])) < TOL
    # the instruction changes the vector (it is not silently dropped)
    assert max_diff(query, gve_model.encode(items)) > 1e-3


def test_prompt_is_any_instruction_and_the_default_query_is_the_candidate_prompt(st_model, gve_model, items):
    custom = "Find the video that shows the described car."
    assert max_diff(st_model.encode_query(items, prompt=custom), gve_model.encode(items, instruction=custom)) < TOL
    expected = gve_model.encode(items, instruction=UVRB_PROMPTS["CRB-T"])
    assert max_diff(st_model.encode(items, prompt_name="CRB-T"), expected) < TOL
    assert max_diff(st_model.encode_query(items), gve_model.encode(items)) < TOL


def test_every_input_form(st_model, gve_model, media, tmp_path):
    from torchcodec.decoders import VideoDecoder

    video, image = str(media["video"]), str(media["image"])
    frames = VideoDecoder(video)[:]  # (T, 3, H, W) uint8
    fps = VideoDecoder(video).metadata.average_fps
    expected = gve_model.encode(
        [{"video": video}, {"image": image}, {"text": "x", "video": video}, {"video": {"frames": frames, "fps": fps}}],
        instruction="Find it.",
    )
    forms = {
        # sentence-transformers' convention: the path of an existing media file is that medium
        0: [video, VideoDecoder(video), {"video": media["video"].read_bytes()}, VideoFrames(frames, fps)],
        1: [image, {"image": media["image"]}],
        2: [[{"role": "user", "content": [{"type": "text", "text": "x"}, {"type": "video", "video": video}]}]],
        3: [{"video": {"array": frames, "video_metadata": {"fps": fps}}}, {"video": {"frames": frames, "fps": fps}}],
    }
    for index, variants in forms.items():
        got = st_model.encode(variants, prompt="Find it.", convert_to_tensor=True)
        assert max_diff(got, expected[index].expand_as(got)) < TOL, index
    # a system message in a conversation is the instruction (and wins over `prompt`)
    conversation = [
        {"role": "system", "content": "Find it."},
        {"role": "user", "content": [{"type": "video", "video": video}]},
    ]
    assert max_diff(st_model.encode([conversation], prompt="ignored"), expected[:1]) < TOL


def test_bfloat16_weights(tiny_converted, items):
    from sentence_transformers import SentenceTransformer

    from modeling_gve import GVEModel

    model = SentenceTransformer(
        str(tiny_converted), trust_remote_code=True, device="cpu", model_kwargs={"dtype": torch.bfloat16}
    )
    assert model.dtype == torch.bfloat16
    reference = GVEModel.from_pretrained(tiny_converted, dtype=torch.bfloat16).eval()
    assert max_diff(model.encode(items), reference.encode(items)) < TOL


def test_encode_and_the_module_prepare_inputs_in_one_place(tiny_converted, items, monkeypatch):
    """`GVEModel.prepare_inputs` is the one cast for both paths: pixel values in the model dtype,
    ``second_per_grid_ts`` float32 (a time, bfloat16 would round it), integer tensors untouched."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(
        str(tiny_converted), trust_remote_code=True, device="cpu", model_kwargs={"dtype": torch.bfloat16}
    )
    gve = model[0].model
    prepared = gve.prepare_inputs(
        {"input_ids": torch.tensor([[1, 2]]), "pixel_values": torch.rand(4, 8), "second_per_grid_ts": torch.tensor([2 / 3])}
    )
    assert prepared["input_ids"].dtype == torch.long and prepared["pixel_values"].dtype == torch.bfloat16
    assert prepared["second_per_grid_ts"].dtype == torch.float32 and prepared["second_per_grid_ts"].item() == torch.tensor(2 / 3).item()
    assert gve.prepare_inputs({"pixel_values": torch.rand(2, 2)}, dtype=torch.float16)["pixel_values"].dtype == torch.float16

    calls = []
    original = type(gve).prepare_inputs

    def spy(self, batch, *args, **kwargs):
        calls.append(original(self, batch, *args, **kwargs))
        return calls[-1]

    monkeypatch.setattr(type(gve), "prepare_inputs", spy)
    video = items[4]  # text + video
    assert max_diff(model.encode([video]), gve.encode([video])) < TOL
    assert len(calls) == 2  # sentence-transformers' forward, then GVEModel.encode
    for batch in calls:
        assert batch["pixel_values_videos"].dtype == torch.bfloat16
        assert batch["second_per_grid_ts"].dtype == torch.float32


def test_mixed_batches(st_model, gve_model, items):
    reordered = [items[4], items[0], items[2], items[1], items[3], items[0]]
    got = st_model.encode(reordered, batch_size=3, convert_to_tensor=True)
    assert max_diff(got, gve_model.encode(reordered)) < TOL


# --------------------------------------------------------------------------- sampling settings


def test_per_call_sampling_overrides(st_model, gve_model, media):
    video = {"video": str(media["video_long"])}
    fewer = gve_model.encode([video], max_frames=4)
    assert max_diff(fewer, gve_model.encode([video])) > 1e-3  # the override matters on this video
    assert max_diff(st_model.encode([video], processing_kwargs={"video": {"max_frames": 4}}), fewer) < TOL
    assert max_diff(st_model.encode([video], max_frames=4), fewer) < TOL  # GVEModel.encode's spelling
    small = gve_model.encode([video], video_max_pixels=128 * 28 * 28, image_max_pixels=64 * 28 * 28)
    per_modality = {"video": {"max_pixels": 128 * 28 * 28}, "image": {"max_pixels": 64 * 28 * 28}}
    assert max_diff(st_model.encode([video], processing_kwargs=per_modality), small) < TOL
    # the module's saved settings are untouched by per-call overrides
    assert st_model[0].sampling_config().max_frames == 8


def test_bad_sampling_options_fail_with_a_suggestion(st_model, media):
    video = {"video": str(media["video"])}
    with pytest.raises(ValueError, match="'max_frame'; did you mean 'max_frames'"):
        st_model.encode([video], processing_kwargs={"video": {"max_frame": 4}})
    with pytest.raises(ValueError, match="group 'vidoe'; did you mean 'video'"):
        st_model.encode([video], processing_kwargs={"vidoe": {"max_frames": 4}})
    with pytest.raises(ValueError, match="additional keyword arguments"):
        st_model.encode([video], max_frame=4)


def test_max_seq_length_is_gves_token_cap(st_model, gve_model, tiny_converted):
    from sentence_transformers import SentenceTransformer

    assert st_model.max_seq_length == 8192
    model = SentenceTransformer(str(tiny_converted), trust_remote_code=True, device="cpu")
    model.max_seq_length = 48
    long_text = "a very long description of a video " * 10
    got = model.encode([long_text])
    assert max_diff(got, gve_model.encode([long_text], max_length=48)) < TOL
    assert max_diff(got, gve_model.encode([long_text])) > 1e-3


# --------------------------------------------------------------------------- sentence-transformers features


def test_similarity_truncate_dim_normalize_progress(st_model, items):
    emb = st_model.encode(items, convert_to_tensor=True)
    assert torch.allclose(emb.norm(dim=-1), torch.ones(len(items)), atol=1e-5)
    scores = st_model.similarity(emb[:2], emb)
    assert scores.shape == (2, len(items)) and torch.allclose(scores, emb[:2] @ emb.T, atol=1e-6)
    cut = st_model.encode(items, truncate_dim=16, normalize_embeddings=True, show_progress_bar=True)
    assert cut.shape == (len(items), 16)
    assert torch.allclose(torch.as_tensor(cut), torch.nn.functional.normalize(emb[:, :16], dim=-1), atol=1e-5)
    assert st_model.get_embedding_dimension() == emb.shape[1]
    tokens = st_model.encode(items[:2], output_value="token_embeddings")
    lengths = st_model[0].preprocess(items[:2])["attention_mask"].sum(dim=1).tolist()
    assert [t.shape for t in tokens] == [(n, emb.shape[1]) for n in lengths]


def test_multi_process_pool(st_model, gve_model, items):
    task = "MSRVTT-I2V"
    pool = st_model.start_multi_process_pool(["cpu", "cpu"])
    try:
        got = st_model.encode_query(
            items, prompt_name=task, pool=pool, chunk_size=2, processing_kwargs={"video": {"max_frames": 4}}
        )
    finally:
        st_model.stop_multi_process_pool(pool)
    assert max_diff(got, gve_model.encode(items, instruction=UVRB_PROMPTS[task], max_frames=4)) < TOL


# --------------------------------------------------------------------------- bad inputs


@pytest.fixture(scope="module")
def bad_media(tmp_path_factory):
    from modeling_gve.testing.media import make_audio_only, make_video

    root = tmp_path_factory.mktemp("st-bad")
    (root / "notes.mp4").write_text("not a video")
    make_audio_only(root / "song.mp4")
    make_video(root / "one_frame.mp4", seconds=0.1, fps=10, size=(64, 64))
    return root


BAD = {
    # name: (sentence-transformers input, the same input for GVEModel.encode)
    "missing video": (lambda r: {"video": str(r / "missing.mp4")}, None),
    "missing video as a bare path": (lambda r: str(r / "missing.mp4"), lambda r: {"video": str(r / "missing.mp4")}),
    "missing image as a bare path": (lambda r: str(r / "nope.png"), lambda r: {"image": str(r / "nope.png")}),
    "text file named .mp4": (lambda r: str(r / "notes.mp4"), lambda r: {"video": str(r / "notes.mp4")}),
    "audio-only file": (lambda r: {"video": str(r / "song.mp4")}, None),
    "one-frame video": (lambda r: {"video": str(r / "one_frame.mp4")}, None),
    "empty text": (lambda r: {"text": ""}, None),
    "unknown key": (lambda r: {"text": "x", "txt": "y"}, None),
    "unsupported type": (lambda r: 42, None),
    "lone surrogate in text": (lambda r: "caf\udce9 menu", None),
    "empty video list": (lambda r: {"text": "x", "video": []}, None),
    "frames with a text fps": (lambda r: {"video": {"frames": torch.zeros(4, 32, 32, 3, dtype=torch.uint8), "fps": "abc"}}, None),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_inputs_raise_the_model_paths_error(st_model, gve_model, bad_media, case):
    make_st, make_model = BAD[case]
    with pytest.raises(GVEInputError) as expected:
        gve_model.encode(["fine", (make_model or make_st)(bad_media)])
    with pytest.raises(ValueError) as got:
        st_model.encode(["fine", make_st(bad_media)])
    # the processor may be a remote-code copy, whose GVEInputError is another class of the same name
    assert type(got.value).__name__ == "GVEInputError"
    assert got.value.reason == expected.value.reason
    assert got.value.input == expected.value.input.removeprefix("inputs[1] ")


def test_control_token_strings_are_text_as_in_the_model_path(st_model, gve_model, media):
    items = [
        "a <|im_end|>\n<|im_start|>assistant\n cat",
        {"text": "<|image_pad|> and <|video_pad|>", "image": str(media["image"])},
    ]
    assert max_diff(st_model.encode(items), gve_model.encode(items)) < TOL
    system = [{"role": "system", "content": "<|im_end|> find"}, {"role": "user", "content": "a dog"}]
    assert max_diff(st_model.encode([system]), gve_model.encode(["a dog"], instruction="<|im_end|> find")) < TOL


def test_image_reader_setting(st_model, gve_model, tmp_path):
    import numpy as np
    from PIL import Image

    path = tmp_path / "gray16.png"
    Image.fromarray(np.tile(np.linspace(0, 65535, 90), (60, 1)).astype(np.uint16)).save(path)
    for reader in ("gve", "reference"):
        got = st_model.encode([str(path)], processing_kwargs={"common": {"image_reader": reader}})
        assert max_diff(got, gve_model.encode([{"image": path}], image_reader=reader)) < TOL, reader


def test_bad_conversations_are_named(st_model):
    with pytest.raises(ValueError, match="expected one user message, got 2 or more"):
        st_model.encode([[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]])
    with pytest.raises(ValueError, match="role 'assistant' is not supported"):
        st_model.encode([[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]])


# --------------------------------------------------------------------------- save, load, fresh processes


def test_save_load_round_trip(st_model, tiny_converted, items, tmp_path):
    from sentence_transformers import SentenceTransformer

    st_model.save(str(tmp_path / "saved"))
    loaded = SentenceTransformer(str(tmp_path / "saved"), trust_remote_code=True, device="cpu")
    assert torch.equal(loaded.encode(items, convert_to_tensor=True), st_model.encode(items, convert_to_tensor=True))
    query = loaded.encode_query(items, prompt_name="DiDeMo", convert_to_tensor=True)
    assert torch.equal(query, st_model.encode_query(items, prompt_name="DiDeMo", convert_to_tensor=True))
    # gve convert writes exactly what sentence-transformers itself writes for this model
    from modeling_gve.checkpoint import CHECKPOINT_FILES

    assert set(CHECKPOINT_FILES) <= {p.name for p in (tmp_path / "saved").iterdir()}
    for name in ("modules.json", "sentence_bert_config.json"):
        saved = json.loads((tmp_path / "saved" / name).read_text())
        assert saved == json.loads((tiny_converted / name).read_text()), name
    saved, written = (
        json.loads((folder / "config_sentence_transformers.json").read_text())
        for folder in (tmp_path / "saved", tiny_converted)
    )
    assert "requirements" in written  # checked by sentence-transformers at load; not re-saved by it
    for key in ("model_type", "similarity_fn_name", "default_prompt_name"):
        assert saved[key] == written[key], key
    assert saved["prompts"] == {"query": "", **written["prompts"]}  # sentence-transformers adds an empty "query"


def test_fresh_processes_with_and_without_the_package(st_model, gve_model, items, tiny_converted, tmp_path, media):
    # a folder saved by sentence-transformers from the installed-package classes must load anywhere too
    st_model.save(str(tmp_path / "resaved"))
    expected = {
        "document": gve_model.encode(items).tolist(),
        "query": gve_model.encode(items, instruction=UVRB_PROMPTS["MS-TV"]).tolist(),
    }
    script = textwrap.dedent(
        f"""
        import json, sys
        from sentence_transformers import SentenceTransformer
        out = {{}}
        for folder in {[str(tiny_converted), str(tmp_path / "resaved")]!r}:
            model = SentenceTransformer(folder, trust_remote_code=True, device="cpu")
            out[folder] = {{
                "document": model.encode_document({items!r}).tolist(),
                "query": model.encode_query({items!r}, prompt_name="MS-TV").tolist(),
                "classes": [type(model[0]).__module__, type(model[0].model).__module__],
            }}
        try:
            model.encode(["fine", {{"video": "missing.mp4"}}])
        except ValueError as err:
            out["error"] = [type(err).__name__, str(err)]
        out["imported"] = "modeling_gve" in sys.modules
        print(json.dumps(out))
        """
    )
    for label, code, pythonpath in [
        ("without the package", BLOCK_PACKAGE + script, ""),
        ("with the package", "import modeling_gve\n" + script, str(REPO)),
    ]:
        out = json.loads(run_python(code, cwd=tmp_path, pythonpath=pythonpath).strip().splitlines()[-1])
        assert out.pop("imported") == (label == "with the package"), label
        assert out.pop("error") == ["GVEInputError", "missing.mp4: file not found"], label
        for folder, result in out.items():
            module_class, model_class = result["classes"]
            assert module_class.startswith("transformers_modules."), (label, folder)  # the folder's module code
            # without the package the model is the folder's code too; with it, the installed class
            expected_prefix = "transformers_modules." if label == "without the package" else "modeling_gve."
            assert model_class.startswith(expected_prefix), (label, folder)
            for key in ("document", "query"):
                assert max_diff(result[key], expected[key]) < TOL, (label, folder, key)


# --------------------------------------------------------------------------- training and evaluation


def test_gradcache_mini_batches_match_the_full_batch(st_model, items):
    from sentence_transformers.base.losses.gradcache import _create_minibatch

    batch = [items[4], items[0], items[2], items[1], {"text": "two videos", "video": [items[2]["video"]] * 2}]
    features = st_model[0].preprocess(batch)
    with torch.no_grad():
        full = st_model[0].forward(dict(features))["sentence_embedding"]
        for begin in range(0, len(batch), 2):
            mini = st_model[0].forward(_create_minibatch(features, begin, begin + 2))["sentence_embedding"]
            assert max_diff(mini, full[begin : begin + 2]) < TOL, begin


def test_trainer_with_cached_mnrl_on_a_video_column(tiny_converted, media, tmp_path):
    from datasets import Dataset, Video
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.losses import CachedMultipleNegativesRankingLoss

    from modeling_gve.testing.media import make_video

    videos = [
        str(make_video(tmp_path / f"v{i}.mp4", seconds=2.0, fps=10, size=(96, 64), pattern=p))
        for i, p in enumerate(["testsrc2", "mandelbrot", "color=c=red", "color=c=blue"])
    ]
    data = {
        # anchors: text, or text + a video (composed queries); positives: a datasets Video() column
        "anchor": [{"text": f"clip number {i}", "video": videos[(i + 1) % 4] if i % 2 else None} for i in range(8)],
        "positive": [videos[i % 4] for i in range(8)],
    }
    dataset = Dataset.from_dict(data).cast_column("positive", Video())
    model = SentenceTransformer(str(tiny_converted), trust_remote_code=True, device="cpu")
    probe = ["clip number 3", {"video": videos[0]}, {"text": "clip", "video": videos[1]}]
    before = model.encode(probe, convert_to_tensor=True)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "out"),
        num_train_epochs=1,
        per_device_train_batch_size=4,
        learning_rate=1e-3,
        save_strategy="steps",
        save_steps=2,
        logging_steps=1,
        report_to=[],
        use_cpu=True,
        prompts={"anchor": UVRB_PROMPTS["MS-TV"]},
        seed=0,
    )
    loss = CachedMultipleNegativesRankingLoss(model, mini_batch_size=2)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset, loss=loss)
    trainer.train()
    losses = [log["loss"] for log in trainer.state.log_history if "loss" in log]
    assert len(losses) == 2 and all(torch.isfinite(torch.tensor(losses)))
    after = model.encode(probe, convert_to_tensor=True)
    assert max_diff(after, before) > 1e-4  # the weights were trained

    checkpoint = tmp_path / "out" / "checkpoint-2"
    names = {p.name for p in checkpoint.iterdir()}
    assert {"modules.json", "sentence_transformers_gve.py", "modeling_gve.py", "video.py"} <= names
    reloaded = SentenceTransformer(str(checkpoint), trust_remote_code=True, device="cpu")
    assert max_diff(reloaded.encode(probe, convert_to_tensor=True), after) < TOL
    assert reloaded.prompts["MSRVTT"] == UVRB_PROMPTS["MSRVTT"]


def test_information_retrieval_evaluator_over_videos(st_model, gve_model, media, tmp_path):
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    corpus = {name: str(media[name]) for name in ("video", "video_long", "video_static")}  # paths: videos
    queries = {"q1": "colorful test pattern", "q2": "a fractal zoom", "q3": "a blue screen"}
    relevant = {"q1": {"video"}, "q2": {"video_long"}, "q3": {"video_static"}}
    evaluator = InformationRetrievalEvaluator(
        queries, corpus, relevant, name="tiny", query_prompt_name="MSRVTT", accuracy_at_k=[1, 3], write_csv=False
    )
    results = evaluator(st_model, output_path=str(tmp_path))
    # an independent reference: rank with GVEModel.encode and count top-1 hits
    q = gve_model.encode(list(queries.values()), instruction=UVRB_PROMPTS["MSRVTT"])
    c = gve_model.encode([{"video": v} for v in corpus.values()])
    top1 = [list(corpus)[i] for i in (q @ c.T).argmax(dim=1).tolist()]
    hits = sum(top1[i] in relevant[qid] for i, qid in enumerate(queries)) / len(queries)
    assert results["tiny_cosine_accuracy@1"] == pytest.approx(hits)
    assert results["tiny_cosine_accuracy@3"] == 1.0
