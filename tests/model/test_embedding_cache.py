"""The embedding cache's promises: keys follow the whole content of the media (memoised like git's
index), and a damaged cache file is reported by name and never trusted: its inputs are encoded again.
A fake encoder stands in for the model (what is tested is the cache, not the vectors)."""

import hashlib
import json
import os
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from modeling_gve import embedding_cache
from modeling_gve.embedding_cache import Fingerprints, content_key, item_key
from modeling_gve.encoders import CachedEncoder
from modeling_gve.modeling_gve import EncodeResult, SkippedInput
from modeling_gve.video import VideoFrames

MIB = 1 << 20
DAY_NS = 86_400 * 10**9


def sampled_key(path):
    """The old key, for comparison: size + first, middle and last MiB."""
    size = os.path.getsize(path)
    digest = hashlib.blake2b(str(size).encode(), digest_size=16)
    with open(path, "rb") as handle:
        for offset in sorted({0, max(0, size // 2 - MIB // 2), max(0, size - MIB)}):
            handle.seek(offset)
            digest.update(handle.read(MIB))
    return digest.hexdigest()


def write_random(path, size, seed=0):
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes())
    return path


def poke(path, offset, keep_mtime=False):
    """Change one byte in place (same size, same inode)."""
    stat = os.stat(path)
    with open(path, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0xFF]))
    if keep_mtime:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def age(path):
    """Make ``path`` look unchanged for a day (its mtime; the ctime is the kernel's)."""
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns - DAY_NS, stat.st_mtime_ns - DAY_NS))


@pytest.fixture()
def hash_counter(monkeypatch):
    """Counts whole-file reads by `content_key`; the racy window is set to 0 so that files made by
    the test count as settled (the rule itself is tested separately)."""
    calls = []
    original = embedding_cache.content_key
    monkeypatch.setattr(embedding_cache, "content_key", lambda path: calls.append(str(path)) or original(path))
    monkeypatch.setattr(embedding_cache, "RACY_NS", 0)
    return calls


# --------------------------------------------------------------------------- content keys


def test_an_edit_outside_the_old_sampled_mebibytes_changes_the_key(tmp_path):
    video = write_random(tmp_path / "v.mp4", 4 * MIB)
    before_old, before = sampled_key(video), content_key(video)
    poke(video, MIB + MIB // 4)  # 1.25 MiB: in none of the first, middle and last MiB
    assert sampled_key(video) == before_old  # the old scheme's blind spot: a stale vector was served
    assert content_key(video) != before


def test_unchanged_files_are_read_once_across_runs(tmp_path, hash_counter):
    video = write_random(tmp_path / "v.mp4", MIB)
    age(video)
    memo = Fingerprints(tmp_path / "keys.json")
    key = memo(video)
    assert memo(video) == key and len(hash_counter) == 1
    memo.save()
    assert Fingerprints(tmp_path / "keys.json")(video) == key and len(hash_counter) == 1  # a later run
    shutil.copy(video, tmp_path / "copy.mp4")
    assert memo(tmp_path / "copy.mp4") == key  # content, not path: a copy keeps the key


def test_a_same_size_edit_is_seen_with_or_without_a_new_mtime(tmp_path, hash_counter):
    video = write_random(tmp_path / "v.mp4", 3 * MIB)
    age(video)
    memo = Fingerprints(tmp_path / "keys.json")
    original = memo(video)
    memo.save()
    poke(video, 2 * MIB + 7)  # a same-size edit: a new mtime
    edited = Fingerprints(tmp_path / "keys.json")(video)
    assert edited != original
    # edited again and its mtime set back (os.utime): the ctime moves, and the memo compares it
    memo = Fingerprints(tmp_path / "keys.json")
    memo(video)
    memo.save()
    poke(video, 5, keep_mtime=True)
    assert Fingerprints(tmp_path / "keys.json")(video) not in (original, edited)


def test_a_file_hashed_as_it_was_written_is_hashed_again_next_run(tmp_path, monkeypatch):
    """git's racy rule: a file modified within RACY_NS of being hashed could change again within the
    same timestamp tick, unseen; its entry is not trusted."""
    reads = []
    original = embedding_cache.content_key
    monkeypatch.setattr(embedding_cache, "content_key", lambda path: reads.append(path) or original(path))
    video = write_random(tmp_path / "v.mp4", MIB)
    memo = Fingerprints(tmp_path / "keys.json")
    memo(video)
    memo.save()
    Fingerprints(tmp_path / "keys.json")(video)
    assert len(reads) == 2


def test_item_keys(tmp_path, media):
    assert item_key("a dog") == item_key({"text": "a dog"}) != item_key({"text": "a cat"})
    copy = shutil.copy(media["video"], tmp_path / "copy.mp4")
    assert item_key({"video": str(copy), "text": "x"}) == item_key({"text": "x", "video": str(media["video"])})
    assert item_key({"video": str(media["video"])}) != item_key({"image": str(media["video"])})
    missing = tmp_path / "gone.mp4"  # keyed by path: its failure is recorded once, until it appears
    assert item_key({"video": str(missing)}) == item_key({"video": str(missing)})
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):
        write_random(frames / f"{i}.jpg", 100, seed=i)
    at_1fps = item_key({"video": VideoFrames.from_folder(frames, fps=1.0)})
    assert at_1fps != item_key({"video": VideoFrames.from_folder(frames, fps=2.0)})
    write_random(frames / "1.jpg", 100, seed=9)
    assert at_1fps != item_key({"video": VideoFrames.from_folder(frames, fps=1.0)})
    array = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    assert item_key(VideoFrames(array, fps=1.0)) == item_key({"video": VideoFrames(array.copy(), fps=1.0)})
    with pytest.raises(TypeError, match="no content key for"):
        item_key({"video": object()})


