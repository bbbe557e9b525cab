"""Reading ahead (threads, processes, the default) and where frames are decoded never change a vector;
the reader queue is bounded; a GPU decoder that is not there is a clear error, not a bad input."""

import os
import time

import pytest
import torch


@pytest.fixture(scope="module")
def items(media):
    return [
        "a text",
        {"video": media["video"]},
        {"image": media["image"]},
        {"text": "then the camera pans left", "video": media["video_long"]},
        {"video": media["video_static"]},
    ]


@pytest.fixture(scope="module")
def inline(gve_model, items):
    return gve_model.encode(items, batch_size=2, num_workers=0)


@pytest.mark.parametrize(
    "options",
    [{}, {"num_workers": 2}, {"num_workers": 2, "reader": "processes"}, {"num_workers": 1, "reader": "processes"}],
    ids=["default", "2-threads", "2-processes", "1-process"],
)
def test_vectors_are_identical_whatever_the_reader(gve_model, items, inline, options):
    assert torch.equal(gve_model.encode(items, batch_size=2, **options), inline)


def test_reader_processes_skip_and_name_bad_inputs(gve_model, items, inline, tmp_path):
    from modeling_gve import GVEInputError

    with_bad = items[:2] + [{"video": str(tmp_path / "missing.mp4")}] + items[2:]
    result = gve_model.encode(with_bad, batch_size=2, num_workers=2, reader="processes", on_error="skip")
    assert result.indices == [0, 1, 3, 4, 5]
    assert [(e.index, e.reason) for e in result.errors] == [(2, "file not found")]
    assert torch.equal(result.embeddings, inline)
    with pytest.raises(GVEInputError, match=r"inputs\[2\] .*missing.mp4: file not found"):
        gve_model.encode(with_bad, num_workers=2, reader="processes")


def test_unknown_reader_is_refused(gve_model, items):
    with pytest.raises(ValueError, match="reader must be 'threads' or 'processes', got 'fork'"):
        gve_model.encode(items[:1], num_workers=1, reader="fork")


def _touch(folder_and_item):
    folder, item = folder_and_item
    (folder / f"{item}.started").touch()
    return item


@pytest.mark.parametrize("reader", ["threads", "processes"])
def test_reading_ahead_is_bounded(tmp_path, reader):
    from modeling_gve.modeling_gve import prefetch

    results = prefetch(_touch, [(tmp_path, i) for i in range(40)], num_workers=2, ahead=4, reader=reader)
    assert next(results) == 0
    time.sleep(1.0)  # a slow consumer: readers must wait, not run through all 40 items
    started = len(list(tmp_path.glob("*.started")))
    assert started <= 4 + 2 + 1, started  # the queue, one item per worker in hand, the one consumed
    assert list(results) == list(range(1, 40))


def test_default_reads_ahead_only_for_media(monkeypatch, media):
    from modeling_gve.modeling_gve import default_num_workers

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert default_num_workers(["a text", "another"]) == 0
    assert default_num_workers(["a text", {"video": media["video"]}]) == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert default_num_workers([{"video": media["video"]}]) == 0  # one core: nothing to overlap


def test_decode_device_cpu_is_the_default_path(media):
    from modeling_gve.video import read_video

    assert torch.equal(read_video(media["video"], decode_device="cpu").frames, read_video(media["video"]).frames)


def test_decode_device_values_are_checked():
    from modeling_gve.processing_gve import SamplingConfig

    with pytest.raises(ValueError, match="decode_device must be 'cpu', 'cuda' or 'cuda:N', got 'gpu'"):
        SamplingConfig(decode_device="gpu")
    assert SamplingConfig(decode_device="cuda:1").decode_device == "cuda:1"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised when no CUDA GPU is visible")
def test_cuda_decoding_without_a_gpu_is_a_clear_setup_error(gve_model, media):
    from modeling_gve.video import read_video

    message = r"decode_device='cuda' needs a CUDA GPU, and none is visible .*with decode_device='cpu'"
    with pytest.raises(RuntimeError, match=message):
        read_video(media["video"], decode_device="cuda")
    # not blamed on the input: on_error="skip" does not swallow it
    with pytest.raises(RuntimeError, match=message):
        gve_model.encode([{"video": media["video"]}], on_error="skip", decode_device="cuda")


def test_cuda_decoding_needs_reader_threads(gve_model, media):
    with pytest.raises(ValueError, match="use reader='threads'"):
        gve_model.encode([{"video": media["video"]}], num_workers=2, reader="processes", decode_device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_decoded_frames_are_within_tolerance_of_cpu_decoding(media):
    from modeling_gve.video import read_video

    cpu = read_video(media["video_long"])
    gpu = read_video(media["video_long"], decode_device="cuda")
    assert gpu.frames.device.type == "cpu" and gpu.frames.shape == cpu.frames.shape
    assert gpu.frames_indices == cpu.frames_indices
    diff = (gpu.frames.int() - cpu.frames.int()).abs().float()
    assert diff.mean() <= 2.0, float(diff.mean())  # NVDEC colour conversion is not bit-exact
