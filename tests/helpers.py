"""Helpers shared by the tests (not collected: no ``test_`` prefix; ``tests/`` is on
``sys.path`` because pytest inserts the folder of these test files).

Subprocesses: `run_python` (a fresh interpreter, with or without this checkout),
`BLOCK_PACKAGE` (code that makes ``modeling_gve`` unimportable in it), `subprocess_env` and
`accelerate_launch` (several CPU processes with ``recipes/accelerate/multi_cpu.yaml``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

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


def run_python(code: str, cwd: str | Path, pythonpath: str = "") -> str:
    """Run ``code`` in a fresh offline interpreter with ``PYTHONPATH=pythonpath`` (by default
    nothing of this checkout: only what is installed); fail with its stderr; return its stdout."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": pythonpath}
    cmd = [sys.executable, "-c", code]
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
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