# --------------------------------------------------------------------------- damaged cache files


class FakeEncoder:
    """Deterministic unit vectors per input; inputs containing "bad" fail (a skipped input)."""

    dimension = 4

    def __init__(self):
        self.calls: list[list] = []

    def instruction_for(self, role, instruction):
        return instruction if role == "query" else None

    def cache_settings(self, instruction):
        return {"model": "fake", "instruction": instruction}

    def describe(self):
        return {"encoder": "fake"}

    def encode(self, inputs, instruction=None, batch_size=8, *, role="query", on_error="skip", **kwargs):
        self.calls.append(list(inputs))
        good = [i for i, x in enumerate(inputs) if "bad" not in x]
        vectors = F.normalize(torch.tensor([[len(inputs[i]), 1.0, 2.0, 3.0] for i in good]).reshape(-1, 4), dim=-1)
        skipped = [SkippedInput(index=i, input=x, reason="unreadable") for i, x in enumerate(inputs) if i not in good]
        return EncodeResult(embeddings=vectors, indices=good, errors=skipped)


TEXTS = ["a", "bb", "ccc", "bad one"]


@pytest.fixture()
def filled(tmp_path):
    """A cache holding three vectors (one shard) and one recorded failure."""
    encoder = FakeEncoder()
    result = CachedEncoder(encoder, tmp_path).encode(TEXTS)
    (namespace,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    (keys_file,) = namespace.glob("shard-*.json")
    return {"root": tmp_path, "namespace": namespace, "keys": keys_file, "vectors": keys_file.with_suffix(".safetensors"),
            "result": result}  # fmt: skip


def flip_a_bit(files):
    data = bytearray(files["vectors"].read_bytes())
    data[-1] ^= 0x40  # the exponent of the last float: ~1e37 instead of ~0.5
    files["vectors"].write_bytes(bytes(data))


def reverse_keys(files):
    keys = json.loads(files["keys"].read_text())["keys"]
    files["keys"].write_text(json.dumps({"keys": keys[::-1]}))  # vectors now filed under other inputs


def truncate(files):
    files["vectors"].write_bytes(files["vectors"].read_bytes()[:100])


def empty(files):
    files["vectors"].write_bytes(b"")


def remove_vectors(files):
    files["vectors"].unlink()


def garble_keys(files):
    files["keys"].write_text('{"keys": ["a", ')


def one_key_too_many(files):
    keys = json.loads(files["keys"].read_text())["keys"]
    files["keys"].write_text(json.dumps({"keys": [*keys, "extra"]}))


def old_format(files):
    from safetensors.torch import load_file, save_file

    save_file(load_file(files["vectors"]), files["vectors"])  # no checksum in the metadata


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (flip_a_bit, "checksum mismatch"),
        (reverse_keys, "checksum mismatch"),
        (truncate, "truncated or corrupt"),
        (empty, "empty"),
        (remove_vectors, "missing (its key list"),
        (garble_keys, "is garbled (JSONDecodeError)"),
        (one_key_too_many, "4 keys in shard-"),
        (old_format, "no checksum"),
    ],
)
def test_a_damaged_shard_is_reported_set_aside_and_encoded_again(filled, damage, reason, caplog):
    damage(filled)
    encoder = FakeEncoder()
    cached = CachedEncoder(encoder, filled["root"])
    with caplog.at_level("WARNING", logger="modeling_gve.embedding_cache"):
        result = cached.encode(TEXTS)
    assert encoder.calls == [TEXTS[:3]]  # never trusted: its three inputs are encoded again, the failure is not
    assert torch.equal(result.embeddings, filled["result"].embeddings) and result.indices == [0, 1, 2]
    assert len(cached.problems) == 1 and cached.problems[0].startswith(f"{filled['vectors']}: ")
    assert reason in cached.problems[0] and f"{filled['vectors']}: " in caplog.text
    assert not filled["keys"].exists() and filled["keys"].with_name(filled["keys"].name + ".corrupt").exists()
    assert CachedEncoder(FakeEncoder(), filled["root"]).problems == []  # reported once, then set aside


