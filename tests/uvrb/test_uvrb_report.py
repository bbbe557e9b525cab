"""The radar plot leaves the caller's matplotlib alone (no backend switch, no pyplot state)."""

import textwrap

from helpers import REPO, run_python


def test_radar_plot_keeps_the_callers_backend_and_writes_a_png(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys
        import matplotlib
        matplotlib.use("pdf")  # the caller's choice (e.g. a notebook's inline backend)
        from modeling_gve.uvrb.paper import TABLE_2
        from modeling_gve.uvrb.report import radar_plot
        from modeling_gve.uvrb.tasks import ABILITY_COLUMNS
        results = {{"model": "tiny", "aggregate": {{c: TABLE_2["GVE-3B"][c] for c in ABILITY_COLUMNS}}}}
        path = radar_plot(results, {str(tmp_path / "radar.png")!r})
        print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules, open(path, "rb").read(8) == b"\\x89PNG\\r\\n\\x1a\\n")
        """
    )
    assert run_python(code, cwd=tmp_path, pythonpath=str(REPO)).split() == ["pdf", "False", "True"]


def test_the_card_notes_a_frames_protocol_and_a_ranking_that_are_not_the_defaults():
    import sys

    sys.path.insert(0, str(REPO))
    from hub_cards.gve_model import result_notes

    record = {"complete": True, "ranking": "corpus", "ranking_note": "the whole task corpus is ranked"}
    results = {"data": {"data": "Alibaba-NLP/UVRB", "frames": {"protocol": "video", "fps": 1.0}},
               "tasks": {"MS-TI": record, "MSRVTT": {"complete": True}}}  # fmt: skip
    assert result_notes(results, "MSRVTT") is None
    assert result_notes(results, "MS-TI") == "the whole task corpus is ranked"
    results["data"]["frames"] = {"protocol": "uniform", "fps": 1.0, "num_frames": 8}
    assert result_notes(results, "MSRVTT") == "frame folders read with the 'uniform' protocol at 1.0 fps"
