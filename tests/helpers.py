"""Helpers shared by the tests (not collected: no ``test_`` prefix; ``tests/`` is on
``sys.path`` because pytest inserts the folder of these test files).

Subprocesses: `run_bounded` (every test subprocess: its own process group, killed whole when it
overruns), `run_python` (a fresh interpreter, with or without this checkout), `BLOCK_PACKAGE`
(code that makes ``modeling_gve`` unimportable in it), `subprocess_env`, `accelerate_launch`
(several CPU processes with ``recipes/accelerate/multi_cpu.yaml``) and `started` / `stop` for
servers and processes a test kills.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MULTI_CPU = REPO / "recipes" / "accelerate" / "multi_cpu.yaml"

BLOCK_PACKAGE = textwrap.dedent(
    """
    import importlib.abc, sys
    class _Block(importlib.abc.MetaPathFinder):  # simulate a machine without the gve package
        def find_spec(self, name, path=None, target=None):
            if name == "modeling_gve" or name.startswith("modeling_gve."):
                raise ModuleNotFoundError(f"No module named {name!r}")
    sys.meta_path.insert(0, _Block())
    """
)


def started(cmd: list[str], **kwargs) -> subprocess.Popen:
    """``subprocess.Popen(cmd, **kwargs)`` in a new session, so that `stop` ends it with every process
    it started (launcher workers, Ray daemons, pip's builds)."""
    return subprocess.Popen(cmd, start_new_session=True, **kwargs)


def stop(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to ``process``'s whole process group, then reap it."""
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):  # the group is gone already
        pass
    process.wait(timeout=60)


def run_bounded(cmd: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """``subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)``, except that
    an overrun kills the whole process group and fails the test with the end of its output.

    ``subprocess.run`` kills only the child on a timeout: its children (torchrun workers, Ray
    daemons) would live on, holding cores and memory for the rest of the run."""
    process = started(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(process)
        out, err = process.communicate(timeout=60)
        pytest.fail(f"{' '.join(map(str, cmd))[:300]} did not finish within {timeout} s; its stderr ends:\n{err[-3000:]}")
    finally:
        stop(process)  # what it left running too (or all of it, if the test was interrupted)
    return subprocess.CompletedProcess(cmd, process.returncode, out, err)


def run_python(code: str, cwd: str | Path, pythonpath: str = "") -> str:
    """Run ``code`` in a fresh offline interpreter with ``PYTHONPATH=pythonpath`` (by default
    nothing of this checkout: only what is installed); fail with its stderr; return its stdout."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": pythonpath}
    cmd = [sys.executable, "-c", code]
    result = run_bounded(cmd, timeout=600, cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def subprocess_env(tmp: Path | None = None, **overrides: str) -> dict:
    """Environment of a recipe / CLI subprocess: this checkout (and ``tests/``, for the helpers) first on the path, offline, one
    thread per process, a private datasets cache under ``tmp`` (if given), then ``overrides``."""
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests"), env.get("PYTHONPATH", "")]),
        HF_HUB_OFFLINE="1",
        OMP_NUM_THREADS="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHONFAULTHANDLER="1",  # a crash in native code prints every thread's Python stack
    )
    if tmp is not None:
        env["HF_DATASETS_CACHE"] = str(tmp / "hf-datasets-cache")
    env.update(overrides)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accelerate_launch(*program: str | Path, num_processes: int = 2) -> list[str]:
    """``accelerate launch`` of ``program`` (a script and its arguments, or ``"-m", module, ...``)
    with ``num_processes`` CPU processes: torchrun workers that form a gloo group (see
    ``recipes/accelerate/multi_cpu.yaml``), on a free port so tests can run side by side."""
    return [
        sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(MULTI_CPU),
        "--num_processes", str(num_processes), "--main_process_port", str(free_port()), *map(str, program),
    ]  # fmt: skip