def test_a_garbled_error_log_keeps_its_good_lines_and_retries_the_rest(filled):
    (errors_file,) = filled["namespace"].glob("errors-*.jsonl")
    errors_file.write_text(errors_file.read_text() + '{"key": "123", "reason": "x"}\n{"key": \n')
    encoder = FakeEncoder()
    cached = CachedEncoder(encoder, filled["root"])
    result = cached.encode(TEXTS)
    assert encoder.calls == []  # the recorded failure is still known; no vector was lost
    assert [e.index for e in result.errors] == [3]
    assert cached.problems == [f"{errors_file}: garbled (line 3); set aside as *.corrupt, its entries will be "
                               "encoded again"]  # fmt: skip
    errors_file.with_name(errors_file.name + ".corrupt").write_text("\x00\xff garbage")
    (filled["namespace"] / "errors-x.jsonl").write_bytes(b"\xff\xfe not text")
    encoder = FakeEncoder()
    cached = CachedEncoder(encoder, filled["root"])
    assert cached.encode(TEXTS).indices == [0, 1, 2] and "errors-x.jsonl: garbled (the file)" in cached.problems[0]


def test_garbled_settings_and_memo_files_are_reported_and_rewritten(filled, media):
    settings = filled["namespace"] / "settings.json"
    settings.write_text('{"model": "fake", ')
    encoder = FakeEncoder()
    cached = CachedEncoder(encoder, filled["root"])
    assert torch.equal(cached.encode(TEXTS).embeddings, filled["result"].embeddings) and encoder.calls == []
    assert cached.problems == [f"{settings}: garbled, or not this folder's settings; written again"]
    assert json.loads(settings.read_text()) == {"model": "fake", "instruction": None}
    memo = filled["root"] / "content-keys.json"
    memo.write_text("{not json")
    cached = CachedEncoder(FakeEncoder(), filled["root"])
    assert cached.problems == [f"{memo}: garbled; every file will be hashed again"]
    cached.encode([{"video": str(media["video"])}])
    assert json.loads(memo.read_text())["version"] == Fingerprints.VERSION
