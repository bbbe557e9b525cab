"""The index's store: segment rows through `CachedEncoder` (keys from `item_key`, spans recorded
with a checksum after their vectors), and FAISS / quantized search against exact search."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from modeling_gve.encoders import CachedEncoder, GVEEncoder
from modeling_gve.index.table import Hit, TableRows, VideoIndex, build_faiss, write_table
from modeling_gve.segments import SegmentEncoder


def test_segments_are_cached_as_rows_and_read_back_identically(gve_model, three_clips, tmp_path):
    items = [{"video": str(three_clips["long"])}, {"video": str(three_clips["clips"][0])}]
    encoder = SegmentEncoder(GVEEncoder(gve_model), 10)
    first = CachedEncoder(encoder, tmp_path).encode(items, role="document")
    again = CachedEncoder(encoder, tmp_path)
    second = again.encode(items, role="document")
    assert again.num_encoded == 0 and first.indices == second.indices == [0, 0, 0, 1]
    assert first.spans == second.spans == [(0.0, 10.0), (10.0, 20.0), (20.0, 30.0), (0.0, 10.0)]
    assert torch.equal(first.embeddings, second.embeddings)
    direct = gve_model.encode_segments([i["video"] for i in items], segment_seconds=10)
    torch.testing.assert_close(first.embeddings, torch.cat([v.embeddings for v in direct]), atol=1e-5, rtol=0)
    # another segment length is another namespace; the whole-video encoder another still
    roots = {CachedEncoder(e, tmp_path).store("document").root for e in
             (encoder, SegmentEncoder(GVEEncoder(gve_model), 5), GVEEncoder(gve_model))}  # fmt: skip
    assert len(roots) == 3


@pytest.mark.parametrize("damage", ["span", "vectors"])
def test_a_damaged_segment_record_is_set_aside_and_its_video_encoded_again(
    gve_model, three_clips, tmp_path, damage, caplog
):
    items = [{"video": str(three_clips["long"])}]
    encoder = SegmentEncoder(GVEEncoder(gve_model), 10)
    expected = CachedEncoder(encoder, tmp_path).encode(items, role="document")
    store = CachedEncoder(encoder, tmp_path).store("document").root
    (record,) = store.glob("segments-*.jsonl")
    if damage == "span":  # a changed time: the line's checksum no longer holds
        record.write_text(record.read_text().replace("[10.0, 20.0]", "[10.0, 21.0]"))
    else:  # the vectors the record names are gone
        for shard in store.glob("shard-*"):
            shard.unlink()
    with caplog.at_level("WARNING", logger="modeling_gve.embedding_cache"):
        cached = CachedEncoder(encoder, tmp_path)
        result = cached.encode(items, role="document")
    assert cached.num_encoded == 1 and result.spans == expected.spans
    torch.testing.assert_close(result.embeddings, expected.embeddings, atol=1e-5, rtol=0)
    assert f"{record}: garbled, or naming vectors that are not there (line 1)" in caplog.text
    assert record.with_name(record.name + ".corrupt").exists()


def clustered(n: int, queries: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A corpus of ``n`` rows around ``n // 50`` centres, and queries around the same centres."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(max(1, n // 50), dim))

    def draw(count: int) -> np.ndarray:
        x = centers[rng.integers(0, len(centers), count)] + 0.3 * rng.normal(size=(count, dim))
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    return draw(n), draw(queries)


def recall_at_10(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact)]))


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_faiss_indexes_find_the_exact_neighbours(kind):
    corpus, queries = clustered(3000, 50, 32, 0)
    exact, _ = build_faiss(corpus, "flat")
    approximate, record = build_faiss(corpus, kind)
    assert record["kind"] == kind
    recall = recall_at_10(approximate.search(queries, 10)[1], exact.search(queries, 10)[1])
    assert recall >= 0.95, recall


def test_quantized_search_with_rescoring_keeps_the_neighbours(tmp_path):
    corpus, queries = clustered(2000, 20, 64, 2)
    rows = TableRows([f"v{i // 4}.mp4" for i in range(2000)], ["k"] * 2000, [float(i % 4) for i in range(2000)],
                     [float(i % 4 + 1) for i in range(2000)], corpus)  # fmt: skip
    write_table(
        tmp_path, rows, {"segments": {"seconds": 1.0, "stride": 1.0}, "root": "."}, precisions=("int8", "binary")
    )
    table = VideoIndex.open(tmp_path)
    exact = [[(h.path, h.start) for h in hits] for hits in table.search(queries, 10, moments=True)]
    for precision, floor in (("int8", 0.9), ("binary", 0.75)):  # sentence-transformers rescoring: binary 0.4
        found = [
            [(h.path, h.start) for h in hits] for hits in table.search(queries, 10, moments=True, precision=precision)
        ]
        recall = np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact)])
        assert recall >= floor, (precision, recall)
    videos = table.search(queries[:1], 5)[0]
    assert len({h.path for h in videos}) == 5 and all(isinstance(h, Hit) for h in videos)
    scores = corpus @ queries[0]
    best = {}
    for row, score in enumerate(scores):
        best[rows.paths[row]] = max(best.get(rows.paths[row], -2), float(score))
    assert [Path(h.path).name for h in videos] == sorted(best, key=best.get, reverse=True)[
        :5
    ]  # each video by its best row
    assert json.loads((tmp_path / "gve_index.json").read_text())["quantized"]["binary"]["bytes"] == 2000 * 8


def test_a_table_stages_for_the_hub_as_a_dataset(tmp_path, capsys):
    """`gve hub push-dataset TABLE REPO --dry-run OUT` stages the table (kind ``index``, from its
    gve_index.json): rows, card, record and FAISS index, so a download is searchable."""
    from modeling_gve.cli import main

    corpus, _ = clustered(8, 1, 16, 0)
    rows = TableRows(["a.mp4"] * 4 + ["b.mp4"] * 4, ["k"] * 8, [float(i % 4) for i in range(8)],
                     [float(i % 4 + 1) for i in range(8)], corpus)  # fmt: skip
    write_table(
        tmp_path / "table", rows, {"model": {"model": "m"}, "segments": {"seconds": 1.0, "stride": 1.0}, "root": "."}
    )
    assert main(["hub", "push-dataset", str(tmp_path / "table"), "me/index", "--dry-run", str(tmp_path / "out")]) == 0
    staged = {p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert staged == {
        "README.md",
        "gve_index.json",
        "index.faiss",
        *VideoIndex.open(tmp_path / "table").record["files"],
    }
